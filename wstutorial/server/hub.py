"""What one running server shares between its handlers.

The hub lives on the server's event loop: only code running in the server
thread touches it. It knows the open connections (so ``stop`` can close each
one with 1001), which origins may connect, and how to send without letting a
slow client pile up memory.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import itertools
import re
import urllib.parse
from typing import Iterable, Mapping, Protocol

from tornado.httputil import HTTPServerRequest
from tornado.iostream import StreamClosedError
from tornado.websocket import WebSocketClosedError

from ..address import is_loopback
from ..events import EventKind, EventLog
from ..protocol import CloseCode
from ..tornado_internals import (
    WebSocketSide,
    connection_deflate,
    drop_socket,
    is_open,
    open_fast_stream,
    raw_stream,
    write_frames,
)
from .frames import FrameBatch

__all__ = ["Hub", "Connection", "normalize_origin", "normalize_host_name", "forwarded_scheme", "same_host", "DEFAULT_MAX_PENDING_WRITES", "DEFAULT_MAX_PENDING_BYTES"]

# A client that has this many of our messages (or this many bytes) still
# waiting to reach its socket is not reading: further messages to it are
# dropped (and counted) until it catches up, so one slow client costs bounded
# memory and never slows the rest. Tornado's write future completes only once
# the data has left its buffer for the socket (tests/test_reliability.py
# measures this with a client that never reads).
DEFAULT_MAX_PENDING_WRITES = 64
DEFAULT_MAX_PENDING_BYTES = 1024 * 1024


class Connection(WebSocketSide, Protocol):
    """The parts of a WebSocket handler the hub uses (``handlers.TutorialHandler`` has them all).

    The hub is typed against this, not against ``TutorialHandler``, so it
    does not import the handlers (they import the hub).
    """

    client_name: str
    pending_writes: int
    pending_bytes: int
    dropped_messages: int
    request: HTTPServerRequest

    def write_message(self, message: str | bytes, binary: bool = False) -> "asyncio.Future[None]": ...

    def close(self, code: int | None = None, reason: str | None = None) -> None: ...


def normalize_origin(origin: str) -> str:
    """Return ``origin`` as ``scheme://host[:port]`` in lower case, or raise ``ValueError``."""
    text = origin.strip()
    if text == "*":
        raise ValueError("allowed origins must be listed one by one; '*' would let any web page connect")
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        raise ValueError(
            f"an allowed origin looks like 'http://localhost:8889' (scheme, host, optional port), got {origin!r}"
        )
    return f"{parts.scheme}://{parts.netloc}".lower()


def normalize_host_name(name: str) -> str:
    """``name`` as the Host check compares it (lower case, no brackets), or raise ``ValueError``."""
    text = name.strip().lower().rstrip(".").strip("[]")
    valid = bool(text) and not any(c in text for c in "/ @?#")
    if valid and ":" in text:  # only an IPv6 address has colons; "name:port" does not belong here
        try:
            ipaddress.IPv6Address(text)
        except ValueError:
            valid = False
    if not valid:
        raise ValueError(
            f"an allowed host is a name or address without scheme or port, e.g. 'mylaptop.local', got {name!r}"
        )
    return text


def _host_and_port(netloc: str, default_port: int) -> tuple[str, int]:
    parts = urllib.parse.urlsplit(f"//{netloc}")
    try:
        port = parts.port or default_port
    except ValueError:
        port = -1
    return (parts.hostname or "").lower(), port


# What a reverse proxy writes down about the browser's connection, nearest proxy first.
_SCHEMES = {"http": "http", "https": "https", "ws": "http", "wss": "https"}
_FORWARDED_PROTO = re.compile(r"(?:^|;)\s*proto\s*=\s*\"?([A-Za-z]+)\"?", re.IGNORECASE)


