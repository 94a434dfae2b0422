"""Every use of Tornado's undocumented internals, in one place: a thin adapter around ``receiver.Receiver``.

Tornado documents ``WebSocketHandler`` and ``WebSocketClientConnection`` by
their public methods. The tutorial needs a little more: its own receive side
(RFC 6455's rules, I/O-free in ``receiver.py``) with permessage-deflate as
``deflate.py`` negotiates it, frames built once and written straight to many
sockets (``server/frames.py``), accepting that pauses instead of spinning,
and telling whether a client connection has ended. Each says here what it
relies on; ``tests/test_tornado_internals.py`` reads this file for every
private Tornado name it uses and fails if one is new or gone. Checked
against Tornado 6.4 to 6.6 (``pyproject.toml`` pins ``tornado>=6.4,<7``).
Nothing else in the package touches Tornado's private names,
``ws_connection`` or ``WebSocketClientConnection.protocol``. The client side
imports this module too: it imports only Tornado and I/O-free modules.
"""

from __future__ import annotations

import asyncio
import contextvars
import socket
from typing import Any, Callable, Iterable, Protocol, cast

from tornado.concurrent import Future
from tornado.httpclient import HTTPRequest, _RequestProxy
from tornado.httputil import HTTPHeaders
from tornado.ioloop import IOLoop
from tornado.iostream import IOStream, StreamClosedError
from tornado.tcpserver import TCPServer
from tornado.util import _websocket_mask
from tornado.websocket import (
    WebSocketClientConnection,
    WebSocketHandler,
    WebSocketProtocol,
    WebSocketProtocol13,
    _WebSocketParams,
)

from .deflate import Deflate, negotiate
from .protocol import Opcode, frame_header
from .receiver import Close, Event, Failure, Message, Ping, Pong, ReceiveBudget, Receiver

__all__ = [
    "ServerProtocol", "WebSocketSide", "add_guarded_sockets", "client_has_ended", "connection_deflate", "drop_socket",
    "ended_without_close_frame", "half_close", "is_open", "make_server_protocol", "open_fast_stream", "raw_stream",
    "send_close_frame", "websocket_connect_noting_drops", "write_frames",
]

# Bytes read from the socket at a time: text is checked as it comes (a bad byte
# closes at once), and a partly received message is counted against the budget.
READ_CHUNK = 64 * 1024
# Fairness, as Tornado's own receive loop has it: after this many events one
# connection lets the others run, so a client of tiny frames cannot hold the loop.
EVENTS_PER_TURN = 256
# A ping frame with no payload (RFC 6455 section 5.5.2): FIN + opcode 0x9, length 0.
EMPTY_PING = b"\x89\x00"

# Why the receive loop is woken (besides a handler's awaitable): others' turn; the end.
_YIELD = object()
_END = object()


class WebSocketSide(Protocol):
    """What the helpers below read of a server-side handler: a protocol, so the hub need not import the handlers."""

    ws_connection: WebSocketProtocol | None


