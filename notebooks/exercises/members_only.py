from tornado.web import HTTPError

from wstutorial import TutorialHandler


class MembersOnlyHandler(TutorialHandler):
    """Only for logged-in users: greet them with "Hello <name>"; refuse everyone else with 401.

    The login page set a signed cookie "wstutorial_user" holding the name:
    self.get_signed_cookie("wstutorial_user") gives it (bytes), or None when
    it is missing, changed or forged.
    """

    def get_current_user(self):
        ...  # your code here: the name from the signed cookie, as text, or None

    def prepare(self):
        super().prepare()  # the tutorial's own checks
        ...  # your code here: no current user? raise HTTPError(401) (before the upgrade)

    def open(self):
        self.write_message(f"Hello {self.current_user}")
