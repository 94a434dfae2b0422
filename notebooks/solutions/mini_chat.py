from wstutorial import TutorialHandler


class MiniChatHandler(TutorialHandler):
    """A chat room in a few lines: each message reaches every client as "<name>: <text>".

    Clients connect to /exercise?name=Ada; self.get_argument("name") gives the name.
    """

    room = set()  # one set for the class: every connection sees the same

    def open(self):
        self.nickname = self.get_argument("name", "someone")
        self.room.add(self)

    def on_message(self, message):
        for client in self.room:
            client.write_message(f"{self.nickname}: {message}")

    def on_close(self):
        self.room.discard(self)
