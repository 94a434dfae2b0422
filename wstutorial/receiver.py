"""RFC 6455's receive rules for a server, without I/O: bytes in, events out.

A ``Receiver`` is given what a client sent, in pieces of any size
(``receive_data``), and hands back, one at a time, what it means
(``next_event``): a whole message (``Message``: text as ``str``, binary as
``bytes``), a ``Ping``, a ``Pong``, the client's ``Close``, or a ``Failure``:
the close code and reason with which the connection must now be failed
(RFC 6455 section 7.1.7). After a close or a failure it drops everything.
It sends nothing itself: answering pings, echoing a close and failing the
connection are for the code around it (``tornado_internals.ServerProtocol``).

The rules it holds, each with its close code:

- 1002 (protocol error): reserved bits without an extension that defines
  them, reserved opcodes, an unmasked client frame, a 64-bit length with
  its highest bit set, a fragmented or long (over 125 bytes) control frame, a continuation with nothing to continue,
  a new message inside a fragmented one, a close frame with a 1-byte
  payload or a code that may not be sent, compressed data that does not
  inflate;
- 1007 (invalid data): text that is not UTF-8, found as soon as the bad
  byte arrives (not once the message is whole), also in a close reason and
  in compressed text once inflated;
- 1009 (message too big): a message over ``max_message_size`` bytes, seen
  from a frame's header before its payload is read (when compressed: from
  what it inflates to, inflating no more than that, so a "zip bomb" costs
  nothing);
- 1013 (try again later): the bytes of partly received messages are held
  against a ``budget`` shared by all connections (``server/limits.py``);
  one that would go over it gets 1013.

Idle, a receiver holds no objects beyond its own: a waiting connection
costs the garbage collector nothing per frame (see ``bench/idle.py``).
"""

from __future__ import annotations

import codecs
import dataclasses
import zlib
from typing import Callable, Protocol

from .deflate import EMPTY_BLOCK, Deflate
from .protocol import DEFAULT_MAX_MESSAGE_SIZE, CloseCode, Opcode, close_code_may_be_sent

__all__ = [
    "Close",
    "Event",
    "Failure",
    "Message",
    "Ping",
    "Pong",
    "ReceiveBudget",
    "Receiver",
    "unmask",
]

# Plain ints, compared for every frame.
_CONTINUATION, _TEXT, _BINARY, _CLOSE, _PING, _PONG = (int(opcode) for opcode in Opcode)
_CONTROL = frozenset((_CLOSE, _PING, _PONG))
_FIN, _RSV1, _RSV, _MASKED = 0x80, 0x40, 0x70, 0x80


@dataclasses.dataclass(slots=True)
class Message:
    """A whole data message: ``str`` for text, ``bytes`` for binary."""

    data: str | bytes


@dataclasses.dataclass(slots=True)
class Ping:
    """A ping; RFC 6455 section 5.5.2 asks for a pong with the same ``data``."""

    data: bytes


@dataclasses.dataclass(slots=True)
class Pong:
    """A pong (an answer to our ping, or unsolicited)."""

    data: bytes


@dataclasses.dataclass(slots=True)
class Close:
    """The client's close frame: its ``code`` (None if it gave none) and ``reason``, to echo (section 5.5.1)."""

    code: int | None
    reason: str


@dataclasses.dataclass(slots=True)
class Failure:
    """The client broke a rule: fail the connection with a close frame of ``code`` and ``reason``.

    ``close_received``: the rule broken was in the client's own close frame,
    so nothing more is coming: close the connection once ours is sent.
    """

    code: int
    reason: str
    close_received: bool = False


Event = Message | Ping | Pong | Close | Failure


class ReceiveBudget(Protocol):
    """Bytes of partly received messages the whole server may hold (``server/limits.py`` has one)."""

    def take(self, size: int) -> bool:
        """Reserve ``size`` bytes; False (and nothing reserved) when that would exceed the budget."""
        ...

    def give(self, size: int) -> None:
        """Return ``size`` bytes reserved earlier."""
        ...


