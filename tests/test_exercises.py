"""Exercise checks: each passes with its solution file, fails with its starting point, never raises."""

from __future__ import annotations

import re
import runpy
import time
from pathlib import Path

import pytest
from tornado.ioloop import PeriodicCallback

from wstutorial import HelloHandler, TutorialHandler
from wstutorial.teaching.exercises import (
    CheckResult,
    check_count_clients,
    check_stream_time,
    check_upper_case,
)

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"

EXERCISES = [
    ("upper_case", "UpperCaseHandler", check_upper_case),
    ("count_clients", "CountClientsHandler", check_count_clients),
    ("stream_time", "StreamTimeHandler", check_stream_time),
]


def load(folder: str, name: str, class_name: str) -> type:
    """The handler class a notebook gets from '%load <folder>/<name>.py'."""
    return runpy.run_path(str(NOTEBOOKS / folder / f"{name}.py"))[class_name]


@pytest.mark.parametrize(("name", "class_name", "check"), EXERCISES)
def test_solution_passes(name: str, class_name: str, check) -> None:
    """The solution file passes its check, with a sentence saying what was right."""
    result = check(load("solutions", name, class_name))
    assert isinstance(result, CheckResult)
    assert result.passed, result.message
    assert str(result).startswith("Passed: your handler ")
    assert repr(result) == str(result) and "\n" not in str(result)


@pytest.mark.parametrize(("name", "class_name", "check"), EXERCISES)
def test_starting_point_fails(name: str, class_name: str, check) -> None:
    """The empty starting point fails its check with a sentence, not a traceback."""
    result = check(load("exercises", name, class_name))
    assert not result.passed
    assert str(result).startswith("Not yet: no answer within")
    assert "Traceback" not in result.message


@pytest.mark.parametrize("check", [check_upper_case, check_count_clients, check_stream_time])
@pytest.mark.parametrize(
    ("thing", "expected"),
    [
        ("UpperCaseHandler", "expected a handler class"),
        (int, "int is not a WebSocket handler"),
        (None, "expected a handler class"),
    ],
)
def test_not_a_handler(check, thing: object, expected: str) -> None:
    """Passing something that is not a handler class says so."""
    result = check(thing)
    assert not result.passed and expected in result.message


class Shouter(TutorialHandler):
    def on_message(self, message):
        raise ValueError("boom")


class Parrot(HelloHandler):
    """Says Hello World on open (allowed), then repeats instead of shouting."""

    def on_message(self, message):
        self.write_message(message)


class Shouting(HelloHandler):
    """Says Hello World on open (allowed), then shouts: passes."""

    def on_message(self, message):
        self.write_message(message.upper())


def test_upper_case_explains_mistakes() -> None:
    """A handler that raises is reported with its exception; an echo is told to use .upper()."""
    raised = check_upper_case(Shouter)
    assert not raised.passed
    assert "ValueError('boom')" in raised.message
    parrot = check_upper_case(Parrot)
    assert not parrot.passed
    assert "expected 'HELLO WEBSOCKETS' (same text: call .upper() on it)" in parrot.message
    assert check_upper_case(Shouting).passed, "a Hello World greeting is allowed"


def test_instance_instead_of_class() -> None:
    """An instance (not the class) is named."""

    class Fake(TutorialHandler):
        def __init__(self) -> None:  # an instance without a request
            pass

    result = check_upper_case(Fake())
    assert not result.passed and "pass the class itself (Fake)" in result.message


class NeverForgets(TutorialHandler):
    connected: set = set()

    def open(self):
        self.connected.add(self)

    def on_message(self, message):
        self.write_message(f"{len(self.connected)} clients")


class AlwaysOne(TutorialHandler):
    def on_message(self, message):
        self.write_message("1")


def test_count_clients_explains_mistakes() -> None:
    """Forgetting on_close and not counting at all are each explained."""
    stale = check_count_clients(NeverForgets)
    assert not stale.passed and "remove the handler from your set in on_close" in stale.message
    one = check_count_clients(AlwaysOne)
    assert not one.passed and "with two clients connected" in one.message and "expected 2" in one.message


class NeverStops(TutorialHandler):
    interval = 1.0

    def open(self):
        PeriodicCallback(lambda: self.write_message(time.strftime("%H:%M:%S")), self.interval * 1000).start()


class WrongFormat(TutorialHandler):
    interval = 1.0

    def open(self):
        self.timer = PeriodicCallback(lambda: self.write_message(str(time.time())), self.interval * 1000)
        self.timer.start()

    def on_close(self):
        self.timer.stop()


def test_stream_time_explains_mistakes() -> None:
    """A stream that goes on after the client left, and a wrong time format, are each explained."""
    forever = check_stream_time(NeverStops)
    assert not forever.passed and "after the client left" in forever.message and "on_close" in forever.message
    wrong = check_stream_time(WrongFormat)
    assert not wrong.passed and "send the time as HH:MM:SS" in wrong.message


class FixedMilliseconds(TutorialHandler):
    interval = 1.0

    def open(self):
        self.timer = PeriodicCallback(lambda: self.write_message(time.strftime("%H:%M:%S")), 1000)
        self.timer.start()

    def on_close(self):
        self.timer.stop()


def test_stream_time_checks_the_timing() -> None:
    """A timer of a fixed 1000 ms ignores self.interval (0.1 s in the check): too slow, and said so."""
    result = check_stream_time(FixedMilliseconds)
    # The gap is measured: about 1 s (0.99 on a busy machine).
    assert re.match(r"Not yet: your handler sent messages (1|0\.9\d|1\.0\d) s apart instead of every self\.interval seconds \(0\.1 s here\)", str(result)), result