def forwarded_scheme(headers: Mapping[str, str]) -> str | None:
    """``"https"`` or ``"http"``: how the browser reached the reverse proxy in front, or None without one.

    A proxy that terminates TLS (nginx, JupyterHub's proxy in front of
    jupyter-server-proxy) speaks plain http to this server, but says how
    the browser came in: ``X-Forwarded-Proto`` (nginx: ``$scheme``), Tornado's
    ``X-Scheme``, or RFC 7239's ``Forwarded: proto=``. A chain of proxies
    appends to the list (JupyterHub's proxy adds ``ws``/``wss`` for a
    WebSocket), so the first entry is the one the browser's side wrote.
    """
    for name in ("X-Forwarded-Proto", "X-Scheme"):
        value = headers.get(name)
        if value:
            return _SCHEMES.get(value.split(",")[0].strip().lower())
    value = headers.get("Forwarded")
    if value:
        match = _FORWARDED_PROTO.search(value.split(",")[0])
        return _SCHEMES.get(match.group(1).lower()) if match else None
    return None


def same_host(origin: str, host_header: str) -> bool:
    """Does the page's origin name the host the request was sent to (any port; localhost == 127.0.0.1)?"""
    try:
        origin_host, _ = _host_and_port(urllib.parse.urlsplit(normalize_origin(origin)).netloc, 0)
    except ValueError:
        return False
    request_host, _ = _host_and_port(host_header, 0)
    return origin_host == request_host or (is_loopback(origin_host) and is_loopback(request_host))


def _track(handler: Connection, future: "asyncio.Future[None]", count: int, size: int) -> None:
    """Count ``count`` messages (``size`` bytes) as pending for ``handler`` until ``future`` (their write) is done.

    A write that reached the socket at once (the usual case) is done
    already and costs nothing to track: only bytes waiting in Tornado's
    buffer, i.e. a client that does not keep up, count against its limit.
    """
    if future.done():
        if not future.cancelled():
            future.exception()  # a closed client; on_close handles it
        return
    handler.pending_writes += count
    handler.pending_bytes += size
    future.add_done_callback(functools.partial(_release, handler, count, size))


def _release(handler: Connection, count: int, size: int, future: "asyncio.Future[None]") -> None:
    handler.pending_writes -= count
    handler.pending_bytes -= size
    if not future.cancelled():
        future.exception()  # a closed client; on_close handles it


