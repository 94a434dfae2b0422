from wstutorial import TutorialHandler


class CountClientsHandler(TutorialHandler):
    """Answer every message with the number of clients connected right now, e.g. "2"."""

    connected = set()  # one set for the class: every connection sees the same

    def open(self):
        ...  # your code here: remember this connection

    def on_message(self, message):
        ...  # your code here: answer with the count, as text

    def on_close(self):
        ...  # your code here: forget this connection