class ServerProtocol(WebSocketProtocol13):
    """Tornado's protocol for one server connection, with a ``Receiver`` as its receive side.

    Tornado makes the handshake, writes what the handler sends and closes;
    reading is ours: bytes from the stream go to the receiver, its events to
    the handler. Relies on Tornado calling ``start_pinging()`` after the 101
    response, just before ``handler.open()``, then awaiting
    ``_receive_frame_loop()`` once; on ``_run_callback(method, argument)``
    (calls a handler's method as Tornado's loop does: an exception is logged
    and aborts, a coroutine's Future comes back), ``_abort()``,
    ``close(code, reason)``, ``client_terminated``, ``server_terminated``,
    ``close_code``, ``close_reason``, ``stream`` and
    ``handler.on_ws_connection_close(code, reason)``, as in Tornado 6.4-6.6.
    """

    # Our state lives in slots: Tornado's protocol already has 29 attributes, and
    # CPython shares an instance dict's keys only below 30 (one more: about 1.3 kB
    # per connection). pinged_at, pong_received and pings: server/pings.py.
    __slots__ = ("receiver", "deflate", "pinged_at", "pong_received", "pings", "_on_open", "_on_violation", "_wake",
                 "_read_callback", "_context", "_pong_waiting", "_pong_next")  # fmt: skip

    def __init__(self, handler: WebSocketHandler, params: _WebSocketParams, receiver: Receiver, deflate: Deflate | None,
                 on_open: Callable[[ServerProtocol], None], on_violation: Callable[[int, str], None]) -> None:  # fmt: skip
        super().__init__(handler, False, params)
        self.receiver = receiver
        self.deflate = deflate  # permessage-deflate as agreed (None: not)
        self.pinged_at = 0.0
        self.pong_received = True
        self.pings: Any = None  # the round that pings this connection (server/pings.py)
        self._on_open = on_open
        self._on_violation = on_violation
        self._wake: asyncio.Future[object] | None = None  # what the receive loop awaits
        self._read_callback: Callable[[asyncio.Future[bytes]], None] | None = None
        self._pong_waiting: asyncio.Future[None] | None = None
        self._pong_next: bytes | None = None

    def start_pinging(self) -> None:
        # Called once the 101 response is written, just before handler.open():
        # the moment the WebSocket is open. Tornado would start a Task per
        # connection for pings (about 1 kB each); on_open joins a ping round
        # instead (server/pings.py). The handler's response headers (Tornado's
        # _headers, about 0.8 kB) are let go: nothing reads them once sent
        # (set_header, flush and finish raise from now on).
        if isinstance(self.handler, WebSocketHandler):  # Tornado types it as a delegate
            self.handler._headers = HTTPHeaders()
        self._on_open(self)

    def close(self, code: int | None = None, reason: str | None = None) -> None:
        if self.pings is not None:
            self.pings.leave(self)
        super().close(code, reason)

    def send_ping(self) -> bool:
        """Write an empty ping as a ready-made frame (no Future per connection); False if the connection is gone."""
        write_frames(self.stream, EMPTY_PING)
        return not self.stream.closed()

    # -- reading --------------------------------------------------------------------

    async def _receive_frame_loop(self) -> None:
        """Tornado's receive loop, replaced: bytes to the receiver, events to the handler.

        What waits for an idle connection's next frame lives long enough to
        reach the collector's oldest generation: Tornado's coroutine per frame
        left 11 objects, which at 10,000 connections made full collections
        (``bench/idle.py``). Here an idle connection waits in one
        ``read_bytes(partial=True)`` with a callback (``_data_arrived``): one
        Future per frame. This coroutine wakes only for what must wait: an
        ``on_message`` that returns an awaitable is awaited before the next
        event, as Tornado does. (A plain ``on_message`` runs in that callback,
        where ``asyncio.current_task()`` is None, as in any loop callback.)
        """
        loop = asyncio.get_running_loop()
        # Made once per connection: a callback given its own context needs no copy per read.
        self._context = contextvars.copy_context()
        self._read_callback = self._data_arrived
        try:
            while not self.client_terminated:
                wake = self._wake = loop.create_future()
                self._handle_events()
                try:
                    why = await wake
                finally:
                    # A failed wake-up holds its exception, whose traceback
                    # holds this frame: no cycle may outlive the connection.
                    del wake
                if why is _YIELD:
                    await asyncio.sleep(0)
                elif why is not _END:
                    await cast("asyncio.Future[None]", why)  # the handler's on_message
        except StreamClosedError:
            self._abort()
        finally:
            # The callback is a bound method of this protocol: without this, a
            # closed connection would wait for the collector to be freed.
            self._wake = self._read_callback = None
            self.receiver.discard()
            # A reset connection leaves its OSError on stream.error, and that
            # error's traceback holds the frames that were reading, ours (with
            # this protocol) among them: a cycle through the stream.
            if self.stream.error is not None:
                self.stream.error.__traceback__ = None
            self.handler.on_ws_connection_close(self.close_code, self.close_reason)

    def _handle_events(self) -> None:
        """Hand the receiver's events on until it needs more bytes (then read on, with a callback) or the loop must wait."""
        wake = self._wake
        assert wake is not None
        try:
            for _ in range(EVENTS_PER_TURN):
                if self.client_terminated:
                    wake.set_result(_END)
                    return
                event = self.receiver.next_event()
                if event is None:
                    # read_bytes returns a Future (typed as an Awaitable): a callback, not an await.
                    arriving = cast("asyncio.Future[bytes]", self.stream.read_bytes(READ_CHUNK, partial=True))
                    callback = self._read_callback
                    assert callback is not None  # set while the receive loop runs
                    arriving.add_done_callback(callback, context=self._context)
                    return
                handled = self._dispatch(event)
                if handled is not None:
                    wake.set_result(handled)
                    return
            wake.set_result(_YIELD)
        except Exception as error:  # StreamClosedError from read_bytes, or a bug: raised in the loop
            if not wake.done():
                wake.set_exception(error)

    def _data_arrived(self, arrived: asyncio.Future[bytes]) -> None:
        """``read_bytes``' callback: what arrived goes to the receiver, its events to the handler."""
        wake = self._wake
        if wake is None or wake.done():
            return  # the loop has ended
        if arrived.cancelled():
            wake.cancel()
            return
        error = arrived.exception()
        if error is not None:  # StreamClosedError once the connection is closed
            wake.set_exception(error)
            return
        self.receiver.receive_data(arrived.result())
        self._handle_events()

    def _dispatch(self, event: Event) -> asyncio.Future[None] | None:
        """Act on one event; what the handler returned, if it is to be awaited."""
        if isinstance(event, Message):
            return self._run_callback(self.handler.on_message, event.data)
        if isinstance(event, Ping):
            self._pong(event.data)
            self._run_callback(self.handler.on_ping, event.data)
        elif isinstance(event, Pong):
            self.pong_received = True
            return self._run_callback(self.handler.on_pong, event.data)
        elif isinstance(event, Close):
            self.client_terminated = True
            self.close_code, self.close_reason = event.code, event.reason or None
            self.close(event.code)  # echo the code (RFC 6455 section 5.5.1), as Tornado does
        elif isinstance(event, Failure):
            self._fail(event)
        return None

    def _pong(self, data: bytes) -> None:
        """Answer a ping; while a pong still waits for the socket, only the latest ping is answered (section 5.5.3)."""
        if self.server_terminated:
            return  # nothing may follow our close frame
        if self._pong_waiting is not None:
            self._pong_next = data
            return
        waiting = write_frames(self.stream, frame_header(Opcode.PONG, len(data)) + data)
        if waiting is not None:
            self._pong_waiting = waiting
            waiting.add_done_callback(self._pong_sent)

    def _pong_sent(self, sent: asyncio.Future[None]) -> None:
        self._pong_waiting = None
        data, self._pong_next = self._pong_next, None
        if data is not None and not sent.cancelled() and sent.exception() is None:
            self._pong(data)

    def _fail(self, failure: Failure) -> None:
        """Fail the connection (RFC 6455 section 7.1.7): a close frame with the failure's code, then nothing more is processed.

        The socket is half-closed once the frame is on its way, and what the
        client still sends is read and dropped until it closes (or Tornado's
        5 s timer does): closing with unread data would send a TCP reset,
        which can destroy the close frame before the client reads it.
        """
        self._on_violation(failure.code, failure.reason)
        if failure.close_received:
            self.client_terminated = True  # its close frame came: finish now
        self.close(failure.code, failure.reason)
        if not self.client_terminated and not self.stream.closed():
            self.stream.write(b"").add_done_callback(self._half_close)

    def _half_close(self, flushed: asyncio.Future[None]) -> None:
        # write(b"") completes once everything written before it is on its way.
        if not flushed.cancelled() and flushed.exception() is None:
            half_close(self.stream)


