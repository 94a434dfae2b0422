from wstutorial import TutorialHandler


class CountClientsHandler(TutorialHandler):
    """Answer every message with the number of clients connected right now, e.g. "2"."""

    connected = set()  # one set for the class: every connection sees the same

    def open(self):
        self.connected.add(self)

    def on_message(self, message):
        self.write_message(str(len(self.connected)))

    def on_close(self):
        self.connected.discard(self)
