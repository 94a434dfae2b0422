from wstutorial import TutorialHandler


class UpperCaseHandler(TutorialHandler):
    """Answer every message with the same text in upper case ("hi" -> "HI")."""

    def on_message(self, message):
        self.write_message(message.upper())
