"""Part 2 of the tutorial: push ``message: <n>`` to every client on a timer.

As in the original, the sending task starts with the first client and ends
with the last; a client that fails is dropped without disturbing the others.
Runs on the server's loop only.
"""

from __future__ import annotations

import asyncio

from ..events import EventKind
from .frames import FrameBatch
from .hub import Connection, Hub

__all__ = ["Stream", "stream_message", "MAX_BURST"]

# At most this many messages per wake-up of the stream, so one burst never
# holds the server's loop for long (about a millisecond). A burst is also
# never longer than the hub's max_pending_writes: the hub sends a client at
# most that many messages at once, so a longer burst (after the loop stalled
# on a loaded machine) would skip numbers for a client that keeps up.
MAX_BURST = 256


def stream_message(n: int) -> str:
    """The text of the stream's n-th message, exactly as the original sent it."""
    return f"message: {n}"


class Stream:
    """A counter broadcast every ``interval`` seconds to the clients that joined."""

    def __init__(self, hub: Hub, interval: float) -> None:
        if not interval > 0:
            raise ValueError(f"interval must be a positive number of seconds, got {interval!r}")
        self.hub = hub
        self.interval = float(interval)
        self.clients: set[Connection] = set()
        self.sent = 0  # messages produced since the server started
        self.paused = False  # set by pause(): the teacher stopped the stream for everyone
        self._task: asyncio.Task[None] | None = None

    @property
    def max_burst(self) -> int:
        """The most messages one wake-up sends: MAX_BURST, or fewer if the hub sends fewer at once."""
        return max(1, min(MAX_BURST, self.hub.max_pending_writes))

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def join(self, handler: Connection) -> None:
        self.clients.add(handler)
        if not self.running:
            self._task = asyncio.get_running_loop().create_task(self._run())
            self.hub.events.record("stream started", kind=EventKind.STREAM, path="/streaming")

    def leave(self, handler: Connection) -> None:
        self.clients.discard(handler)
        if not self.clients and self.running:
            assert self._task is not None
            self._task.cancel()
            self._task = None
            self.hub.events.record("stream stopped: no clients left", kind=EventKind.STREAM, path="/streaming")

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    def pause(self) -> bool:
        """Stop sending to everyone (clients stay connected); False if already paused."""
        if self.paused:
            return False
        self.paused = True
        self.hub.events.record("stream paused for everyone", kind=EventKind.STREAM, path="/streaming")
        return True

    def resume(self) -> bool:
        """Send again, counting on from where it paused; False if not paused."""
        if not self.paused:
            return False
        self.paused = False
        self.hub.events.record("stream resumed for everyone", kind=EventKind.STREAM, path="/streaming")
        return True

    async def _run(self) -> None:
        # Keeps the rate 1/interval without drift: each wake-up sends every
        # message due by now (at least one), built into frames once for all
        # clients. An interval shorter than a loop turn thus still gives its
        # rate, in bursts; a stream that falls behind (more than max_burst
        # due, e.g. after its loop stalled) forgives the lag instead of
        # flooding to catch up: it goes on with the next number, none skipped.
        loop = asyncio.get_running_loop()
        start = loop.time()
        n = 0
        while self.clients:
            if self.paused:
                await asyncio.sleep(self.interval)
                # Resume on the beat, without a burst for the time spent paused.
                start = loop.time() - n * self.interval
                continue
            due = int((loop.time() - start) / self.interval) + 1 - n
            count = min(max(due, 1), self.max_burst)
            batch = FrameBatch([stream_message(i) for i in range(n, n + count)])
            for handler in list(self.clients):
                self.hub.send_frames(handler, batch)
            n += count
            self.sent += count
            if due > self.max_burst:
                start = loop.time() - n * self.interval
            await asyncio.sleep(max(0.0, start + n * self.interval - loop.time()))
