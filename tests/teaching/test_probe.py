"""The probe around a student's handler class, served by a real server: what it notes, and the sentence it picks."""

from __future__ import annotations

import contextlib
import datetime
from typing import Iterator

import pytest
from tornado.web import HTTPError
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect as websockets_connect

import wstutorial
from helpers import poll_until
from wstutorial.teaching.probe import Probe
from wstutorial.teaching.selfcheck import NotYet


@contextlib.contextmanager
def served(probe: Probe) -> Iterator[str]:
    """The probe's watched class at /exercise on a quiet server of its own, as a check serves it; yields its address."""
    server = wstutorial.start_server("127.0.0.1", 0, handlers={"/exercise": probe.watched}, ping_interval=None, quiet=True)
    try:
        yield server.ws_url("/exercise")
    finally:
        server.stop()


class Silent(wstutorial.TutorialHandler):
    def on_message(self, message: str) -> None:
        self.record(f"got {message}")  # and sends nothing


class Answers(wstutorial.TutorialHandler):
    def on_message(self, message: str) -> None:
        self.write_message(message.upper())


class SendsANumber(wstutorial.TutorialHandler):
    def on_message(self, message: str) -> None:
        self.write_message(len(message))  # type: ignore[arg-type]


def test_silent_since_tells_a_handler_that_will_not_answer_from_one_that_did() -> None:
    """on_message returned without writing: silent once handled; a handler that answered never is."""
    probe = Probe(Silent, "Silent")
    with served(probe) as url, websockets_connect(url, open_timeout=5) as websocket:
        mark = probe.mark()
        assert mark == (0, 0) and not probe.silent_since(mark, grace=0.0)
        websocket.send("hello")
        poll_until(lambda: probe.silent_since(mark, grace=0.05), timeout=5)
        assert probe.mark() == (1, 0) and not probe.found_cause()
    answering = Probe(Answers, "Answers")
    with served(answering) as url, websockets_connect(url, open_timeout=5) as websocket:
        mark = answering.mark()
        websocket.send("hello")
        assert websocket.recv(timeout=5) == "HELLO"
        poll_until(lambda: answering.mark() == (1, 1), timeout=5)
        assert not answering.silent_since(mark, grace=0.0)
        assert answering.explain(None) is None


def test_a_number_given_to_write_message_is_the_cause_at_once() -> None:
    """write_message(len(...)): the probe knows the cause (no waiting), and explain says to send text, with the hint."""
    probe = Probe(SendsANumber, "CountHandler", message_hint="send str(len(...))")
    with served(probe) as url, websockets_connect(url, open_timeout=5) as websocket:
        mark = probe.mark()
        websocket.send("four")
        poll_until(probe.found_cause, timeout=5)
        assert probe.silent_since(mark, grace=60.0)
    assert probe.explain(NotYet("no answer within 3 s", generic=True)) == (
        "write_message got the number 4, not text: send str(len(...))"
    )


class Divides(wstutorial.TutorialHandler):
    async def on_message(self, message: str) -> None:
        self.write_message(str(100 / len(message.strip())))


class MembersOnly(wstutorial.TutorialHandler):
    def prepare(self) -> None:
        raise HTTPError(401)


def test_the_students_exception_replaces_only_a_sentence_that_knows_no_cause() -> None:
    """An exception in a (coroutine) on_message is noted by method and line; it is said instead of a generic sentence only."""
    probe = Probe(Divides, "Divides")
    with served(probe) as url, websockets_connect(url, open_timeout=5) as websocket:
        websocket.send("   ")
        poll_until(lambda: bool(probe.raised), timeout=5)
    (raised,) = probe.raised
    assert (raised.kind, raised.function, raised.code) == (
        "ZeroDivisionError", "on_message", "self.write_message(str(100 / len(message.strip())))"
    )
    sentence = raised.sentence()
    assert sentence.startswith("your on_message stopped with ZeroDivisionError at line ")
    assert probe.explain(NotYet("no answer within 3 s", generic=True)) == sentence
    assert probe.explain(TimeoutError()) == sentence
    assert probe.explain(NotYet("the answer was 'x', expected 'X'")) is None


def test_a_refusal_the_handler_chose_is_not_a_mistake() -> None:
    """HTTPError(401) raised in prepare refuses the connection, and the probe notes nothing to blame."""
    probe = Probe(MembersOnly, "MembersOnly")
    with served(probe) as url, pytest.raises(InvalidStatus) as refused:
        websockets_connect(url, open_timeout=5)
    assert refused.value.response.status_code == 401
    assert probe.raised == [] and probe.explain(NotYet("no answer within 3 s", generic=True)) is None


def test_misnamed_hooks_count_only_when_the_real_hook_is_missing() -> None:
    """on_mesage beside on_message is a helper, not a typo; on_mesage alone is named with the hook to call it."""

    class Typo(wstutorial.TutorialHandler):
        def on_mesage(self, message: str) -> None:
            pass

    class Helper(Typo):
        def on_message(self, message: str) -> None:
            self.on_mesage(message)

    assert Probe(Typo, "Typo").misnamed() == ["Tornado never calls a method named on_mesage: name it on_message"]
    assert Probe(Helper, "Helper").misnamed() == []


def test_state_set_on_the_class_is_named_unless_it_is_a_count_or_a_collection() -> None:
    """After a run that passed, an object put on the class makes it 'Not yet'; a number or a set kept there on purpose does not."""

    class ClockHandler(wstutorial.TutorialHandler):
        def on_message(self, message: str) -> None:
            pass

    probe = Probe(ClockHandler, "ClockHandler")
    ClockHandler.connections = 3  # type: ignore[attr-defined]
    ClockHandler.names = {"Ada"}  # type: ignore[attr-defined]
    assert probe.class_state_set() == [] and probe.explain(None) is None
    ClockHandler.started = datetime.datetime(2024, 1, 1)  # type: ignore[attr-defined]
    expected = (
        "ClockHandler.started was set on the class, so every connection shares one (a datetime object): "
        "keep it on the connection, self.started = ..."
    )
    assert probe.class_state_set() == [expected]
    assert probe.explain(None) == expected