def make_server_protocol(handler: WebSocketHandler, *, on_open: Callable[[ServerProtocol], None],
                         on_violation: Callable[[int, str], None], budget: ReceiveBudget | None = None) -> ServerProtocol | None:  # fmt: skip
    """What ``WebSocketHandler.get_websocket_protocol`` returns, with ``ServerProtocol`` instead of Tornado's.

    None (426 Upgrade Required) for a version other than 13, as Tornado
    answers. When ``handler.get_compression_options()`` is not None (Tornado's
    switch) ``deflate.negotiate`` answers the client's offer; Tornado gets no
    compression options. Relies on ``_WebSocketParams(ping_interval,
    ping_timeout, max_message_size, compression_options)`` as Tornado 6.4-6.6
    build it, and on headers set now being sent with the 101 response.
    """
    if handler.request.headers.get("Sec-WebSocket-Version") != "13":
        return None
    deflate = None
    if handler.get_compression_options() is not None:
        deflate = negotiate(", ".join(handler.request.headers.get_list("Sec-WebSocket-Extensions")))
        if deflate is not None:
            handler.set_header("Sec-WebSocket-Extensions", deflate.response)
    params = _WebSocketParams(ping_interval=handler.ping_interval, ping_timeout=handler.ping_timeout,
                              max_message_size=handler.max_message_size, compression_options=None)  # fmt: skip
    # Tornado's C helper unmasks (RFC 6455 section 5.3) 40 times as fast as receiver.unmask.
    receiver = Receiver(max_message_size=handler.max_message_size, budget=budget, deflate=deflate, unmask=_websocket_mask)
    return ServerProtocol(handler, params, receiver, deflate, on_open, on_violation)


