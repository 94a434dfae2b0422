"""Every use of Tornado's undocumented internals, in one place.

Tornado documents ``WebSocketHandler`` and ``WebSocketClientConnection`` by
their public methods. The tutorial needs a little more: frames built once
and written straight to many sockets (the fast path of ``server/frames.py``),
a receive side that holds clients to RFC 6455 (close codes, masking, 1002 on
protocol errors, 1007 on bad UTF-8, a memory budget for partly received
messages), and telling whether a client connection has ended. Each of these
relies on something Tornado may change in any release; each says here what
it relies on, and ``tests/test_tornado_internals.py`` fails if it breaks.
``pyproject.toml`` pins ``tornado>=6.4,<7``; checked against 6.4 to 6.6.

Nothing else in the package touches a name with a leading underscore of
Tornado's, ``ws_connection`` or ``WebSocketClientConnection.protocol``.
The client side imports this module too, so it imports only Tornado.
"""

from __future__ import annotations

import asyncio
import codecs
import collections
import contextvars
import socket
import struct
from typing import Any, Callable, Iterable, Optional, Protocol, cast

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
)

from .protocol import CloseCode, Opcode

__all__ = [
    "ReceiveBudget",
    "ServerProtocol",
    "WebSocketSide",
    "add_guarded_sockets",
    "client_has_ended",
    "close_code_may_be_sent",
    "drop_socket",
    "forget_response_headers",
    "half_close",
    "is_open",
    "make_server_protocol",
    "open_fast_stream",
    "raw_stream",
    "send_close_frame",
    "websocket_connect_noting_drops",
    "ended_without_close_frame",
    "write_frames",
]

# Bytes read from the socket at a time while a frame's payload arrives: text
# is checked as it comes (a bad byte closes at once, not after the message),
# and a partly received message is counted against the server's budget.
READ_CHUNK = 64 * 1024

# Plain ints (wstutorial.protocol.Opcode's values): compared for every frame received.
_CONTINUATION, _TEXT, _BINARY, _CLOSE, _PING, _PONG = (int(opcode) for opcode in Opcode)
_KNOWN_OPCODES = frozenset((_CONTINUATION, _TEXT, _BINARY, _CLOSE, _PING, _PONG))
_FIN, _RSV1, _RSV_MASK, _MASK_BIT = 0x80, 0x40, 0x70, 0x80
_DATA_OPCODES = frozenset((_TEXT, _BINARY))
_CONTROL_OPCODES = frozenset((_CLOSE, _PING, _PONG))

# Fairness, as Tornado 6.6's own receive loop does it: after this much work
# (bytes, plus a fixed cost per frame) one connection lets the others run,
# so a client sending many tiny frames cannot hold the loop.
_YIELD_THRESHOLD = 256 * 1024
_FRAME_COST = 1024

# Why the receive loop is woken (besides a handler's awaitable): the next
# frame needs the general way; time to let other connections run; the end.
_GENERAL = object()
_YIELD = object()
_END = object()


class WebSocketSide(Protocol):
    """What the fast-path helpers below read of a server-side handler (every ``WebSocketHandler`` has it).

    A protocol, so the hub can type its connections without importing the handlers.
    """

    ws_connection: WebSocketProtocol | None

    def get_compression_options(self) -> dict[str, Any] | None: ...


def close_code_may_be_sent(code: int) -> bool:
    """True for close codes a peer may put in a close frame (RFC 6455 section 7.4, IANA registry).

    1004 is reserved, 1005, 1006 and 1015 must never be sent, other codes
    below 3000 are unassigned; 3000-3999 are registered by libraries and
    4000-4999 are for applications.
    """
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


class ReceiveBudget(Protocol):
    """Bytes of partly received messages the whole server may hold (see ``server/limits.py``)."""

    def take(self, size: int) -> bool:
        """Reserve ``size`` bytes; False (and nothing reserved) when that would exceed the budget."""
        ...

    def give(self, size: int) -> None:
        """Return ``size`` bytes reserved earlier."""
        ...


