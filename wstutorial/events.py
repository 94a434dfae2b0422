"""A thread-safe log of what the server did, for notebooks, scripts and tests.

The server thread never prints (which cell shows a background thread's output
depends on the ipykernel version); it records events here instead. Readers in
other threads take snapshots, wait for an event, or follow the log.
"""

from __future__ import annotations

import collections
import dataclasses
import enum
import logging
import threading
import time
from typing import Callable, Iterator

__all__ = ["Event", "EventKind", "EventLog"]

logger = logging.getLogger("wstutorial")
# A library never prints on its own: without these, Python's last-resort
# handler writes Tornado's and our warnings to stderr from the server thread,
# which lands in random notebook cells. Configure logging to see them.
logger.addHandler(logging.NullHandler())
logging.getLogger("tornado").addHandler(logging.NullHandler())


class EventKind(enum.StrEnum):
    """What an event is about: every kind the package records, in one place.

    A ``StrEnum``: ``event.kind == "error"`` is true for ``EventKind.ERROR``,
    and a kind crosses into another process (a worker's JSON line) as its text.
    """

    # A WebSocket connection, as the original tutorial printed it.
    OPEN = "open"  # new connection (also a reconnecting client's)
    MESSAGE = "message"  # message received
    CLOSE = "close"  # connection closed, or a client that left
    # Refusals and failures.
    ERROR = "error"  # a handler raised, a close for a broken rule, a lost service
    ORIGIN = "origin"  # a page from another origin, or another Host (403)
    HTTP = "http"  # a plain HTTP answer worth seeing (404, a bad handshake)
    AUTH = "auth"  # a login that was required and missing (401)
    PROTOCOL = "protocol"  # a JSON message that breaks the protocol (notebook 07)
    LIMIT = "limit"  # max_connections reached: new connections get 503
    SLOW = "slow"  # a client that does not read: messages to it are dropped
    # The server and what runs beside it.
    SERVER = "server"  # listening, stopped, moved to another port, a worker's life
    STREAM = "stream"  # /streaming started, stopped, paused, resumed
    RELAY = "relay"  # Redis: subscribed, a broadcast passed on
    # A reconnecting client (reconnect.py).
    CONNECTING = "connecting"
    RETRY = "retry"
    GIVE_UP = "give up"
    # What a handler records without saying (self.record("...")).
    INFO = "info"


@dataclasses.dataclass(frozen=True)
class Event:
    """One thing that happened on the server.

    ``seq`` counts events from 0 in the order they were recorded; ``kind``
    says what it is about (:class:`EventKind`); ``text`` is the sentence the
    original tutorial printed.
    """

    seq: int
    time: float
    kind: EventKind
    client: str
    path: str
    text: str

    def __str__(self) -> str:
        stamp = time.strftime("%H:%M:%S", time.localtime(self.time))
        who = f" [{self.client}]" if self.client else ""
        return f"{stamp}{who} {self.text}"


Subscriber = Callable[[Event], None]


class EventLog:
    """Bounded, thread-safe event log.

    Keeps the newest ``maxlen`` events; ``seq`` numbers keep counting, so a
    reader that remembers the last ``seq`` it saw never reads an event twice.
    """

    def __init__(self, maxlen: int = 10_000) -> None:
        if maxlen < 1:
            raise ValueError(f"maxlen must be at least 1, got {maxlen}")
        self._events: collections.deque[Event] = collections.deque(maxlen=maxlen)
        self._condition = threading.Condition()
        self._next_seq = 0
        self._subscribers: list[Subscriber] = []

    def record(self, text: str, *, kind: EventKind = EventKind.INFO, client: str = "", path: str = "") -> Event:
        """Add an event; wakes waiters and calls subscribers (in this thread).

        The same order as a handler's ``self.record(text, kind=...)``.
        """
        kind = EventKind(kind)  # also from a worker's JSON line; an unknown kind raises ValueError here
        with self._condition:
            event = Event(self._next_seq, time.time(), kind, client, path, text)
            self._next_seq += 1
            self._events.append(event)
            subscribers = list(self._subscribers)
            self._condition.notify_all()
        logger.info("%s %s", client or "-", text)
        for subscriber in subscribers:
            try:
                subscriber(event)
            except Exception:  # a broken reader must not break the server
                logger.exception("event subscriber %r failed", subscriber)
        return event

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(event)`` for every new event; returns an unsubscribe function.

        The callback runs in the thread that records the event (usually the
        server's), so it must be quick and thread-safe, e.g. append to a queue.
        """
        with self._condition:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._condition:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    @property
    def next_seq(self) -> int:
        """The ``seq`` the next event will get: pass it as ``after`` to wait for new events only."""
        with self._condition:
            return self._next_seq

    def snapshot(self, after: int = 0) -> list[Event]:
        """The kept events whose ``seq`` is at least ``after``, oldest first."""
        with self._condition:
            return [event for event in self._events if event.seq >= after]

    def texts(self, after: int = 0) -> list[str]:
        """Just the texts of :meth:`snapshot`, handy in tests and notebooks."""
        return [event.text for event in self.snapshot(after)]

    def find(self, text: str, after: int = 0, *, kind: str | None = None) -> Event | None:
        """The first kept event at or after ``after`` whose text contains ``text``."""
        for event in self.snapshot(after):
            if text in event.text and (kind is None or event.kind == kind):
                return event
        return None

    def wait_for(
        self,
        text: str,
        timeout: float = 5.0,
        *,
        after: int = 0,
        kind: str | None = None,
        client: str | None = None,
    ) -> Event:
        """Block until an event whose text contains ``text`` is recorded (of ``kind``, about ``client``, if given).

        Searches events from ``after`` on (by default the whole log), so an
        event that already happened is found at once. Raises ``TimeoutError``
        naming the text and the last events seen.
        """
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                for event in self._events:
                    if (
                        event.seq >= after
                        and text in event.text
                        and (kind is None or event.kind == kind)
                        and (client is None or event.client == client)
                    ):
                        return event
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    recent = [e.text for e in list(self._events)[-5:]]
                    raise TimeoutError(
                        f"no event containing {text!r} within {timeout} s; last events: {recent}"
                    )
                self._condition.wait(remaining)

    def follow(self, after: int = 0, poll: float = 0.5) -> Iterator[Event]:
        """Yield events forever as they come (for a command line's main thread).

        Wakes at least every ``poll`` seconds so Ctrl-C is handled promptly.
        """
        position = after
        while True:
            with self._condition:
                fresh = [event for event in self._events if event.seq >= position]
                if not fresh:
                    self._condition.wait(poll)
                    continue
            yield from fresh
            position = fresh[-1].seq + 1

    def clear(self) -> None:
        """Forget the kept events (``seq`` keeps counting)."""
        with self._condition:
            self._events.clear()

    def __len__(self) -> int:
        with self._condition:
            return len(self._events)

    def __repr__(self) -> str:
        return f"<EventLog {len(self)} events, next seq {self.next_seq}>"