# -- the server's fast path and shutdown ------------------------------------------------


def is_open(handler: WebSocketSide) -> bool:
    """True while ``handler``'s WebSocket is open and not closing.

    Relies on ``handler.ws_connection`` (set by Tornado once the upgrade
    starts, None after close) and its ``is_closing()``.
    """
    connection = handler.ws_connection
    return connection is not None and connection.stream is not None and not connection.is_closing()


def raw_stream(handler: WebSocketSide) -> IOStream | None:
    """The connection's IOStream, to write frames built by ``server/frames.py`` to; None if not usable.

    Tornado has no public "write these ready-made frames": its protocol keeps
    the socket's stream in ``ws_connection.stream``.
    """
    stream = getattr(handler.ws_connection, "stream", None)
    return stream if isinstance(stream, IOStream) else None


def connection_deflate(handler: WebSocketSide) -> Deflate | None:
    """The permessage-deflate the connection agreed on (the frames to send it may be compressed), or None."""
    return getattr(handler.ws_connection, "deflate", None)


def open_fast_stream(handler: WebSocketSide, plain_only: bool) -> IOStream | None:
    """``raw_stream(handler)`` if the WebSocket is open (``is_open``), else None: every check in one call.

    For the broadcast loop, which asks this of every client. ``plain_only``:
    also None for a connection with permessage-deflate (its frames differ).
    """
    connection = handler.ws_connection
    if connection is None or connection.is_closing() or (plain_only and getattr(connection, "deflate", None) is not None):
        return None
    stream = connection.stream
    return stream if isinstance(stream, IOStream) else None


def write_frames(stream: IOStream, data: bytes) -> "asyncio.Future[None] | None":
    """Write ready-made frames to ``stream``; None when they all went to the socket at once.

    ``IOStream.write`` makes a Future for every write: 1,000 per broadcast
    to 1,000 clients, and the collector's pauses they trigger made the tail
    of a broadcast slow (``bench/broadcast.py``). When nothing waits in the
    stream's buffer (``writing()``), the frames go straight to the socket;
    only what it does not take goes through ``IOStream.write``, in order.
    Relies on ``IOStream.socket``; a TLS stream always takes Tornado's way.
    """
    if stream.closed():
        return None
    if type(stream) is IOStream and not stream.writing():
        try:
            sent = stream.socket.send(data)
        except BlockingIOError:
            sent = 0
        except OSError:
            return None  # the connection is gone; Tornado's read side notices and calls on_close
        if sent == len(data):
            return None
        data = data[sent:]
    return stream.write(data)


def send_close_frame(handler: WebSocketSide, code: int, reason: str) -> None:
    """Send a close frame now, keeping Tornado's books for the rest of the close.

    ``handler.close()`` would also forget ``ws_connection``, which Tornado
    still needs when it aborts the connection right after an error in a
    callback. Relies on ``ws_connection.close()`` and ``is_closing()``.
    """
    if is_open(handler):
        assert handler.ws_connection is not None
        handler.ws_connection.close(code, reason)


def drop_socket(handler: WebSocketSide) -> None:
    """Close the TCP connection at once (a client that did not answer our close frame); Tornado then calls ``on_close``."""
    stream = raw_stream(handler)
    if stream is not None:
        stream.close()


def half_close(stream: IOStream) -> None:
    """Send FIN (no more data from us) but keep reading, so unread input does not turn our close into a reset.

    Relies on ``IOStream.socket``, the stream's socket (None once closed).
    """
    sock = stream.socket
    if sock is not None and not stream.closed():
        try:
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # already gone


# -- accepting connections ----------------------------------------------------------------


