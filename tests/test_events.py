"""The event log: what the server records instead of printing."""

from __future__ import annotations

import threading
import time

import pytest

from wstutorial.events import EventKind, EventLog


def test_record_and_snapshot_keep_order() -> None:
    """Events come back oldest first, with increasing seq numbers."""
    log = EventLog()
    log.record("new connection", kind=EventKind.OPEN, client="client-1")
    log.record("message received hi", kind=EventKind.MESSAGE, client="client-1")
    assert log.texts() == ["new connection", "message received hi"]
    assert [event.seq for event in log.snapshot()] == [0, 1]
    assert log.snapshot(after=1)[0].text == "message received hi"
    assert "client-1" in str(log.snapshot()[0])


def test_bounded_log_keeps_counting() -> None:
    """Only the newest maxlen events are kept; seq never restarts."""
    log = EventLog(maxlen=3)
    for n in range(10):
        log.record(f"event {n}")
    assert log.texts() == ["event 7", "event 8", "event 9"]
    assert log.next_seq == 10
    with pytest.raises(ValueError, match="maxlen"):
        EventLog(maxlen=0)


def test_wait_for_wakes_when_another_thread_records() -> None:
    """wait_for blocks until a matching event arrives from another thread."""
    log = EventLog()
    threading.Timer(0.05, log.record, args=("connection closed",), kwargs={"kind": EventKind.CLOSE}).start()
    event = log.wait_for("connection closed", timeout=5)
    assert event.kind is EventKind.CLOSE and event.kind == "close"


def test_wait_for_after_ignores_older_events() -> None:
    """With after=next_seq, an event that already happened does not count."""
    log = EventLog()
    log.record("connection closed", kind=EventKind.CLOSE)
    mark = log.next_seq
    with pytest.raises(TimeoutError, match="connection closed"):
        log.wait_for("connection closed", timeout=0.05, after=mark)
    assert log.wait_for("connection closed", timeout=0.05).seq == 0


def test_wait_for_one_client() -> None:
    """client= waits for that client's event, not another's."""
    log = EventLog()
    log.record("connection closed", kind=EventKind.CLOSE, client="client-1")
    with pytest.raises(TimeoutError):
        log.wait_for("connection closed", timeout=0.05, client="client-2")
    log.record("connection closed", kind=EventKind.CLOSE, client="client-2")
    assert log.wait_for("connection closed", timeout=0.05, client="client-2").seq == 1


def test_subscriber_gets_every_event_and_can_unsubscribe() -> None:
    """Subscribers see each new event once; a failing subscriber breaks nothing."""
    log = EventLog()
    seen: list[str] = []
    unsubscribe = log.subscribe(lambda event: seen.append(event.text))
    log.subscribe(lambda event: 1 / 0)
    log.record("one")
    unsubscribe()
    log.record("two")
    assert seen == ["one"]
    assert log.texts() == ["one", "two"]


def test_follow_yields_new_events() -> None:
    """follow() yields events as they are recorded."""
    log = EventLog()
    log.record("before")
    threading.Timer(0.05, log.record, args=("later",)).start()
    follower = log.follow(after=log.next_seq, poll=0.01)
    start = time.monotonic()
    assert next(follower).text == "later"
    assert time.monotonic() - start < 5


def test_kinds_are_one_enum_and_the_text_comes_first() -> None:
    """record(text, kind=...) as a handler's self.record; a kind given as text becomes the EventKind, an unknown one raises."""
    log = EventLog()
    assert log.record("hello").kind is EventKind.INFO
    assert log.record("from a worker's JSON line", kind="give up").kind is EventKind.GIVE_UP  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'opened' is not a valid EventKind"):
        log.record("new connection", kind="opened")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        log.record("open", "new connection")  # type: ignore[misc]  # the old order
