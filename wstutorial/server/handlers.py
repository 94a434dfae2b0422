"""The tutorial's WebSocket handlers, as in the original page, in Python 3.

``HelloHandler`` is part 1 (``/ws``): the original printed ``new connection``,
``message received <msg>`` and ``connection closed``; here the same sentences
are recorded as events, because a server running in a notebook's background
thread must not print (see ``events.py``).
"""

from __future__ import annotations

import base64
import binascii
from types import TracebackType
from typing import TYPE_CHECKING, Any, Mapping, Optional

from tornado.web import HTTPError
from tornado.websocket import WebSocketHandler, WebSocketProtocol

from ..events import EventKind
from ..protocol import CloseCode, close_reason, describe_message
from ..tornado_internals import ServerProtocol, make_server_protocol, send_close_frame
from .hub import Hub, forwarded_scheme, same_host
from .pings import PingRound

if TYPE_CHECKING:
    from .context import ServerContext

__all__ = [
    "TutorialHandler", "HelloHandler", "StreamingHandler", "EchoHandler", "describe_message", "origin_advice",
    "query_problem", "MAX_ARGUMENT_LENGTH",
]

# A query argument of a WebSocket route is a name, a token or a number: a
# kilobyte is plenty, and nothing longer reaches a handler (or a log line).
MAX_ARGUMENT_LENGTH = 1024


def _valid_key(key: str) -> bool:
    try:
        return len(base64.b64decode(key.strip(), validate=True)) == 16
    except (binascii.Error, ValueError):
        return False


def query_problem(arguments: Mapping[str, list[bytes]]) -> str | None:
    """Why a handshake's query arguments cannot be used (a sentence), or None when each is fine.

    ``arguments`` is Tornado's ``request.query_arguments``. Refused: text that
    is not UTF-8 (Tornado's ``get_argument`` would raise inside ``open()``),
    a NUL character, an argument longer than :data:`MAX_ARGUMENT_LENGTH`
    bytes, and an argument given twice (``?token=wrong&token=RIGHT``: which
    one counts must not be a guess).
    """
    for name, values in arguments.items():
        shown = repr(name[:40])
        if "\x00" in name or len(name) > MAX_ARGUMENT_LENGTH:
            return f"an argument's name {shown} is not a plain short name"
        if len(values) > 1:
            return f"the argument {shown} is given {len(values)} times; give it once"
        for value in values:
            if len(value) > MAX_ARGUMENT_LENGTH:
                return f"the argument {shown} is {len(value)} bytes long; at most {MAX_ARGUMENT_LENGTH} are accepted"
            try:
                text = value.decode("utf-8")
            except UnicodeDecodeError:
                return f"the argument {shown} is not UTF-8 text"
            if "\x00" in text:
                return f"the argument {shown} contains a NUL character"
    return None


def origin_advice(origin: str, host: str = "localhost:8888", *, scheme: str = "http", forwarded: bool = False) -> str:
    """What to do about a refused origin, as the lesson on origins teaches it.

    ``host``: the request's Host; ``scheme``: how the browser reached the
    server as far as it knows (``forwarded``: a reverse proxy said so).
    """
    if origin.strip().lower() == "null":
        # file:// pages, sandboxed frames: no origin at all, so nothing to allow.
        return (
            "a page opened from disk (file://) has no origin; open it from the server instead, "
            f"e.g. http://{host}/hello.html"
        )
    if same_host(origin, host):
        page_scheme = origin.strip().lower().split(":", 1)[0]
        if page_scheme == "https" and scheme == "http" and not forwarded:
            # The usual reverse proxy that terminates TLS without saying so.
            return (
                f"the page is https:// but this server was reached over plain http://: if a reverse proxy that "
                "terminates TLS is in front, make it send X-Forwarded-Proto (nginx: proxy_set_header "
                f"X-Forwarded-Proto $scheme), or add {origin.strip()!r} to allowed_origins"
            )
        return (
            f"a page of this host on another port or scheme (the browser reached the server over {scheme}://); "
            f"add {origin.strip()!r} to allowed_origins only if that page is yours"
        )
    # "origin", not "site": a page on another subdomain is same-site, yet another origin.
    advice = "a page of another origin; add it to allowed_origins only if that page is yours"
    if forwarded:
        advice += (
            f" (if it is the reverse proxy's own address, the proxy must pass on the browser's Host, "
            f"not {host!r}: nginx proxy_set_header Host $http_host)"
        )
    return advice


