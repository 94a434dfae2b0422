"""Fold many small updates from any thread into a few batches on one event loop.

Widgets must be updated from the kernel's own thread, and not too often:
jupyter_server drops IOPub messages above 1000 per second, silently
desynchronising widgets, and a ``Textarea`` resends its whole value on each
change. So updates (server events, received messages) go into a bounded
queue from whatever thread produces them, and are applied together on the
kernel's loop about ten times per second.

No ipywidgets here: the batcher only calls the function it is given.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import threading
import time
from typing import Callable, Generic, TypeVar

__all__ = ["UpdateBatcher", "DEFAULT_INTERVAL", "DEFAULT_MAXLEN", "running_loop"]

T = TypeVar("T")

logger = logging.getLogger("wstutorial")

# About ten widget updates per second: smooth to the eye, far below the
# IOPub rate limit even with several widgets on the page.
DEFAULT_INTERVAL = 0.1
DEFAULT_MAXLEN = 1000


def running_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop running in this thread (a kernel's cell has one), or None."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class UpdateBatcher(Generic[T]):
    """A thread-safe, bounded queue whose items are applied in batches on one loop.

    ``put(item)`` may be called from any thread. On the loop that was running
    when the batcher was made (or ``loop=``), ``apply(items, dropped)`` is
    called with everything queued since the last batch, at most once per
    ``interval`` seconds. When more than ``maxlen`` items wait, the oldest
    are dropped and counted in ``dropped``, so memory stays bounded however
    fast items come.

    Without a loop (a plain script or test), nothing is scheduled: call
    :meth:`flush` yourself.

    Args:
        apply: called with ``(items, dropped)``: the queued items, oldest
            first, and how many older ones were dropped since the last batch.
        interval: least time in seconds between two batches.
        maxlen: most items kept waiting.
        loop: the loop to apply batches on; default: the running loop, if any.
    """

    def __init__(
        self,
        apply: Callable[[list[T], int], None],
        *,
        interval: float = DEFAULT_INTERVAL,
        maxlen: int = DEFAULT_MAXLEN,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        if not interval >= 0:
            raise ValueError(f"interval must be a number of seconds, 0 or more, got {interval!r}")
        if not isinstance(maxlen, int) or maxlen < 1:
            raise ValueError(f"maxlen must be a whole number of at least 1, got {maxlen!r}")
        self._apply = apply
        self.interval = float(interval)
        self.maxlen = maxlen
        self.loop = loop if loop is not None else running_loop()
        self._items: collections.deque[T] = collections.deque(maxlen=maxlen)
        self._lock = threading.Lock()
        self._dropped = 0
        self._scheduled = False
        self._closed = False
        self._last_flush = float("-inf")
        self.received = 0  # items put, ever
        self.dropped = 0  # items dropped, ever
        self.batches = 0  # calls of apply, ever

    @property
    def pending(self) -> int:
        """How many items wait for the next batch."""
        with self._lock:
            return len(self._items)

    @property
    def closed(self) -> bool:
        return self._closed

    def put(self, item: T) -> None:
        """Queue ``item`` (from any thread); it is applied with the next batch."""
        with self._lock:
            if self._closed:
                return
            if len(self._items) == self.maxlen:
                self._dropped += 1
                self.dropped += 1
            self._items.append(item)
            self.received += 1
            if self._scheduled or self.loop is None:
                return
            self._scheduled = True
        try:
            # The one thread-safe way into an event loop.
            self.loop.call_soon_threadsafe(self._arm)
        except RuntimeError:  # the loop is closed: nothing will apply batches any more
            with self._lock:
                self._scheduled = False

    def _arm(self) -> None:
        """On the loop: apply the batch now, or once ``interval`` has passed since the last one."""
        assert self.loop is not None
        delay = max(0.0, self._last_flush + self.interval - time.monotonic())
        self.loop.call_later(delay, self._scheduled_flush)

    def _scheduled_flush(self) -> None:
        with self._lock:
            self._scheduled = False
        self.flush()

    def flush(self) -> int:
        """Apply everything queued now, in the calling thread; returns how many items.

        Called by the loop on its own; call it yourself when there is no loop.
        """
        with self._lock:
            items = list(self._items)
            self._items.clear()
            dropped, self._dropped = self._dropped, 0
            self._last_flush = time.monotonic()
            if self._closed:
                return 0
        if items or dropped:
            self.batches += 1
            try:
                self._apply(items, dropped)
            except Exception:  # a broken display must not stop later batches
                logger.exception("applying a batch of %d updates failed", len(items))
        return len(items)

    def close(self) -> None:
        """Forget what waits and ignore later items (e.g. when the widget is closed)."""
        with self._lock:
            self._closed = True
            self._items.clear()

    def __repr__(self) -> str:
        return (
            f"<UpdateBatcher {self.pending} pending, {self.received} received, "
            f"{self.dropped} dropped, {self.batches} batches>"
        )