def _unmask(mask: bytes, data: bytes, offset: int) -> bytes:
    """``data`` XOR the 4-byte ``mask`` (RFC 6455 section 5.3), starting ``offset`` bytes into the payload."""
    if not data:
        return data
    shift = offset % 4
    key = (mask[shift:] + mask[:shift]) * (len(data) // 4 + 1)
    size = len(data)
    return (int.from_bytes(data, "big") ^ int.from_bytes(key[:size], "big")).to_bytes(size, "big")


# A ping frame with no payload (RFC 6455 section 5.5.2): FIN + opcode 0x9, length 0.
EMPTY_PING = b"\x89\x00"


class PingRound:
    """Pings every open connection of one event loop from one timer (RFC 6455 section 5.5.2).

    Does what Tornado's ``periodic_ping`` does for each connection (a ping
    every ``ping_interval`` seconds; no pong within ``ping_timeout``: close
    with "ping timed out"), but from one timer per loop and settings instead
    of one Task per connection, so an idle connection costs less memory.
    Each connection keeps its own schedule, from when it opened: the timer
    wakes every tenth of the shorter of interval and timeout (at least every
    50 ms) and pings only the connections that are due, oldest first, so
    10,000 clients that connected over a minute are not all pinged (and do
    not all answer) in the same moment, which would hold up a broadcast.
    A dead connection is closed at most one tick later than Tornado would.
    Relies on ``WebSocketProtocol13.stream`` (pings are written to it as
    ready-made frames, see ``write_frames``), ``ping_interval``,
    ``ping_timeout`` and ``_received_pong`` (set when a pong arrives).
    """

    _rounds: dict[tuple[int, float, float], PingRound] = {}

    def __init__(self, key: tuple[int, float, float], interval: float, timeout: float) -> None:
        from tornado.ioloop import IOLoop, PeriodicCallback

        self.key = key
        self.interval = interval
        self.timeout = timeout
        self.members: set[ServerProtocol] = set()
        # The members by when they were last pinged, oldest first (each goes to
        # the back when pinged); one that left is dropped when it comes up.
        self.order: collections.deque[ServerProtocol] = collections.deque()
        self.loop = IOLoop.current()
        tick = max(0.05, min(interval, timeout if timeout > 0 else interval) / 10)
        self.timer = PeriodicCallback(self._tick, tick * 1000)
        self.timer.start()

    @classmethod
    def join(cls, protocol: ServerProtocol) -> None:
        from tornado.ioloop import IOLoop

        loop = IOLoop.current()
        key = (id(loop), float(protocol.ping_interval), float(protocol.ping_timeout))
        round_ = cls._rounds.get(key)
        if round_ is None or round_.loop is not loop:
            round_ = cls._rounds[key] = PingRound(key, key[1], key[2])
        protocol._pinged_at = loop.time()  # as if a ping had been answered just now
        protocol._received_pong = True
        round_.members.add(protocol)
        round_.order.append(protocol)

    @classmethod
    def leave(cls, protocol: ServerProtocol) -> None:
        for round_ in list(cls._rounds.values()):
            if protocol in round_.members:
                round_.members.discard(protocol)
                round_._stop_if_empty()

    def _stop_if_empty(self) -> None:
        if not self.members:
            self.timer.stop()
            self.order.clear()
            if self._rounds.get(self.key) is self:
                del self._rounds[self.key]

    def _gone(self, protocol: ServerProtocol) -> bool:
        if protocol not in self.members:
            return True
        if protocol.stream is None or protocol.stream.closed() or protocol.server_terminated:
            self.members.discard(protocol)
            return True
        return False

    def _tick(self) -> None:
        now = self.loop.time()
        order = self.order
        while order:
            protocol = order[0]
            if self._gone(protocol):
                order.popleft()
                continue
            if now - protocol._pinged_at < self.interval:
                break  # the rest were pinged later still
            order.popleft()
            if self.timeout > 0 and not protocol._received_pong:
                self.members.discard(protocol)
                protocol.close(reason="ping timed out")
                continue
            protocol._received_pong = False
            protocol._pinged_at = now
            try:
                # Control frames are never compressed (RFC 7692 section 6.1),
                # so the ready-made frame is right for every connection; the
                # fast path leaves no Future per connection for the collector.
                write_frames(protocol.stream, EMPTY_PING)
            except Exception:  # the stream closed between the check and the write
                self.members.discard(protocol)
                continue
            order.append(protocol)
        if 0 < self.timeout < self.interval:
            # Unanswered pings older than the timeout, among those not yet due again.
            late = []
            for protocol in order:
                if now - protocol._pinged_at < self.timeout:
                    break
                if not protocol._received_pong and not self._gone(protocol):
                    late.append(protocol)
            for protocol in late:
                self.members.discard(protocol)
                protocol.close(reason="ping timed out")
        self._stop_if_empty()


class ServerProtocol(WebSocketProtocol13):
    """Tornado's RFC 6455 protocol, with the receive side held to the RFC.

    Relies on: ``WebSocketProtocol13.__init__(handler, mask_outgoing, params)``
    and ``tornado.websocket._WebSocketParams`` (built in
    ``make_server_protocol``); ``_receive_frame_loop`` awaiting
    ``_receive_frame()`` once per frame until ``client_terminated``;
    ``_handle_message(opcode, payload)`` acting on a whole message (binary
    and control frames); ``_run_callback(on_message, text)``
    calling the handler as ``_handle_message`` does (text, decoded here once);
    ``start_pinging()`` being called once, after the 101 response and before
    ``handler.open()``; ``_abort()`` closing the socket;
    ``_decompressor``/``_frame_compressed`` for permessage-deflate.

    What it changes (Tornado 6.6 drops the TCP connection or accepts):

    - protocol errors (reserved bits or opcodes, an unmasked frame, a
      fragmented or long control frame, a continuation with nothing to
      continue, a new message inside a fragmented one, a close frame with a
      1-byte payload or a code that may not be sent) close with 1002;
    - text that is not UTF-8 (also in a close reason) closes with 1007, as
      soon as the bad byte arrives, not after the whole message (compressed
      text, with a handler that turns permessage-deflate on: once inflated);
    - the bytes of partly received messages count against ``budget``; a
      client that would exceed it is closed with 1013 (try again later).

    After such a close nothing more from the client is processed; the
    socket is half-closed and drained (see ``_fail``).
    """

    # Our per-connection state lives in slots, not in the instance dict:
    # Tornado's protocol already has 29 attributes, and CPython shares an
    # instance dict's keys between instances only below 30; one more key
    # would give every connection a dict of its own (about 1.3 kB more).
    __slots__ = (
        "_on_open",
        "_on_violation",
        "_budget",
        "_held",
        "_parts",
        "_parts_size",
        "_message_opcode",
        "_text_decoder",
        "_text_parts",
        "_failed",
        "_pinged_at",
        "_inbuf",
        "_inpos",
        "_wake",
        "_read_callback",
        "_context",
    )

    def __init__(
        self,
        handler: WebSocketHandler,
        params: object,
        *,
        on_open: Callable[[], None],
        on_violation: Callable[[int, str], None],
        budget: ReceiveBudget | None,
    ) -> None:
        super().__init__(handler, False, params)  # type: ignore[arg-type]
        self._on_open = on_open
        self._pinged_at = 0.0  # when the last ping went out (PingRound)
        self._on_violation = on_violation
        self._budget = budget
        self._held = 0  # bytes of the current partial message counted against the budget
        self._parts: list[bytes] | None = None  # fragments of a message in progress
        self._parts_size = 0
        self._message_opcode = 0
        self._text_decoder: codecs.IncrementalDecoder | None = None
        self._text_parts: list[str] = []  # a text message, decoded as it arrives
        self._failed = False
        self._inbuf = b""  # bytes read from the stream, not yet parsed: self._inbuf[self._inpos:]
        self._inpos = 0
        self._wake: asyncio.Future[object] | None = None  # what the receive loop awaits (see _receive_frame_loop)
        self._read_callback: Callable[[asyncio.Future[bytes]], None] | None = None

    # -- life cycle hooks ------------------------------------------------------------

    def start_pinging(self) -> None:
        # Tornado calls this once the 101 response is written and the stream is
        # ours, just before handler.open(): the moment the WebSocket is open.
        # Tornado would start a Task per connection that sleeps between pings
        # (about 1 kB each); one PingRound per loop pings them all instead.
        self._on_open()
        forget_response_headers(self.handler)
        if self.ping_interval > 0:
            PingRound.join(self)

    def close(self, code: int | None = None, reason: str | None = None) -> None:
        PingRound.leave(self)
        super().close(code, reason)

    def _abort(self) -> None:
        self._release()
        super()._abort()

    # -- failing the connection ------------------------------------------------------

    def _fail(self, code: int, reason: str) -> None:
        """Fail the connection (RFC 6455 section 7.1.7): a close frame with ``code``, then no more processing.

        The socket is half-closed once the frame is on its way and what the
        client still sends is read and dropped until it closes (or Tornado's
        5 s timer does): closing at once with unread data would send a TCP
        reset, which can destroy the close frame before the client reads it.
        """
        if self._failed:
            return
        self._failed = True
        self._reset_message()
        self._release()
        self._on_violation(code, reason)
        self.close(code, reason)  # the close frame, then Tornado's 5 s timer
        if not self.stream.closed():
            self.stream.write(b"").add_done_callback(self._half_close)

    def _half_close(self, flushed: "asyncio.Future[None]") -> None:
        # write(b"") completes once everything written before it is on its way.
        if not flushed.cancelled() and flushed.exception() is None:
            half_close(self.stream)

    def _reset_message(self) -> None:
        """Forget the message in progress (its budget is given back by ``_release``)."""
        self._parts = None
        self._parts_size = 0
        self._text_decoder = None
        self._text_parts = []

    def _release(self) -> None:
        if self._held and self._budget is not None:
            self._budget.give(self._held)
        self._held = 0

    # -- reading frames --------------------------------------------------------------

    async def _receive_frame_loop(self) -> None:
        """Tornado's receive loop, reading whatever has arrived at once and handling whole small frames in a callback.

        Tornado's loop makes a coroutine per frame and reads a frame in two to
        four ``read_bytes`` calls. What waits for an idle connection's next
        frame (a pong every ping interval) lives long enough to reach the
        collector's oldest generation; with 10,000 connections, 11 such
        objects per frame triggered full collections that paused a broadcast
        for most of a second (see ``bench/broadcast.py``). Here an idle
        connection waits in one ``read_bytes(partial=True)`` with a callback
        (``_data_arrived``): one Future per frame, no coroutine, no Task
        wake-up. A whole frame of under 126 bytes (every control frame, the
        usual message) is checked and handled right in the callback. This
        coroutine is woken only for what must wait: anything else takes the
        general way (``_receive_frame``, reading from the same buffer first);
        a handler's ``on_message`` that returns an awaitable is awaited before
        anything more is read, as Tornado does. (A plain ``on_message`` is
        called from that callback, in a context copied once per connection:
        ``asyncio.current_task()`` is None there, as in any loop callback.)
        Relies on Tornado awaiting ``_receive_frame_loop()`` once, after
        ``handler.open()``; on ``client_terminated`` (set when the client's
        close frame is handled), ``_abort()`` and
        ``handler.on_ws_connection_close(close_code, close_reason)``, as
        Tornado 6.4 to 6.6 end their own loop.
        """
        loop = asyncio.get_running_loop()
        # Made once per connection: a callback given its own context needs no copy per read.
        self._context = contextvars.copy_context()
        self._read_callback = self._data_arrived
        try:
            while not self.client_terminated:
                wake = self._wake = loop.create_future()
                self._handle_buffered()
                try:
                    why = await wake
                finally:
                    # A failed wake-up holds its exception, whose traceback
                    # holds this frame: no cycle may outlive the connection.
                    del wake
                if why is _GENERAL:
                    await self._receive_frame()
                elif why is _YIELD:
                    await asyncio.sleep(0)  # others' turn (see _YIELD_THRESHOLD)
                elif why is not _END:
                    try:
                        await cast("asyncio.Future[None]", why)  # the handler's on_message
                    finally:
                        self._release()
        except StreamClosedError:
            self._abort()
        finally:
            # The callback is a bound method of this protocol: without this, a
            # closed connection would wait for the collector to be freed.
            self._wake = self._read_callback = None
            self.handler.on_ws_connection_close(self.close_code, self.close_reason)

    def _handle_buffered(self) -> None:
        """Handle the whole small frames in the buffer, then read on with a callback; wake the loop for anything else."""
        wake = self._wake
        assert wake is not None
        try:
            work = 0
            while not self.client_terminated:
                if self._inpos >= len(self._inbuf):
                    self._inbuf = b""  # not kept alive while the connection is idle
                    self._inpos = 0
                    # read_bytes returns a Future (typed as an Awaitable): a callback, not an await.
                    arriving = cast("asyncio.Future[bytes]", self.stream.read_bytes(READ_CHUNK, partial=True))
                    callback = self._read_callback
                    assert callback is not None  # set while the receive loop runs
                    arriving.add_done_callback(callback, context=self._context)
                    return
                if self._failed:
                    self._inbuf = b""  # dropped unread, as RFC 6455 section 7.1.7 asks
                    continue
                start = self._inpos
                handled = self._whole_small_frame()
                if handled is not None:  # _GENERAL, or the handler's awaitable
                    wake.set_result(handled)
                    return
                work += _FRAME_COST + self._inpos - start
                if work >= _YIELD_THRESHOLD:
                    wake.set_result(_YIELD)
                    return
            wake.set_result(_END)
        except Exception as error:  # StreamClosedError from read_bytes, or a bug: raised in the loop
            if not wake.done():
                wake.set_exception(error)

    def _data_arrived(self, arrived: "asyncio.Future[bytes]") -> None:
        """``read_bytes``' callback: what arrived goes to the buffer and is handled."""
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
        self._inbuf = arrived.result()
        self._inpos = 0
        self._handle_buffered()

    def _whole_small_frame(self) -> object:
        """Handle the next frame now if it is whole in the buffer and plain; else ``_GENERAL``.

        Plain: masked, under 126 bytes, FIN set, no reserved bits (so not
        compressed), a data frame that starts a message within
        max_message_size or a ping, pong or close. Anything else, errors
        included, is left in the buffer for ``_receive_frame``, which checks
        it and says what is wrong. Returns what the handler returned for a
        data message (to await before reading on), else None.
        """
        buf = self._inbuf
        pos = self._inpos
        if len(buf) - pos < 6:
            return _GENERAL
        header = buf[pos]
        second = buf[pos + 1]
        length = second & 0x7F
        end = pos + 6 + length
        if length >= 126 or not second & _MASK_BIT or end > len(buf) or header & 0xF0 != _FIN:
            return _GENERAL
        opcode = header & 0x0F
        if opcode in _DATA_OPCODES:
            if self._parts is not None or length > self.params.max_message_size:
                return _GENERAL
        elif opcode not in _CONTROL_OPCODES:
            return _GENERAL
        self._inpos = end
        payload = _websocket_mask(buf[pos + 2 : pos + 6], buf[pos + 6 : end]) if length else b""
        if opcode in _CONTROL_OPCODES:
            self._handle_control(opcode, payload)
            return None
        handled = self._deliver(opcode, payload)
        if handled is None:
            self._release()
        return handled

    async def _read(self, size: int) -> bytes:
        """Exactly ``size`` bytes: what is buffered first, then from the stream."""
        buf, pos = self._inbuf, self._inpos
        have = len(buf) - pos
        if have >= size:
            self._inpos = pos + size
            return buf[pos : pos + size]
        head = buf[pos:]
        self._inbuf, self._inpos = b"", 0
        return head + await self.stream.read_bytes(size - have)

    async def _read_some(self, most: int) -> bytes:
        """Between 1 and ``most`` bytes: what is buffered, else what the stream has."""
        buf, pos = self._inbuf, self._inpos
        if pos < len(buf):
            chunk = buf[pos : pos + most]
            self._inpos = pos + len(chunk)
            return chunk
        return await self.stream.read_bytes(most, partial=True)

    async def _receive_frame(self) -> None:
        """The general way for one frame: any size, fragments, compression, and every check with its close code."""
        header, second = struct.unpack("BB", await self._read(2))
        fin = bool(header & _FIN)
        rsv = header & _RSV_MASK
        opcode = header & 0x0F
        control = bool(opcode & 0x8)
        compressed = False
        if self._decompressor is not None and opcode in (_TEXT, _BINARY):
            # permessage-deflate (RFC 7692): RSV1 on a message's first frame only.
            compressed = bool(rsv & _RSV1)
            rsv &= ~_RSV1
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", await self._read(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", await self._read(8))
        masked = bool(second & _MASK_BIT)
        mask = await self._read(4) if masked else b""

        error = self._frame_error(fin, rsv, opcode, control, masked, length)
        in_message = self._parts_size if opcode == _CONTINUATION else 0
        if error is None and not control and in_message + length > self.params.max_message_size:
            # As Tornado does: say so and drop the connection without reading the rest.
            self._on_violation(CloseCode.MESSAGE_TOO_BIG, "message too big")
            self.close(CloseCode.MESSAGE_TOO_BIG, "message too big")
            self._abort()
            return
        if error is not None:
            self._fail(CloseCode.PROTOCOL_ERROR, error)
            return

        if opcode in (_TEXT, _BINARY):
            self._message_opcode = opcode
            self._frame_compressed = compressed
            self._parts = []
            self._parts_size = 0
            text = opcode == _TEXT and not compressed
            self._text_decoder = codecs.getincrementaldecoder("utf-8")() if text else None
        # A control frame may come between the fragments of a text message: not text.
        decoder = None if control else self._text_decoder
        payload = await self._read_payload(length, mask, counted=not control, decoder=decoder)
        if payload is None:
            return
        if control:
            self._handle_control(opcode, payload)
            return
        assert self._parts is not None
        if self._text_decoder is None:
            self._parts.append(payload)  # text is kept decoded, in _text_parts
        self._parts_size += length
        if not fin:
            return
        handled: Optional["asyncio.Future[None]"]
        if self._text_decoder is not None:
            try:
                self._text_parts.append(self._text_decoder.decode(b"", final=True))
            except UnicodeDecodeError:
                self._fail(CloseCode.INVALID_DATA, "text message is not valid UTF-8")
                return
            text = "".join(self._text_parts)
            self._reset_message()  # its budget is given back once the handler is done
            # Already decoded: straight to on_message as Tornado's _handle_message
            # would, without decoding it a second time (relies on _run_callback).
            handled = None if self.client_terminated else self._run_callback(self.handler.on_message, text)
        else:
            message = self._parts[0] if len(self._parts) == 1 else b"".join(self._parts)
            opcode = self._message_opcode
            self._reset_message()
            if opcode == _TEXT and self._frame_compressed and not self.client_terminated:
                handled = self._compressed_text(message)
            else:
                handled = self._handle_message(opcode, message)
        try:
            if handled is not None:
                await handled
        finally:
            self._release()

    def _deliver(self, opcode: int, payload: bytes) -> Optional["asyncio.Future[None]"]:
        """Hand a whole one-frame message to the handler: budget, then UTF-8 (1007) for text.

        Returns what ``_run_callback``/``_handle_message`` return (to await
        before reading on); the caller gives the budget back (``_release``)
        once the handler is done.
        """
        if self._budget is not None:
            if not self._budget.take(len(payload)):
                self._on_violation(CloseCode.TRY_AGAIN_LATER, "the server holds too much partly received data")
                self.close(CloseCode.TRY_AGAIN_LATER, "server busy, try again later")
                self._abort()
                return None
            self._held += len(payload)
        if self._decompressor is not None:
            self._frame_compressed = False  # RSV1 unset: this message is not compressed
        if opcode == _TEXT:
            try:
                text = payload.decode("utf-8")
            except UnicodeDecodeError:
                self._fail(CloseCode.INVALID_DATA, "text message is not valid UTF-8")
                return None
            # Straight to on_message, as Tornado's _handle_message would (relies on _run_callback).
            return None if self.client_terminated else self._run_callback(self.handler.on_message, text)
        return self._handle_message(opcode, payload)

    def _compressed_text(self, data: bytes) -> Optional["asyncio.Future[None]"]:
        """Inflate and check a permessage-deflate text message, then hand it to ``on_message``.

        Tornado's ``_handle_message`` would drop the connection on bad UTF-8
        without a close frame. Relies on ``_decompressor.decompress()`` and
        ``tornado.websocket._DecompressTooLargeError`` (inflated beyond
        max_message_size), as ``_handle_message`` uses them.
        """
        from tornado.websocket import _DecompressTooLargeError

        assert self._decompressor is not None
        try:
            data = self._decompressor.decompress(data)
        except _DecompressTooLargeError:
            self._on_violation(CloseCode.MESSAGE_TOO_BIG, "message too big after decompression")
            self.close(CloseCode.MESSAGE_TOO_BIG, "message too big after decompression")
            self._abort()
            return None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            self._fail(CloseCode.INVALID_DATA, "text message is not valid UTF-8")
            return None
        return self._run_callback(self.handler.on_message, text)

    def _frame_error(self, fin: bool, rsv: int, opcode: int, control: bool, masked: bool, length: int) -> str | None:
        """Why this frame header breaks RFC 6455 (section 5), or None."""
        if rsv:
            return f"reserved bits {rsv >> 4:03b} set without an extension that defines them"
        if opcode not in _KNOWN_OPCODES:
            return f"reserved opcode {opcode:#x}"
        if not masked:
            return "client frames must be masked"
        if control and not fin:
            return "control frames must not be fragmented"
        if control and length > 125:
            return f"control frame of {length} bytes (at most 125)"
        if opcode == _CONTINUATION and self._parts is None:
            return "continuation frame without a message to continue"
        if opcode in (_TEXT, _BINARY) and self._parts is not None:
            return "new message started before the previous one ended"
        return None

    async def _read_payload(
        self, length: int, mask: bytes, *, counted: bool, decoder: codecs.IncrementalDecoder | None
    ) -> bytes | None:
        """The unmasked payload; None when the connection failed while it arrived.

        With a ``decoder`` (text), the payload is decoded into ``_text_parts``
        as it arrives and b"" is returned.
        """
        chunks: list[bytes] = []
        done = 0
        while done < length:
            chunk = await self._read_some(min(length - done, READ_CHUNK))
            if counted and self._budget is not None:
                if not self._budget.take(len(chunk)):
                    self._on_violation(CloseCode.TRY_AGAIN_LATER, "the server holds too much partly received data")
                    self.close(CloseCode.TRY_AGAIN_LATER, "server busy, try again later")
                    self._abort()
                    return None
                self._held += len(chunk)
            chunk = _unmask(mask, chunk, done)
            done += len(chunk)
            if decoder is not None:
                try:
                    self._text_parts.append(decoder.decode(chunk))
                except UnicodeDecodeError:
                    self._fail(CloseCode.INVALID_DATA, "text message is not valid UTF-8")
                    return None
            else:
                chunks.append(chunk)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def _handle_control(self, opcode: int, payload: bytes) -> None:
        if opcode == _CLOSE:
            if len(payload) == 1:
                self._fail(CloseCode.PROTOCOL_ERROR, "a close frame's payload is empty or at least 2 bytes")
                self.client_terminated = True  # its close frame came: finish now
                self.close()
                return
            if len(payload) >= 2:
                (code,) = struct.unpack("!H", payload[:2])
                if not close_code_may_be_sent(code):
                    self._fail(CloseCode.PROTOCOL_ERROR, f"close code {code} may not be sent")
                    self.client_terminated = True
                    self.close()
                    return
                try:
                    payload[2:].decode("utf-8")
                except UnicodeDecodeError:
                    self._fail(CloseCode.INVALID_DATA, "close reason is not valid UTF-8")
                    self.client_terminated = True
                    self.close()
                    return
        # Tornado's _handle_message inflates whatever it is given while
        # _frame_compressed is set; a control frame is never compressed.
        compressed, self._frame_compressed = self._frame_compressed, False
        try:
            self._handle_message(opcode, payload)
        finally:
            self._frame_compressed = compressed