class TutorialHandler(WebSocketHandler):
    """Base class for handlers served by ``start_server``.

    Subclass it and override ``open``, ``on_message`` and ``on_close`` as in
    the original tutorial; call ``self.record(text)`` where the original
    printed. The base class takes care of the rest: origin checks, the list
    of open connections (so ``stop`` can close them), and exceptions, which
    become ``error`` events instead of killing anything.
    """

    context: ServerContext
    client_name: str
    # Per-connection counters start as class attributes: an instance gets its
    # own only once they change (a client that falls behind). Tornado's
    # handler already has 27 attributes; CPython shares an instance dict's
    # keys between instances only below 30, so a third attribute of ours on
    # every connection would cost each one about 1.3 kB (bench/broadcast.py
    # measures memory per connection).
    pending_writes = 0
    pending_bytes = 0
    dropped_messages = 0

    def initialize(self, context: ServerContext) -> None:
        # Tornado calls this with the route's arguments (make_app passes the context).
        self.context = context
        self.client_name = context.hub.new_client_name()

    @property
    def hub(self) -> Hub:
        """The server's connections and origins (``context.hub``)."""
        return self.context.hub

    @property
    def registered(self) -> bool:
        """True from the moment the WebSocket opened until the hub forgot it."""
        return self in self.context.hub.connections.get(self.request.path, ())

    def record(self, text: str, *, kind: EventKind = EventKind.INFO) -> None:
        """Add ``text`` to the server's event log, tagged with this client (``kind``: what it is about)."""
        self.hub.events.record(text, kind=kind, client=self.client_name, path=self.request.path)

    def check_origin(self, origin: str) -> bool:
        # Browsers let any page open a WebSocket to any server, so the server
        # must check. Same origin (with localhost == 127.0.0.1) or an origin
        # listed in allowed_origins; never everything.
        fetch_site = self.request.headers.get("Sec-Fetch-Site")
        # Behind a reverse proxy that terminates TLS, the page is https://
        # while Tornado sees http: the proxy's X-Forwarded-Proto says which.
        forwarded = forwarded_scheme(self.request.headers)
        scheme = forwarded or self.request.protocol
        if self.hub.origin_allowed(origin, self.request.host, scheme, fetch_site):
            return True
        site = f" (Sec-Fetch-Site: {fetch_site})" if fetch_site else ""
        advice = origin_advice(origin, self.request.host, scheme=scheme, forwarded=forwarded is not None)
        self.record(f"origin rejected {origin!r}{site} (403): {advice}", kind=EventKind.ORIGIN)
        return False

    def prepare(self) -> None:
        if self.request.version == "HTTP/1.0":
            # RFC 6455 section 4.1: the upgrade is an HTTP/1.1 (or later) GET.
            self.record("handshake refused: an upgrade needs HTTP/1.1, got HTTP/1.0 (400)", kind=EventKind.HTTP)
            raise HTTPError(400, "a WebSocket upgrade needs HTTP/1.1")
        key = self.request.headers.get("Sec-WebSocket-Key")
        if key is not None and not _valid_key(key):
            # RFC 6455 section 4.2.1: the key is 16 random bytes in base64.
            self.record(f"handshake refused: Sec-WebSocket-Key {key[:40]!r} is not 16 bytes in base64 (400)", kind=EventKind.HTTP)
            raise HTTPError(400, "Sec-WebSocket-Key must be 16 bytes in base64")
        problem = query_problem(self.request.query_arguments)
        if problem is not None:
            # Refused before the upgrade: open() and the connection lists read
            # the arguments with get_argument, which raises on such values.
            self.record(f"handshake refused: {problem} (400)", kind=EventKind.HTTP)
            raise HTTPError(400, problem)
        # Tornado checks the origin only when an Origin header is present; a
        # browser that marks the request cross-site without one is refused too.
        if "Origin" not in self.request.headers and "Sec-Websocket-Origin" not in self.request.headers:
            if self.request.headers.get("Sec-Fetch-Site", "").strip().lower() == "cross-site":
                self.record("origin rejected: cross-site request without an Origin (403)", kind=EventKind.ORIGIN)
                raise HTTPError(403, "cross-site WebSocket requests are not allowed")

    def get_compression_options(self) -> dict[str, Any] | None:
        # Tornado's switch for permessage-deflate (RFC 7692), which every browser
        # offers: on. The server compresses each message on its own (deflate.py:
        # no context takeover), so an idle connection keeps no compression state
        # and a broadcast is compressed once for all; messages under 1 KiB go as
        # they are. A subclass that returns None turns it off, as in plain Tornado.
        return {}

    def get_websocket_protocol(self) -> Optional[WebSocketProtocol]:
        # The connection is registered with the hub only once the upgrade is
        # done (on_open below, just before open()), so a refused handshake
        # (400, 426) leaves nothing behind and subclasses need not call
        # super().open().
        return make_server_protocol(
            self,
            on_open=self._websocket_opened,
            on_violation=self._protocol_violation,
            budget=self.context.receive_budget,
        )

    def _websocket_opened(self, connection: ServerProtocol) -> None:
        self.hub.register(self.request.path, self)
        if self.ping_interval:
            PingRound.join(connection, self.ping_interval, self.ping_timeout)

    def _protocol_violation(self, code: int, reason: str) -> None:
        self.record(f"closed with {code}: {reason}", kind=EventKind.ERROR)

    def on_connection_close(self) -> None:
        try:
            super().on_connection_close()
        finally:
            if self.registered:
                self.hub.unregister(self.request.path, self)

    def log_exception(
        self,
        typ: Optional[type[BaseException]],
        value: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        if isinstance(value, HTTPError):
            # A refusal the handler chose (403, 401, 404): the access log
            # records it as an event; Tornado's warning would be printed from
            # the server's thread into a random notebook cell.
            if self.registered:
                # Raised after the upgrade (get_argument in open() or in a
                # callback): there is no HTTP answer any more, so close the
                # WebSocket with 1008 and forget it, without a traceback.
                self._refuse_open(value)
            return
        self.record(f"error in {type(self).__name__}: {value!r}", kind=EventKind.ERROR)
        super().log_exception(typ, value, tb)
        # Tornado drops the connection next, without a close frame; tell the
        # client why first (1011: the server hit an unexpected error).
        send_close_frame(self, CloseCode.INTERNAL_ERROR, "server error")
        if self.registered:
            # After an error in open() Tornado never calls on_close, so the
            # connection would stay registered: close the books now (a second
            # call does nothing).
            try:
                self.on_connection_close()
            except Exception as error:
                self.record(f"error in {type(self).__name__}.on_close: {error!r}", kind=EventKind.ERROR)

    def _refuse_open(self, error: HTTPError) -> None:
        reason = error.log_message or f"HTTP {error.status_code}"
        if error.args:
            reason %= tuple(error.args)
        self.record(f"closed with 1008: {reason}", kind=EventKind.ERROR)
        send_close_frame(self, CloseCode.POLICY_VIOLATION, close_reason(reason))
        try:
            self.on_connection_close()
        except Exception as failure:
            self.record(f"error in {type(self).__name__}.on_close: {failure!r}", kind=EventKind.ERROR)


class HelloHandler(TutorialHandler):
    """Part 1, ``/ws``: says Hello World and reports what happens."""

    def open(self, *args: Any, **kwargs: Any) -> None:
        self.record("new connection", kind=EventKind.OPEN)
        # hub.send, not write_message: a client that resets right away must not
        # make open() raise or leave a failed Task behind.
        self.hub.send(self, "Hello World")

    def on_message(self, message: str | bytes) -> None:
        self.record(f"message received {describe_message(message)}", kind=EventKind.MESSAGE)

    def on_close(self) -> None:
        self.record("connection closed", kind=EventKind.CLOSE)


class EchoHandler(TutorialHandler):
    """``/echo``: sends every message back, text as text and binary as binary."""

    def open(self, *args: Any, **kwargs: Any) -> None:
        self.record("new connection", kind=EventKind.OPEN)

    def on_message(self, message: str | bytes) -> None:
        self.hub.send(self, message)

    def on_close(self) -> None:
        self.record("connection closed", kind=EventKind.CLOSE)


class StreamingHandler(TutorialHandler):
    """Part 2, ``/streaming``: joins the stream of ``message: <n>``."""

    def open(self, *args: Any, **kwargs: Any) -> None:
        self.record("new connection", kind=EventKind.OPEN)
        self.context.stream.join(self)

    def on_message(self, message: str | bytes) -> None:
        self.record(f"message received {describe_message(message)}", kind=EventKind.MESSAGE)

    def on_close(self) -> None:
        self.context.stream.leave(self)
        self.record("connection closed", kind=EventKind.CLOSE)
