"""Log messages from a quiet server's thread go to its event log, not to stderr.

Tornado reports a handler's exception with ``tornado.application``'s
logger, traceback and all; in a notebook that traceback lands in whatever
cell runs at the time. A server started with ``quiet=True`` (the exercise
checks use it) keeps such messages in its own event log instead, as one
``error`` event each, where the check turns them into a sentence.
"""

from __future__ import annotations

import logging
import threading

from ..events import EventKind, EventLog

__all__ = ["QUIET_LOGGERS", "quiet_thread"]

# Where Tornado and asyncio report errors on a server's loop.
QUIET_LOGGERS = ("tornado.application", "tornado.general", "asyncio")


class _ToEvents(logging.Filter):
    """Drops records from registered threads, recording them in that thread's event log."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: dict[int, EventLog] = {}
        self.lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        with self.lock:
            events = self.threads.get(record.thread or 0)
        if events is None:
            return True
        # A TutorialHandler has recorded its own exception already ("error in ...").
        if not str(record.msg).startswith("Uncaught exception"):
            text = record.getMessage().splitlines()[0] if record.getMessage() else record.name
            if record.exc_info and record.exc_info[1] is not None:
                text = f"{text}: {record.exc_info[1]!r}"
            events.record(text, kind=EventKind.ERROR)
        return False


_filter = _ToEvents()
for _name in QUIET_LOGGERS:
    logging.getLogger(_name).addFilter(_filter)


def quiet_thread(thread: threading.Thread, events: EventLog) -> None:
    """From now on, log records made in ``thread`` go to ``events`` instead of the log handlers."""
    if thread.ident is None:
        raise RuntimeError(f"the thread {thread.name} is not started: start it before quiet_thread()")
    with _filter.lock:
        _filter.threads[thread.ident] = events


def release_thread(thread: threading.Thread) -> None:
    """Forget ``thread`` (it ended); thread ids are reused."""
    with _filter.lock:
        _filter.threads.pop(thread.ident or 0, None)
