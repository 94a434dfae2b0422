"""A quiet server (``quiet=True``): log messages of Tornado and asyncio from its thread go to its event log, not to the log handlers."""

from __future__ import annotations

import logging
import threading

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as websockets_connect

import wstutorial
from wstutorial.events import EventLog
from wstutorial.server.handlers import TutorialHandler
from wstutorial.server.quietlog import QUIET_LOGGERS, quiet_thread, release_thread


class Exploding(TutorialHandler):
    """Raises on every message: Tornado logs the traceback with tornado.application."""

    def on_message(self, message: str | bytes) -> None:
        raise ValueError(f"bad input {message!r}")


def tornado_records(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The messages the log handlers got from the loggers a quiet server keeps to itself."""
    return [record.getMessage() for record in caplog.records if record.name in QUIET_LOGGERS]


def explode(server: wstutorial.TutorialServer) -> None:
    """Send one message to /boom and read until the server closes the connection (1011)."""
    with websockets_connect(server.ws_url("/boom"), open_timeout=10) as client:
        client.send("x")
        with pytest.raises(ConnectionClosed):
            client.recv(timeout=10)
        assert client.close_code == 1011


def test_a_handlers_traceback_stays_out_of_the_log_of_a_quiet_server(caplog: pytest.LogCaptureFixture) -> None:
    """quiet=True: one error event, no "Uncaught exception" for the log handlers; without it Tornado's record reaches them."""
    with wstutorial.start_server(port=0, handlers={"/boom": Exploding}, quiet=True) as quiet:
        explode(quiet)
        assert [event.text for event in quiet.events.snapshot() if event.kind == "error"] == ["error in Exploding: ValueError(\"bad input 'x'\")"]
    assert tornado_records(caplog) == []
    with wstutorial.start_server(port=0, handlers={"/boom": Exploding}) as loud:
        explode(loud)
    assert any(text.startswith("Uncaught exception") for text in tornado_records(caplog))


def test_other_messages_of_its_thread_become_one_error_event_each(caplog: pytest.LogCaptureFixture) -> None:
    """A warning's first line, an error with its exception's repr; the same loggers used from another thread still reach the handlers."""
    with wstutorial.start_server(port=0, quiet=True) as server:
        after = server.events.next_seq
        server.call(lambda: logging.getLogger("tornado.general").warning("odd frame\nsecond line"))
        server.call(lambda: logging.getLogger("asyncio").error("task failed", exc_info=OSError("socket gone")))
        errors = [event.text for event in server.events.snapshot(after) if event.kind == "error"]
        assert errors == ["odd frame", "task failed: OSError('socket gone')"]
        assert tornado_records(caplog) == []
        logging.getLogger("tornado.general").warning("from the test's thread")
        assert tornado_records(caplog) == ["from the test's thread"]


def test_a_released_thread_logs_as_usual_again(caplog: pytest.LogCaptureFixture) -> None:
    """quiet_thread, then release_thread on a running thread: its first record goes to the event log, its second to the handlers."""
    events = EventLog()
    registered, first_logged, released = threading.Event(), threading.Event(), threading.Event()

    def run() -> None:
        registered.wait(10)
        logging.getLogger("tornado.general").warning("while quiet")
        first_logged.set()
        released.wait(10)
        logging.getLogger("tornado.general").warning("after release")

    thread = threading.Thread(target=run, name="quiet-test")
    with pytest.raises(RuntimeError, match=r"^the thread quiet-test is not started: start it before quiet_thread\(\)$"):
        quiet_thread(thread, events)
    thread.start()
    try:
        quiet_thread(thread, events)
        registered.set()
        assert first_logged.wait(10)
    finally:
        release_thread(thread)
        registered.set()
        released.set()
        thread.join(10)
    assert events.texts() == ["while quiet"]
    assert tornado_records(caplog) == ["after release"]