def forget_response_headers(handler: object) -> None:
    """Let go of the 101 response's headers once they are written: about 0.8 kB per open connection.

    Tornado keeps a handler's outgoing headers (``RequestHandler._headers``,
    an ``HTTPHeaders`` with a list per header) for the connection's whole
    life, though nothing reads them after the response is written: once the
    WebSocket is open Tornado makes ``set_header``, ``flush`` and ``finish``
    raise, and an error no longer sends a response. Relies on
    ``_headers`` being read only to write the response.
    """
    from tornado.httputil import HTTPHeaders

    if isinstance(handler, WebSocketHandler):  # Tornado types a protocol's handler as a delegate
        handler._headers = HTTPHeaders()


def make_server_protocol(
    handler: WebSocketHandler,
    *,
    on_open: Callable[[], None],
    on_violation: Callable[[int, str], None],
    budget: ReceiveBudget | None = None,
) -> ServerProtocol | None:
    """What ``WebSocketHandler.get_websocket_protocol`` returns, with ``ServerProtocol`` instead of Tornado's.

    Relies on ``tornado.websocket._WebSocketParams`` (keyword arguments
    ping_interval, ping_timeout, max_message_size, compression_options),
    built as Tornado 6.4-6.6 build it; None (426 Upgrade Required) for a
    version other than 13, as Tornado answers.
    """
    from tornado.websocket import _WebSocketParams

    if handler.request.headers.get("Sec-WebSocket-Version") != "13":
        return None
    params = _WebSocketParams(
        ping_interval=handler.ping_interval,
        ping_timeout=handler.ping_timeout,
        max_message_size=handler.max_message_size,
        compression_options=handler.get_compression_options(),
    )
    return ServerProtocol(handler, params, on_open=on_open, on_violation=on_violation, budget=budget)


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

    Tornado has no public "write these ready-made frames": its protocol
    object keeps the socket's stream in ``ws_connection.stream``
    (``WebSocketProtocol13``, Tornado 6's only protocol). Frames built
    here carry no extension bits, so they are only right when the handler
    does not offer compression (``get_compression_options()`` is None,
    Tornado's default); otherwise None and the caller uses ``write_message``.
    """
    if handler.get_compression_options() is not None:
        return None
    connection: WebSocketProtocol | None = handler.ws_connection
    stream = getattr(connection, "stream", None)
    return stream if isinstance(stream, IOStream) else None


def write_frames(stream: IOStream, data: bytes) -> "asyncio.Future[None] | None":
    """Write ready-made frames to ``stream``; None when they all went to the socket at once.

    ``IOStream.write`` makes a Future (and schedules a callback on it) for
    every write; to 1,000 clients that is 1,000 Futures per broadcast, and
    the garbage collector's pauses they trigger are what made the tail of a
    broadcast slow (see ``bench/broadcast.py``). When nothing is waiting in
    the stream's buffer (``writing()`` is False, documented), the frames go
    straight to the socket; only what the socket does not take at once goes
    through ``IOStream.write``, in order, and gets a Future to track.
    Relies on ``IOStream.socket`` (the connected socket the stream was made
    with); a TLS stream (``SSLIOStream``) always takes Tornado's way.
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


def open_fast_stream(handler: WebSocketSide) -> IOStream | None:
    """``raw_stream(handler)`` if the WebSocket is open (``is_open``), else None: both checks in one call.

    For the broadcast loop, which asks this of every client. Relies on what
    ``is_open`` and ``raw_stream`` rely on.
    """
    connection = handler.ws_connection
    if connection is None or connection.is_closing() or handler.get_compression_options() is not None:
        return None
    stream = connection.stream
    return stream if isinstance(stream, IOStream) else None


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
    """Close the TCP connection at once (a client that did not answer our close frame).

    Relies on ``ws_connection.stream``; Tornado then calls ``on_close``.
    """
    connection = handler.ws_connection
    stream = getattr(connection, "stream", None)
    if isinstance(stream, IOStream):
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

    Tornado's accept handler re-raises any ``OSError`` but "would block":
    with every file descriptor in use (EMFILE) the listening socket stays
    readable, so the loop calls it again at once, 100 % CPU and one asyncio
    traceback per turn. Here ``on_error(error)`` is called (it decides what
    to record) and returns how many seconds to stop accepting on that
    socket; connections wait in the kernel's backlog meanwhile.

    Relies on ``TCPServer._sockets`` and ``_handlers`` (what ``stop()``
    closes and removes) and ``TCPServer._handle_connection(connection,
    address)`` (wraps the socket in an IOStream, calls ``handle_stream``),
    as ``add_sockets`` uses them in Tornado 6.
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