class Hub:
    """Connections, origins and the stream of one server."""

    def __init__(
        self,
        events: EventLog,
        *,
        allowed_origins: Iterable[str] = (),
        allowed_hosts: Iterable[str] = (),
        check_host: bool = True,
        max_pending_writes: int = DEFAULT_MAX_PENDING_WRITES,
        max_pending_bytes: int = DEFAULT_MAX_PENDING_BYTES,
    ) -> None:
        self.events = events
        self.allowed_origins = frozenset(normalize_origin(origin) for origin in allowed_origins)
        self.allowed_hosts = frozenset(normalize_host_name(name) for name in allowed_hosts)
        self.check_host = check_host
        self.max_pending_writes = max_pending_writes
        self.max_pending_bytes = max_pending_bytes
        self.connections: dict[str, set[Connection]] = {}
        self._names = itertools.count(1)
        self._changed: asyncio.Event | None = None
        # Messages sent through write_message instead of ready-made frames.
        self.slow_path_writes = 0
        # The frame of the last message sent alone: a room that sends one text to
        # each member in turn (a chat line to the class) builds its frame once.
        self._last_sent: FrameBatch | None = None

    # -- names and bookkeeping -------------------------------------------------

    def new_client_name(self) -> str:
        return f"client-{next(self._names)}"

    def register(self, path: str, handler: Connection) -> None:
        self.connections.setdefault(path, set()).add(handler)

    def unregister(self, path: str, handler: Connection) -> None:
        handlers = self.connections.get(path)
        if handlers is not None:
            handlers.discard(handler)
            if not handlers:
                del self.connections[path]
        if self._changed is not None:
            self._changed.set()

    def open_handlers(self, path: str | None = None) -> list[Connection]:
        """Handlers whose WebSocket is open, on ``path`` or on every path."""
        paths = [path] if path is not None else list(self.connections)
        return [
            handler
            for p in paths
            for handler in list(self.connections.get(p, ()))
            if is_open(handler)
        ]

    def client_names(self, path: str | None = None) -> list[str]:
        return sorted(
            (getattr(handler, "client_name", "?") for handler in self.open_handlers(path)),
            key=lambda name: (len(name), name),
        )

    # -- hosts and origins ----------------------------------------------------------

    def host_allowed(self, host_header: str) -> bool:
        """May a request with this ``Host`` header be served? (DNS rebinding)

        A server listening on loopback only (``check_host``) serves only
        requests addressed to a loopback name or address (``localhost``,
        ``127.0.0.1``, ``[::1]``) or to a name in ``allowed_hosts``, as
        Jupyter's own server does. A page on ``evil.example`` whose name the
        attacker re-points at 127.0.0.1 reaches this machine, but its
        requests still say ``Host: evil.example``, and are refused.
        A reverse proxy in front changes nothing here: the check runs on the
        ``Host`` the proxy passes on (nginx: ``proxy_set_header Host
        $http_host``, the browser's), so a proxy that forwards any name
        cannot carry a rebinding page through. Headers such as
        ``X-Forwarded-For`` open no door: a page's own ``fetch()`` may send them.
        """
        if not self.check_host:
            return True
        name, _ = _host_and_port(host_header, 80)
        name = name.rstrip(".")
        return is_loopback(name) or name.endswith(".localhost") or name in self.allowed_hosts

    def origin_allowed(
        self, origin: str, host_header: str, scheme: str = "http", fetch_site: str | None = None
    ) -> bool:
        """Same origin as the page's server, or listed in ``allowed_origins``.

        ``scheme`` is how the browser reached us: ``request.protocol``, or
        behind a reverse proxy what it forwarded (``forwarded_scheme``), so
        that ``Origin: https://host`` (port 443) matches ``Host: host``
        behind a proxy that terminates TLS while an ``http://host`` page
        does not. Believing the proxy's header here is safe without
        ``xheaders``: a page cannot add headers to a WebSocket handshake,
        and a program that can may send any Origin anyway.
        ``localhost``, ``127.0.0.1`` and ``::1`` count as one host when the
        port matches: the tutorial's page says ``localhost`` even when it was
        opened as ``127.0.0.1``, and both reach the same server.
        ``fetch_site`` is the browser's ``Sec-Fetch-Site`` header: when it says
        ``cross-site``, only a listed origin or that loopback alias may connect.
        """
        try:
            normalized = normalize_origin(origin)
        except ValueError:
            return False  # 'null' (a page opened from disk) and other oddities
        if normalized in self.allowed_origins:
            return True
        origin_parts = urllib.parse.urlsplit(normalized)
        default_port = 443 if origin_parts.scheme == "https" else 80
        origin_host, origin_port = _host_and_port(origin_parts.netloc, default_port)
        request_host, request_port = _host_and_port(host_header, 443 if scheme == "https" else 80)
        if origin_port != request_port or origin_port < 0:
            return False
        loopback_alias = origin_host != request_host and is_loopback(origin_host) and is_loopback(request_host)
        if (fetch_site or "").strip().lower() == "cross-site":
            # The browser knows where the page came from; an Origin that merely
            # repeats our Host does not outweigh it.
            return loopback_alias
        return origin_host == request_host or loopback_alias

    # -- sending ------------------------------------------------------------------

    def send(self, handler: Connection, message: str | bytes) -> bool:
        """Queue ``message`` for one client without waiting; False if it was not sent.

        Never raises for a closed or slow client: the message is dropped for
        that client (see ``DEFAULT_MAX_PENDING_WRITES``) and the others go on.
        A room that sends one text to each member in turn (a chat line to the
        class) takes the same short way per member as :meth:`broadcast`, with
        the frame built once.
        """
        batch = self._last_sent
        if batch is None or batch.messages[0] is not message:  # the same object: the same text
            batch = self._last_sent = FrameBatch((message,))
        stream = None if handler.pending_writes else open_fast_stream(handler, batch.compressible)
        if stream is None:
            return self.send_frames(handler, batch) == 1
        try:
            waiting = write_frames(stream, batch.data)
        except StreamClosedError:
            return False
        if waiting is not None:
            _track(handler, waiting, 1, len(batch.data))
        return True

    def send_frames(self, handler: Connection, batch: FrameBatch) -> int:
        """Queue the messages of ``batch`` for one client; returns how many were queued.

        A client with fewer than ``len(batch)`` free places (of
        ``max_pending_writes``) gets the first messages that fit; the rest
        are dropped for it. Never raises for a closed or slow client.
        """
        room = self.max_pending_writes - handler.pending_writes
        count = min(len(batch), room)
        if handler.pending_bytes and count > 0:
            # A client already behind gets only what fits in its byte budget
            # (one that is not behind may get a big message whole).
            count = min(count, batch.count_within(self.max_pending_bytes - handler.pending_bytes))
        if count < len(batch):
            self._dropped(handler, len(batch) - max(count, 0))
        if count <= 0:
            return 0
        if not is_open(handler):
            return 0
        stream = raw_stream(handler)
        if stream is None:  # Tornado no longer exposes the stream: it must encode each message itself
            self._slow_path(handler)
            sent = 0
            for message in batch.messages[:count]:
                try:
                    future = handler.write_message(message, binary=isinstance(message, bytes))
                except WebSocketClosedError:
                    break
                _track(handler, future, 1, len(message))
                sent += 1
            return sent
        frames = batch.for_connection(connection_deflate(handler))  # compressed, if it agreed to permessage-deflate
        try:
            waiting = write_frames(stream, frames.prefix(count))
        except StreamClosedError:
            return 0
        if waiting is not None:  # some bytes wait in Tornado's buffer: a client that does not keep up
            _track(handler, waiting, count, frames.size(count))
        return count

    def _slow_path(self, handler: Connection) -> None:
        """Record, once per server, that frames go through ``write_message`` (one Task per message)."""
        if self.slow_path_writes == 0:
            self.events.record(
                "sending through write_message, not the fast path: Tornado no longer exposes the connection's stream "
                "(see tornado_internals.raw_stream)",
                kind=EventKind.SERVER,
            )
        self.slow_path_writes += 1

    def _dropped(self, handler: Connection, count: int) -> None:
        first = handler.dropped_messages == 0
        handler.dropped_messages += count
        if first:
            self.events.record(
                "client is not reading; dropping messages to it until it catches up",
                kind=EventKind.SLOW,
                client=handler.client_name,
                path=handler.request.path,
            )

    def broadcast(self, path: str, message: str | bytes) -> int:
        """Send ``message`` to every client on ``path``; returns how many it was queued for.

        The frame is built once and the same bytes go to every client.
        """
        batch = FrameBatch((message,))
        data, size, compressible = batch.data, len(batch.data), batch.compressible
        sent = 0
        for handler in list(self.connections.get(path, ())):
            # The usual client (open, keeping up; with permessage-deflate only
            # if the message is too short to compress) takes the short way: the
            # ready-made frame straight to its socket. Anyone else goes through
            # send_frames, which knows every case.
            stream = None if handler.pending_writes else open_fast_stream(handler, compressible)
            if stream is None:
                sent += self.send_frames(handler, batch)
                continue
            try:
                waiting = write_frames(stream, data)
            except StreamClosedError:
                continue
            if waiting is not None:
                _track(handler, waiting, 1, size)
            sent += 1
        return sent

    async def close_all(self, code: int = CloseCode.GOING_AWAY, reason: str = "server shutting down", timeout: float = 3.0) -> int:
        """Close every WebSocket with ``code`` and wait (up to ``timeout``) for them to go.

        Returns how many connections were open.
        """
        handlers = [h for hs in self.connections.values() for h in hs]
        for handler in handlers:
            handler.close(code, reason)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        self._changed = asyncio.Event()
        try:
            while self.connections and loop.time() < deadline:
                self._changed.clear()
                try:
                    await asyncio.wait_for(self._changed.wait(), deadline - loop.time())
                except asyncio.TimeoutError:
                    break
        finally:
            self._changed = None
        # Clients that did not answer the close frame in time lose their socket.
        for handler in [h for hs in self.connections.values() for h in hs]:
            drop_socket(handler)
        return len(handlers)
