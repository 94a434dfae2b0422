from wstutorial.server.jsonproto import JsonHandler, ProtocolError


class AddHandler(JsonHandler):
    """The /json protocol plus one type: {"type": "add", "numbers": [1, 2, 3.5]} -> {"type": "sum", "value": 6.5}.

    An item of "numbers" that is not a number: raise ProtocolError("a sentence"),
    and the sender gets {"type": "error", "error": "a sentence"}.
    """

    fields = {**JsonHandler.fields}  # your code here: add the "add" type and its field

    def handle_add(self, message):
        ...  # your code here: check every item, return the "sum" reply