def add_guarded_sockets(server: TCPServer, sockets: Iterable[socket.socket], on_error: Callable[[OSError], float]) -> None:
    """``server.add_sockets(sockets)``, but an error from ``accept()`` pauses accepting instead of spinning.

    Tornado's accept handler re-raises any ``OSError`` but "would block": with
    every file descriptor in use (EMFILE) the loop calls it again at once,
    100 % CPU and a traceback per turn. Here ``on_error(error)`` decides what
    to record and returns how many seconds to stop accepting (connections
    wait in the kernel's backlog). Relies on ``TCPServer._sockets`` and
    ``_handlers`` (what ``stop()`` removes) and ``_handle_connection(connection,
    address)``, as ``add_sockets`` uses them in Tornado 6.
    """
    io_loop = IOLoop.current()
    for sock in sockets:
        server._sockets[sock.fileno()] = sock
        server._handlers[sock.fileno()] = _accept_guarded(io_loop, server, sock, on_error)


def _accept_guarded(
    io_loop: IOLoop, server: TCPServer, sock: socket.socket, on_error: Callable[[OSError], float]
) -> Callable[[], None]:
    state: dict[str, Any] = {"removed": False, "paused": None}

    def resume() -> None:
        state["paused"] = None
        if not state["removed"]:
            io_loop.add_handler(sock, accept, IOLoop.READ)

    def accept(fd: Any, events: int) -> None:
        for _ in range(128):  # at most a backlog's worth per turn, as Tornado does
            if state["removed"]:
                return
            try:
                connection, address = sock.accept()
            except BlockingIOError:
                return
            except ConnectionAbortedError:
                continue
            except OSError as error:
                pause = on_error(error)
                io_loop.remove_handler(sock)
                state["paused"] = io_loop.call_later(pause, resume)
                return
            server._handle_connection(connection, address)

    def remove() -> None:
        state["removed"] = True
        if state["paused"] is not None:
            io_loop.remove_timeout(state["paused"])
        else:
            io_loop.remove_handler(sock)

    io_loop.add_handler(sock, accept, IOLoop.READ)
    return remove


# -- the client side ----------------------------------------------------------------------


def client_has_ended(connection: WebSocketClientConnection) -> bool:
    """True once ``connection`` was closed by either side.

    Relies on ``WebSocketClientConnection.protocol``, which Tornado sets to
    None in ``close()``; ``close_code`` alone stays None after a drop.
    """
    return connection.protocol is None


class _DropNotingConnection(WebSocketClientConnection):
    """Tornado's client connection, also noting whether it ended without a close frame (``dropped``)."""

    dropped = False

    def get_websocket_protocol(self) -> WebSocketProtocol:
        # Called once the handshake is done, before the receive loop starts:
        # a drop right after the handshake is noted too.
        protocol = super().get_websocket_protocol()
        abort = protocol._abort

        def noting_abort() -> None:
            if not protocol.client_terminated:  # no close frame came before the end
                self.dropped = True
            abort()

        protocol._abort = noting_abort  # type: ignore[method-assign]
        return protocol


def websocket_connect_noting_drops(
    request: HTTPRequest, *, ping_interval: float | None = None, max_message_size: int = 10 * 1024 * 1024
) -> "Future[WebSocketClientConnection]":
    """What ``tornado.websocket.websocket_connect(request, ...)`` does, with a connection that notes a drop.

    RFC 6455 7.1.5: a connection that ended without a close frame has the
    close code 1006, one whose close frame carried no code 1005. Tornado's
    client says None for both; it ends every connection that got no close
    frame (dropped, or closed by this side without an answer) through
    ``protocol._abort()`` while ``client_terminated`` is still False, which
    this connection notes (:func:`ended_without_close_frame`). Relies on
    ``WebSocketClientConnection`` being made directly (its docs say to use
    ``websocket_connect``), its ``get_websocket_protocol``, the protocol's
    ``_abort`` and ``client_terminated``, and ``httpclient._RequestProxy``
    with ``HTTPRequest._DEFAULTS``, as ``websocket_connect`` uses them.
    """
    request.headers = HTTPHeaders(request.headers)
    proxied = cast(HTTPRequest, _RequestProxy(request, HTTPRequest._DEFAULTS))
    connection = _DropNotingConnection(proxied, ping_interval=ping_interval, max_message_size=max_message_size)
    return connection.connect_future


def ended_without_close_frame(connection: WebSocketClientConnection) -> bool:
    """True when ``connection`` (made by :func:`websocket_connect_noting_drops`) ended without a close frame."""
    return bool(getattr(connection, "dropped", False))
