"""Limits on the whole server, not only on one connection.

Each connection already has its own limits (``max_message_size``, the
pending-write budget of ``hub.py``). These hold for all of them together,
so that many connections, or a few that misbehave on purpose, cannot take
every file descriptor, hold sockets for ever or fill the memory:

- ``max_connections``: TCP connections open at once (pages and WebSockets;
  by default the file limit, ``ulimit -n``, less 100); beyond it a new
  connection gets ``503 Service Unavailable`` and is closed, recorded once
  until connections are accepted again;
- ``header_timeout``: seconds a client has to send a request's headers, and
  then its body (a "slowloris" client that sends them a byte at a time is
  closed);
- ``max_partial_bytes``: bytes of messages still arriving, on all
  connections together; the client that would go over it is closed with
  1013 (try again later);
- errors from ``accept()`` (no file descriptor left) are recorded at most
  once a second, and accepting pauses for a moment instead of spinning.
"""

from __future__ import annotations

import asyncio
import errno
import time
from types import ModuleType
from typing import Any, Iterable

from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop
from tornado.iostream import IOStream, StreamClosedError, UnsatisfiableReadError

from ..events import EventKind, EventLog
from ..tornado_internals import add_guarded_sockets, half_close

__all__ = [
    "TutorialHTTPServer",
    "ReceiveBudget",
    "DEFAULT_MAX_CONNECTIONS",
    "DEFAULT_HEADER_TIMEOUT",
    "DEFAULT_MAX_PARTIAL_BYTES",
    "MAX_BODY_SIZE",
]

# max_connections=None: the process's file limit (ulimit -n) less this
# many, left for the files and sockets the process itself needs.
FILES_KEPT_FREE = 100
# Windows has no file limit (no 'resource' module): there Tornado waits on
# sockets with select() in a helper thread, which CPython builds for at most
# 512 sockets (FD_SETSIZE), so that is the limit.
WINDOWS_SELECT_LIMIT = 512

resource: ModuleType | None
try:
    import resource
except ImportError:  # Windows
    resource = None
DEFAULT_MAX_CONNECTIONS = None
# A browser sends its headers at once; ten seconds is generous on a slow network.
DEFAULT_HEADER_TIMEOUT = 10.0
# Room for 16 messages of the default maximum size (1 MiB) arriving at once;
# a tutorial's and a classroom's messages are far smaller.
DEFAULT_MAX_PARTIAL_BYTES = 16 * 1024 * 1024
# No route takes a request body (pages are GET, WebSockets upgrade from GET).
MAX_BODY_SIZE = 64 * 1024
# Seconds between two records of accept() errors, and the pause after one.
ACCEPT_ERROR_INTERVAL = 1.0
ACCEPT_PAUSE = 0.1
# Seconds a refused connection may stay open while its request is drained.
REFUSED_LINGER = 2.0

_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Retry-After: 5\r\n"
    b"Connection: close\r\n"
    b"Content-Length: 53\r\n\r\n"
    b"The server has too many connections; try again soon.\n"
)


async def _answer_busy(stream: IOStream) -> None:
    """Read the request's headers (at most ``REFUSED_LINGER`` seconds), answer 503, close.

    The request is read first as any HTTP server does: closing with it
    unread would send a TCP reset, which can destroy the 503 before the
    client reads it.
    """
    try:
        await asyncio.wait_for(_read_headers_then_answer(stream), REFUSED_LINGER)
    except (StreamClosedError, asyncio.TimeoutError, UnsatisfiableReadError):
        pass
    finally:
        stream.close()


async def _read_headers_then_answer(stream: IOStream) -> None:
    await stream.read_until_regex(b"\r?\n\r?\n", max_bytes=65536)
    await stream.write(_BUSY)
    half_close(stream)


def max_connections_for_file_limit() -> int:
    """The default ``max_connections``: the file limit now, less ``FILES_KEPT_FREE`` (at least 16)."""
    if resource is None:
        return WINDOWS_SELECT_LIMIT - FILES_KEPT_FREE
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 1_000_000
    return max(16, soft - FILES_KEPT_FREE)


class ReceiveBudget:
    """Bytes of partly received messages the whole server holds, up to ``limit``.

    Used by ``tornado_internals.ServerProtocol``, in the server's thread only.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held = 0

    def take(self, size: int) -> bool:
        if self.held + size > self.limit:
            return False
        self.held += size
        return True

    def give(self, size: int) -> None:
        self.held -= size


class TutorialHTTPServer(HTTPServer):
    """Tornado's HTTPServer with the server-wide limits above."""

    def initialize(  # type: ignore[override]
        self,
        *args: Any,
        events: EventLog,
        max_connections: int | None = DEFAULT_MAX_CONNECTIONS,
        header_timeout: float = DEFAULT_HEADER_TIMEOUT,
        **kwargs: Any,
    ) -> None:
        # Tornado waits idle_connection_timeout for a request's headers (its
        # header_timeout), for the first request and between keep-alive ones.
        kwargs.setdefault("idle_connection_timeout", header_timeout)
        # A body sent as slowly (no route wants one) gets as long.
        kwargs.setdefault("body_timeout", header_timeout)
        kwargs.setdefault("max_body_size", MAX_BODY_SIZE)
        super().initialize(*args, **kwargs)
        self.events = events
        self.max_connections = max_connections if max_connections is not None else max_connections_for_file_limit()
        self.refused = 0
        self._streams: list[IOStream] = []
        self._refusing = False
        self._last_accept_error = float("-inf")
        self.accept_errors = 0

    # -- connections ---------------------------------------------------------------

    @property
    def open_connections(self) -> int:
        """TCP connections open now (pages and WebSockets)."""
        self._streams = [stream for stream in self._streams if not stream.closed()]
        return len(self._streams)

    def handle_stream(self, stream: IOStream, address: Any) -> None:
        # Closed streams are forgotten only when the count matters, so a busy
        # server does not scan its list on every connection.
        if len(self._streams) >= self.max_connections and self.open_connections >= self.max_connections:
            self._refuse(stream, address)
            return
        self._refusing = False
        self._streams.append(stream)
        super().handle_stream(stream, address)

    def _refuse(self, stream: IOStream, address: Any) -> None:
        self.refused += 1
        if not self._refusing:
            self._refusing = True
            self.events.record(
                f"{self.max_connections} connections are open (max_connections): new ones get 503 "
                "until some close",
                kind=EventKind.LIMIT,
            )
        IOLoop.current().add_callback(_answer_busy, stream)

    # -- accepting -------------------------------------------------------------------

    def add_sockets(self, sockets: Iterable[Any]) -> None:
        add_guarded_sockets(self, sockets, self._accept_failed)

    def _accept_failed(self, error: OSError) -> float:
        self.accept_errors += 1
        now = time.monotonic()
        if now - self._last_accept_error >= ACCEPT_ERROR_INTERVAL:
            self._last_accept_error = now
            hint = (
                " (no file descriptor left: lower max_connections or raise the limit with 'ulimit -n')"
                if error.errno in (errno.EMFILE, errno.ENFILE)
                else ""
            )
            self.events.record(
                f"cannot accept connections: {error.strerror or error}{hint}; "
                f"{self.accept_errors} such errors so far, recorded at most once a second",
                kind=EventKind.ERROR,
            )
        return ACCEPT_PAUSE
