"""The tutorial's WebSocket handlers, as in the original page, in Python 3.

``HelloHandler`` is part 1 (``/ws``): the original printed ``new connection``,
``message received <msg>`` and ``connection closed``; here the same sentences
are recorded as events, because a server running in a notebook's background
thread must not print (see ``events.py``).
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Optional

from tornado.websocket import WebSocketHandler, WebSocketProtocol

from .hub import Hub

__all__ = ["TutorialHandler", "HelloHandler", "StreamingHandler", "EchoHandler", "describe_message"]

# Long messages are cut in the event log; the handler still gets all of it.
EVENT_TEXT_LIMIT = 200


def describe_message(message: str | bytes) -> str:
    """How a message appears in the event log: text as is (cut when long), binary by size."""
    if isinstance(message, bytes):
        return f"<{len(message)} bytes of binary data>"
    if len(message) > EVENT_TEXT_LIMIT:
        return message[:EVENT_TEXT_LIMIT] + f"... ({len(message)} characters)"
    return message


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
        self.dropped_messages = 0
        self.protocol: WebSocketProtocol | None = None

    def record(self, text: str, kind: str = "info") -> None:
        """Add ``text`` to the server's event log, tagged with this client."""
        self.hub.events.record(kind, text, client=self.client_name, path=self.request.path)

    def check_origin(self, origin: str) -> bool:
        # Browsers let any page open a WebSocket to any server, so the server
        # must check. Same origin (with localhost == 127.0.0.1) or an origin
        # listed in allowed_origins; never everything.
        if self.hub.origin_allowed(origin, self.request.host, self.request.protocol):
            return True
        self.record(
            f"origin rejected {origin!r} (403): add it to allowed_origins to let that page connect",
            kind="origin",
        )
        return False

    def get_websocket_protocol(self) -> Optional[WebSocketProtocol]:
        # Called once the handshake checks pass, just before open(): the
        # connection is registered here so subclasses need not call super().open().
        self.protocol = super().get_websocket_protocol()
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
        self.record(f"error in {type(self).__name__}: {value!r}", kind="error")
        super().log_exception(typ, value, tb)


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
