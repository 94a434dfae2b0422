import time

from tornado.ioloop import PeriodicCallback

from wstutorial import TutorialHandler


class StreamTimeHandler(TutorialHandler):
    """From open on, send the time as "HH:MM:SS" every `interval` seconds; stop on close."""

    interval = 1.0  # seconds

    def open(self):
        ...  # your code here: start a PeriodicCallback(self.send_time, self.interval * 1000)

    def send_time(self):
        ...  # your code here: self.write_message(time.strftime("%H:%M:%S"))

    def on_close(self):
        ...  # your code here: stop the PeriodicCallback
