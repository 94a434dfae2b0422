"""Pings from one timer per event loop (RFC 6455 section 5.5.2): ``PingRound``.

Tornado pings each connection from a Task of its own that sleeps between
pings (about 1 kB each) and writes each ping through ``IOStream.write`` (a
Future per connection for the garbage collector). A ``PingRound`` does what
Tornado's ``periodic_ping`` does (a ping every ``ping_interval`` seconds; no
pong within ``ping_timeout``: close with "ping timed out"), for every
connection of one loop with the same settings, from one timer.

Each connection keeps its own schedule, from when it opened: the timer wakes
every tenth of the shorter of interval and timeout (at least every 50 ms)
and pings only the connections that are due, oldest first, so 10,000
clients that connected over a minute are not all pinged (and do not all
answer) in the same moment, which would hold up a broadcast. A dead
connection is closed at most one tick later than Tornado would close it.
"""

from __future__ import annotations

import collections
from typing import Protocol

from tornado.ioloop import IOLoop, PeriodicCallback

__all__ = ["PingMember", "PingRound", "effective_timeout"]


def effective_timeout(interval: float, timeout: float | None) -> float:
    """Seconds to wait for a pong, as Tornado reads ``websocket_ping_timeout``: None means the interval, 0 none, and at most the interval."""
    return interval if timeout is None or timeout > interval else timeout


class PingMember(Protocol):
    """What a round needs of a connection (``tornado_internals.ServerProtocol`` has it)."""

    # When the last ping went out (the loop's clock), whether its pong came, which round pings it.
    pinged_at: float
    pong_received: bool
    pings: PingRound | None

    def send_ping(self) -> bool:
        """Write an empty ping; False if the connection is gone."""
        ...

    def is_closing(self) -> bool: ...

    def close(self, code: int | None = None, reason: str | None = None) -> None: ...


class PingRound:
    """The connections of one event loop pinged every ``interval`` seconds, closed after ``timeout`` without a pong."""

    _rounds: dict[tuple[int, float, float], PingRound] = {}

    def __init__(self, key: tuple[int, float, float], interval: float, timeout: float) -> None:
        self.key = key
        self.interval = interval
        self.timeout = timeout
        self.members: set[PingMember] = set()
        # The members by when they were last pinged, oldest first (each goes to
        # the back when pinged); one that left is dropped when it comes up.
        self.order: collections.deque[PingMember] = collections.deque()
        self.loop = IOLoop.current()
        tick = max(0.05, min(interval, timeout if timeout > 0 else interval) / 10)
        self.timer = PeriodicCallback(self._tick, tick * 1000)
        self.timer.start()

    @classmethod
    def join(cls, member: PingMember, interval: float, timeout: float | None) -> None:
        """Ping ``member`` every ``interval`` seconds from now on, on the current loop.

        ``timeout``: see ``effective_timeout``.
        """
        loop = IOLoop.current()
        key = (id(loop), float(interval), float(effective_timeout(interval, timeout)))
        round_ = cls._rounds.get(key)
        if round_ is None or round_.loop is not loop:
            round_ = cls._rounds[key] = PingRound(key, key[1], key[2])
        member.pinged_at = loop.time()  # as if a ping had been answered just now
        member.pong_received = True
        member.pings = round_
        round_.members.add(member)
        round_.order.append(member)

    def leave(self, member: PingMember) -> None:
        """``member`` closes: no more pings (and no reference to it kept)."""
        member.pings = None
        self.members.discard(member)
        self._stop_if_empty()

    def _stop_if_empty(self) -> None:
        if not self.members:
            self.timer.stop()
            self.order.clear()
            if self._rounds.get(self.key) is self:
                del self._rounds[self.key]

    def _gone(self, member: PingMember) -> bool:
        if member not in self.members:
            return True
        if member.is_closing():
            self.members.discard(member)
            return True
        return False

    def _tick(self) -> None:
        now = self.loop.time()
        order = self.order
        while order:
            member = order[0]
            if self._gone(member):
                order.popleft()
                continue
            if now - member.pinged_at < self.interval:
                break  # the rest were pinged later still
            order.popleft()
            if self.timeout > 0 and not member.pong_received:
                self.members.discard(member)
                member.close(reason="ping timed out")
                continue
            member.pong_received = False
            member.pinged_at = now
            if not member.send_ping():
                self.members.discard(member)
                continue
            order.append(member)
        if 0 < self.timeout < self.interval:
            # Unanswered pings older than the timeout, among those not yet due again.
            late = []
            for member in order:
                if now - member.pinged_at < self.timeout:
                    break
                if not member.pong_received and not self._gone(member):
                    late.append(member)
            for member in late:
                self.members.discard(member)
                member.close(reason="ping timed out")
        self._stop_if_empty()
