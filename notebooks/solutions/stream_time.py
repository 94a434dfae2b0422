import time

from tornado.ioloop import PeriodicCallback

from wstutorial import TutorialHandler


class StreamTimeHandler(TutorialHandler):
    """From open on, send the time as "HH:MM:SS" every `interval` seconds; stop on close."""

    interval = 1.0  # seconds

    def open(self):
        self.send_time()
        self.timer = PeriodicCallback(self.send_time, self.interval * 1000)
        self.timer.start()

    def send_time(self):
        self.write_message(time.strftime("%H:%M:%S"))

    def on_close(self):
        self.timer.stop()