def unmask(mask: bytes, data: bytes) -> bytes:
    """``data`` XOR the 4-byte ``mask``, repeated (RFC 6455 section 5.3); the code around may pass a faster one."""
    size = len(data)
    if not size:
        return data
    key = (mask * ((size >> 2) + 1))[:size]
    return (int.from_bytes(data, "little") ^ int.from_bytes(key, "little")).to_bytes(size, "little")


class Receiver:
    """The receive side of one server connection: ``receive_data(bytes)``, then ``next_event()`` until None.

    ``max_message_size``: larger messages fail with 1009. ``budget``: where
    partly received messages are counted (None: not counted). ``deflate``:
    what permessage-deflate the handshake agreed on (None: RSV1 is a
    protocol error). ``unmask``: a faster ``unmask`` if there is one (the
    Tornado side passes Tornado's, written in C).

    The bytes of the last message handed out stay counted against the
    budget until ``next_event`` is called again, so the code around gives
    a message's handler time to finish before asking for the next one.
    """

    __slots__ = (
        "max_message_size",
        "done",
        "_budget",
        "_deflate",
        "_unmask",
        "_buffer",
        "_pos",
        "_remaining",
        "_mask",
        "_offset",
        "_fin",
        "_opcode",
        "_size",
        "_parts",
        "_decoder",
        "_inflater",
        "_held",
    )

    def __init__(
        self,
        *,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        budget: ReceiveBudget | None = None,
        deflate: Deflate | None = None,
        unmask: Callable[[bytes, bytes], bytes] = unmask,
    ) -> None:
        self.max_message_size = max_message_size
        # True after the client's close frame or a failure: nothing more is read.
        self.done = False
        self._budget = budget
        self._deflate = deflate
        self._unmask = unmask
        self._buffer = b""  # received, not yet parsed: self._buffer[self._pos:]
        self._pos = 0
        # The data frame whose payload is arriving: bytes still to come (-1: between frames),
        # its mask, how far into its payload we are, and whether it ends its message.
        self._remaining = -1
        self._mask = b""
        self._offset = 0
        self._fin = False
        # The message in progress (_opcode 0: none): its size so far, its pieces
        # (str for text, decoded as they arrive), and the inflater if it is compressed.
        self._opcode = 0
        self._size = 0
        self._parts: list[str] | list[bytes] | None = None
        self._decoder: codecs.IncrementalDecoder | None = None
        self._inflater: zlib._Decompress | None = None
        self._held = 0  # bytes counted against the budget

    # -- the interface -------------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Add ``data``, bytes the client sent (any piece of the stream)."""
        if self.done:
            return
        if self._pos >= len(self._buffer):
            self._buffer = data
        else:
            self._buffer = self._buffer[self._pos :] + data
        self._pos = 0

    def next_event(self) -> Event | None:
        """The next event in the data received so far; None when more data is needed (or after the end)."""
        if self._held and self._opcode == 0:
            self._release()  # the last message has been handled
        if self.done:
            return None
        while True:
            if self._remaining >= 0:
                event = self._payload()
                if event is None and self._remaining < 0:
                    continue  # the frame ended and its message goes on: the next frame
            else:
                event = self._frame()
                if event is None and self._remaining >= 0:
                    continue  # a data frame started: its payload
            if event is None and self._pos:
                # Everything here is read but a piece of a header: keep only that,
                # so an idle connection does not hold the last 64 KiB it was sent.
                self._buffer, self._pos = self._buffer[self._pos :], 0
            return event

    def events_received(self) -> list[Event]:
        """Every event in the data received so far (for tests and the teaching code; a server asks one at a time)."""
        events = []
        while (event := self.next_event()) is not None:
            events.append(event)
        return events

    def discard(self) -> None:
        """The connection is gone: forget the message in progress and give its bytes back to the budget."""
        self.done = True
        self._buffer = b""
        self._reset_message()
        self._release()

    # -- frames ----------------------------------------------------------------------------

    def _frame(self) -> Event | None:
        """Read the next frame's header; hand on a control frame or a whole small message at once.

        Returns None when the header is not complete yet (``_remaining``
        stays -1), or when a data frame starts whose payload ``_payload``
        reads (``_remaining`` set).
        """
        buffer, pos = self._buffer, self._pos
        available = len(buffer) - pos
        if available < 2:
            return None
        first, second = buffer[pos], buffer[pos + 1]
        length = second & 0x7F
        start = pos + 2
        if length == 126:
            start += 2
        elif length == 127:
            start += 8
        masked = second & _MASKED
        if masked:
            start += 4
        if len(buffer) < start:
            return None
        if length == 126:
            length = int.from_bytes(buffer[pos + 2 : pos + 4], "big")
        elif length == 127:
            length = int.from_bytes(buffer[pos + 2 : pos + 10], "big")
            if length >> 63:
                return self._fail(CloseCode.PROTOCOL_ERROR, "a 64-bit length must not have its highest bit set")
        fin = first & _FIN
        opcode = first & 0x0F
        rsv = first & _RSV
        compressed = False
        if rsv == _RSV1 and self._deflate is not None and (opcode == _TEXT or opcode == _BINARY):
            compressed, rsv = True, 0  # permessage-deflate: RSV1 on a message's first frame (RFC 7692 section 6)
        if rsv:
            return self._fail(CloseCode.PROTOCOL_ERROR, f"reserved bits {rsv >> 4:03b} set without an extension that defines them")
        if opcode in _CONTROL:
            if not fin:
                return self._fail(CloseCode.PROTOCOL_ERROR, "control frames must not be fragmented")
            if length > 125:
                return self._fail(CloseCode.PROTOCOL_ERROR, f"control frame of {length} bytes (at most 125)")
        elif opcode == _CONTINUATION:
            if self._opcode == 0:
                return self._fail(CloseCode.PROTOCOL_ERROR, "continuation frame without a message to continue")
        elif opcode == _TEXT or opcode == _BINARY:
            if self._opcode != 0:
                return self._fail(CloseCode.PROTOCOL_ERROR, "new message started before the previous one ended")
        else:
            return self._fail(CloseCode.PROTOCOL_ERROR, f"reserved opcode {opcode:#x}")
        if not masked:
            return self._fail(CloseCode.PROTOCOL_ERROR, "client frames must be masked")
        mask = buffer[start - 4 : start]
        end = start + length
        if opcode in _CONTROL:
            if len(buffer) < end:
                return None  # a control frame is handled whole (at most 125 bytes)
            self._pos = end
            return self._control(opcode, self._unmask(mask, buffer[start:end]))
        if opcode != _CONTINUATION:
            self._opcode = opcode
            self._size = 0
            if compressed:
                self._inflater = zlib.decompressobj(wbits=-self._deflate.client_window_bits)  # type: ignore[union-attr]
        if self._inflater is None and self._size + length > self.max_message_size:
            return self._fail(CloseCode.MESSAGE_TOO_BIG, "message too big")
        if fin and opcode != _CONTINUATION and not compressed and len(buffer) >= end:
            # The usual message: one whole frame, here already.
            self._pos = end
            return self._whole_message(opcode, self._unmask(mask, buffer[start:end]))
        self._pos = start
        self._remaining = length
        self._mask = mask
        if self._parts is None:
            self._parts = []
        self._offset = 0
        self._fin = bool(fin)
        if opcode == _TEXT and not compressed:
            self._decoder = codecs.getincrementaldecoder("utf-8")()
        return None

    def _control(self, opcode: int, payload: bytes) -> Event:
        if opcode == _PING:
            return Ping(payload)
        if opcode == _PONG:
            return Pong(payload)
        if not payload:
            self.done = True
            return Close(None, "")
        if len(payload) == 1:
            return self._fail(CloseCode.PROTOCOL_ERROR, "a close frame's payload is empty or at least 2 bytes", close_received=True)
        code = int.from_bytes(payload[:2], "big")
        if not close_code_may_be_sent(code):
            return self._fail(CloseCode.PROTOCOL_ERROR, f"close code {code} may not be sent", close_received=True)
        try:
            reason = payload[2:].decode("utf-8")
        except UnicodeDecodeError:
            return self._fail(CloseCode.INVALID_DATA, "close reason is not valid UTF-8", close_received=True)
        self.done = True
        return Close(code, reason)

    def _whole_message(self, opcode: int, payload: bytes) -> Event:
        if not self._take(len(payload)):
            return self._busy()
        self._opcode = 0
        if opcode == _BINARY:
            return Message(payload)
        try:
            return Message(payload.decode("utf-8"))
        except UnicodeDecodeError:
            return self._fail(CloseCode.INVALID_DATA, "text message is not valid UTF-8")

    # -- payloads that arrive in pieces ------------------------------------------------------

    def _payload(self) -> Event | None:
        """Take what has arrived of the current frame's payload; the message or a failure once there is one."""
        buffer, pos = self._buffer, self._pos
        count = min(self._remaining, len(buffer) - pos)
        if count <= 0 and self._remaining:
            return None
        chunk = buffer[pos : pos + count]
        shift = self._offset & 3
        mask = self._mask if not shift else self._mask[shift:] + self._mask[:shift]
        chunk = self._unmask(mask, chunk)
        self._pos = pos + count
        self._offset += count
        self._remaining -= count
        ends_message = self._remaining == 0 and self._fin
        if self._inflater is not None:
            inflated = self._inflate(chunk, final=ends_message)
            if isinstance(inflated, Failure):
                return inflated
            chunk = inflated
        else:
            self._size += count
        if not self._take(len(chunk)):
            return self._busy()
        if self._opcode == _TEXT:
            if self._decoder is None:  # compressed text: decoded once inflated
                self._decoder = codecs.getincrementaldecoder("utf-8")()
            try:
                self._parts.append(self._decoder.decode(chunk, ends_message))  # type: ignore[union-attr, arg-type]
            except UnicodeDecodeError:
                return self._fail(CloseCode.INVALID_DATA, "text message is not valid UTF-8")
        else:
            self._parts.append(chunk)  # type: ignore[union-attr, arg-type]
        if self._remaining:
            return None
        self._remaining = -1  # the frame is done
        if not self._fin:
            return None
        parts = self._parts
        assert parts is not None
        data: str | bytes = "".join(parts) if self._opcode == _TEXT else b"".join(parts)  # type: ignore[arg-type]
        self._reset_message()
        return Message(data)

    def _inflate(self, chunk: bytes, final: bool) -> bytes | Failure:
        """``chunk`` inflated, never beyond ``max_message_size`` in all (else the failure)."""
        assert self._inflater is not None
        room = self.max_message_size - self._size
        try:
            # At most one byte more than there is room for: enough to know it is too big.
            data = self._inflater.decompress(chunk, room + 1)
            if final and len(data) <= room:
                data += self._inflater.decompress(EMPTY_BLOCK, room + 1 - len(data))
        except zlib.error:
            return self._fail(CloseCode.PROTOCOL_ERROR, "compressed message does not inflate (permessage-deflate)")
        if len(data) > room:
            return self._fail(CloseCode.MESSAGE_TOO_BIG, "message too big once inflated")
        self._size += len(data)
        return data

    # -- limits and failing --------------------------------------------------------------------

    def _take(self, size: int) -> bool:
        if self._budget is None or not size:
            return True
        if not self._budget.take(size):
            return False
        self._held += size
        return True

    def _release(self) -> None:
        if self._held and self._budget is not None:
            self._budget.give(self._held)
        self._held = 0

    def _busy(self) -> Failure:
        return self._fail(CloseCode.TRY_AGAIN_LATER, "server busy: too much partly received data, try again later")

    def _reset_message(self) -> None:
        self._opcode = 0
        self._size = 0
        self._parts = None
        self._decoder = None
        self._inflater = None
        self._remaining = -1

    def _fail(self, code: int, reason: str, *, close_received: bool = False) -> Failure:
        self.discard()
        return Failure(code, reason, close_received)
