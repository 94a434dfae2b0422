"""The tutorial's WebSocket handlers, as in the original page, in Python 3.

``HelloHandler`` is part 1 (``/ws``): the original printed ``new connection``,
``message received <msg>`` and ``connection closed``; here the same sentences
are recorded as events, because a server running in a notebook's background
thread must not print (see ``events.py``).
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any, Optional

from tornado.web import HTTPError
from tornado.websocket import WebSocketHandler, WebSocketProtocol, WebSocketProtocol13

from .hub import Hub

__all__ = ["TutorialHandler", "HelloHandler", "StreamingHandler", "EchoHandler", "describe_message", "origin_advice"]

# Long messages are cut in the event log; the handler still gets all of it.
EVENT_TEXT_LIMIT = 200


def describe_message(message: str | bytes) -> str:
    """How a message appears in the event log: text as is (cut when long), binary by size."""
    if isinstance(message, bytes):
        return f"<{len(message)} bytes of binary data>"
    if len(message) > EVENT_TEXT_LIMIT:
        return message[:EVENT_TEXT_LIMIT] + f"... ({len(message)} characters)"
    return message


def origin_advice(origin: str, host: str = "localhost:8888") -> str:
    """What to do about a refused origin, as the lesson on origins teaches it (``host``: the server's)."""
    if origin.strip().lower() == "null":
        # file:// pages, sandboxed frames: no origin at all, so nothing to allow.
        return (
            "a page opened from disk (file://) has no origin; open it from the server instead, "
            f"e.g. http://{host}/hello.html"
        )
    return "a page from another site; add it to allowed_origins only if that site is yours"


class StrictTextProtocol(WebSocketProtocol13):
    """Tornado's protocol, but text that is not UTF-8 closes with 1007 as RFC 6455 asks.

    Tornado drops such a connection without a close frame, so the client
    sees 1006 ("dropped") and cannot tell it sent bad data.
    """

    def _handle_message(self, opcode: int, data: bytes) -> "Optional[asyncio.Future[None]]":
        if opcode == 0x1 and not self._frame_compressed and not self.client_terminated:
            try:
                data.decode("utf-8")  # decoded again by Tornado; text messages are small
            except UnicodeDecodeError:
                handler = self.handler
                if isinstance(handler, TutorialHandler):
                    handler.record("closed with 1007: a text message was not valid UTF-8", kind="error")
                self.close(1007, "text message is not valid UTF-8")
                self._abort()  # as Tornado does after 1009: nothing more is read
                return None
        return super()._handle_message(opcode, data)


class TutorialHandler(WebSocketHandler):
    """Base class for handlers served by ``start_server``.

    Subclass it and override ``open``, ``on_message`` and ``on_close`` as in
    the original tutorial; call ``self.record(text)`` where the original
    printed. The base class takes care of the rest: origin checks, the list
    of open connections (so ``stop`` can close them), and exceptions, which
    become ``error`` events instead of killing anything.
    """

    hub: Hub
    client_name: str

    def initialize(self, hub: Hub) -> None:
        self.hub = hub
        self.client_name = hub.new_client_name()
        self.pending_writes = 0
        self.pending_bytes = 0
        self.dropped_messages = 0
        self.protocol: WebSocketProtocol | None = None

    def record(self, text: str, kind: str = "info") -> None:
        """Add ``text`` to the server's event log, tagged with this client."""
        self.hub.events.record(kind, text, client=self.client_name, path=self.request.path)

    def check_origin(self, origin: str) -> bool:
        # Browsers let any page open a WebSocket to any server, so the server
        # must check. Same origin (with localhost == 127.0.0.1) or an origin
        # listed in allowed_origins; never everything.
        fetch_site = self.request.headers.get("Sec-Fetch-Site")
        if self.hub.origin_allowed(origin, self.request.host, self.request.protocol, fetch_site):
            return True
        site = f" (Sec-Fetch-Site: {fetch_site})" if fetch_site else ""
        self.record(f"origin rejected {origin!r}{site} (403): {origin_advice(origin, self.request.host)}", kind="origin")
        return False

    def prepare(self) -> None:
        # Tornado checks the origin only when an Origin header is present; a
        # browser that marks the request cross-site without one is refused too.
        if "Origin" not in self.request.headers and "Sec-Websocket-Origin" not in self.request.headers:
            if self.request.headers.get("Sec-Fetch-Site", "").strip().lower() == "cross-site":
                self.record("origin rejected: cross-site request without an Origin (403)", kind="origin")
                raise HTTPError(403, "cross-site WebSocket requests are not allowed")

    def get_websocket_protocol(self) -> Optional[WebSocketProtocol]:
        # Called once the handshake checks pass, just before open(): the
        # connection is registered here so subclasses need not call super().open().
        self.protocol = super().get_websocket_protocol()
        if type(self.protocol) is WebSocketProtocol13:
            # Same object, one stricter method; Tornado builds it from private parameters.
            self.protocol.__class__ = StrictTextProtocol
        if self.protocol is not None:
            self.hub.register(self.request.path, self)
        return self.protocol

    def on_connection_close(self) -> None:
        try:
            super().on_connection_close()
        finally:
            self.hub.unregister(self.request.path, self)

    def log_exception(
        self,
        typ: Optional[type[BaseException]],
        value: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        if isinstance(value, HTTPError):  # a refusal we chose (403, 404), already recorded
            super().log_exception(typ, value, tb)
            return
        self.record(f"error in {type(self).__name__}: {value!r}", kind="error")
        super().log_exception(typ, value, tb)
        # Tornado drops the connection next, without a close frame; tell the
        # client why first (1011: the server hit an unexpected error).
        connection = self.ws_connection
        if connection is not None and not connection.is_closing():
            connection.close(1011, "server error")
        if self.protocol is not None:
            # After an error in open() Tornado never calls on_close, so the
            # connection would stay registered: close the books now (a second
            # call does nothing).
            try:
                self.on_connection_close()
            except Exception as error:
                self.record(f"error in {type(self).__name__}.on_close: {error!r}", kind="error")


class HelloHandler(TutorialHandler):
    """Part 1, ``/ws``: says Hello World and reports what happens."""

    def open(self, *args: Any, **kwargs: Any) -> None:
        self.record("new connection", kind="open")
        self.write_message("Hello World")

    def on_message(self, message: str | bytes) -> None:
        self.record(f"message received {describe_message(message)}", kind="message")

    def on_close(self) -> None:
        self.record("connection closed", kind="close")


class EchoHandler(TutorialHandler):
    """``/echo``: sends every message back, text as text and binary as binary."""

    def open(self, *args: Any, **kwargs: Any) -> None:
        self.record("new connection", kind="open")

    def on_message(self, message: str | bytes) -> None:
        self.hub.send(self, message)

    def on_close(self) -> None:
        self.record("connection closed", kind="close")


class StreamingHandler(TutorialHandler):
    """Part 2, ``/streaming``: joins the stream of ``message: <n>``."""

    def open(self, *args: Any, **kwargs: Any) -> None:
        self.record("new connection", kind="open")
        self.application.settings["wstutorial_stream"].join(self)

    def on_message(self, message: str | bytes) -> None:
        self.record(f"message received {describe_message(message)}", kind="message")

    def on_close(self) -> None:
        self.application.settings["wstutorial_stream"].leave(self)
        self.record("connection closed", kind="close")
