from wstutorial import TutorialHandler


class MiniChatHandler(TutorialHandler):
    """A chat room in a few lines: each message reaches every client as "<name>: <text>".

    Clients connect to /exercise?name=Ada; self.get_argument("name") gives the name.
    """

    room = set()  # one set for the class: every connection sees the same

    def open(self):
        ...  # your code here: remember the name, and this connection

    def on_message(self, message):
        ...  # your code here: send "<name>: <message>" to every connection in the room

    def on_close(self):
        ...  # your code here: forget this connection
