from wstutorial.server.jsonproto import JsonHandler, ProtocolError


class AddHandler(JsonHandler):
    """The /json protocol plus one type: {"type": "add", "numbers": [1, 2, 3.5]} -> {"type": "sum", "value": 6.5}.

    An item of "numbers" that is not a number: raise ProtocolError("a sentence"),
    and the sender gets {"type": "error", "error": "a sentence"}.
    """

    fields = {**JsonHandler.fields, "add": {"numbers": list}}

    def handle_add(self, message):
        for item in message["numbers"]:
            # JSON's true and false are not numbers, though Python's bool is an int.
            if isinstance(item, bool) or not isinstance(item, (int, float)):
                raise ProtocolError(f'"numbers" may hold numbers only, got {item!r}')
        return {"type": "sum", "value": sum(message["numbers"])}
