"""WebSocket frames built once and written as bytes (the server's fast path).

Tornado's ``write_message`` encodes the message, builds the frame and wraps
every write in a new asyncio Task. For a broadcast that is one encoding and
one Task per client, and for a fast stream one Task per message. The hub
instead builds each frame once (``encode_frame``), joins the frames of a
burst of messages (``FrameBatch``), and writes the same bytes to each
client's ``IOStream``: one write, no Task. Server frames (RFC 6455 section
5.2): FIN set, no mask. For clients that agreed to permessage-deflate
(``deflate.py``: no context takeover, so each message is compressed on its
own) a batch also holds its frames compressed, built once for all of them.
"""

from __future__ import annotations

import bisect
import itertools
from typing import Iterable

from ..deflate import MIN_COMPRESSED_SIZE, Deflate, deflate_message
from ..protocol import Opcode, frame_header

__all__ = ["encode_frame", "FrameBatch"]


def encode_frame(message: str | bytes, window_bits: int | None = None) -> bytes:
    """One unmasked server frame: text for ``str``, binary for ``bytes``.

    With ``window_bits`` a message of at least ``MIN_COMPRESSED_SIZE`` bytes
    is compressed (permessage-deflate, RSV1 set); a shorter one is not.
    """
    if isinstance(message, str):
        opcode, payload = Opcode.TEXT, message.encode("utf-8")
    elif isinstance(message, (bytes, bytearray, memoryview)):
        opcode, payload = Opcode.BINARY, bytes(message)
    else:
        # bytes(12345) would be 12,345 zero bytes, bytes(True) one.
        raise TypeError(f"a message is str (text) or bytes (binary), got {type(message).__name__}: {message!r:.60}")
    if window_bits is not None and len(payload) >= MIN_COMPRESSED_SIZE:
        payload = deflate_message(payload, window_bits)
        return frame_header(opcode, len(payload), compressed=True) + payload
    return frame_header(opcode, len(payload)) + payload


class FrameBatch:
    """Messages encoded once, to be written as one buffer to many clients.

    ``prefix(k)`` is the bytes of the first ``k`` frames, for a client that
    has room for only ``k`` more messages; ``for_connection(deflate)`` the
    same messages as that client's agreement wants them.
    """

    __slots__ = ("messages", "data", "compressible", "_ends", "_window_bits", "_compressed")

    def __init__(self, messages: Iterable[str | bytes], window_bits: int | None = None) -> None:
        self.messages = list(messages)
        frames = [encode_frame(message, window_bits) for message in self.messages]
        # Whether any message is long enough to be sent compressed (else every client gets these same
        # bytes): a payload of MIN_COMPRESSED_SIZE (1 KiB) or more has a 4-byte header (or 10 from 64 KiB).
        self.compressible = window_bits is None and any(len(frame) >= MIN_COMPRESSED_SIZE + 4 for frame in frames)
        self.data = b"".join(frames)
        self._ends = list(itertools.accumulate(len(frame) for frame in frames))
        self._window_bits = window_bits
        self._compressed: dict[int, FrameBatch] | None = None

    def __len__(self) -> int:
        return len(self.messages)

    def for_connection(self, deflate: Deflate | None) -> FrameBatch:
        """These messages for a client: as they are, or compressed (once per window size) if it agreed to permessage-deflate."""
        if deflate is None or not deflate.compresses or not self.compressible:
            return self
        bits = deflate.server_window_bits
        if self._compressed is None:
            self._compressed = {}
        batch = self._compressed.get(bits)
        if batch is None:
            batch = self._compressed[bits] = FrameBatch(self.messages, bits)
        return batch

    def size(self, count: int) -> int:
        """How many bytes the frames of the first ``count`` messages take."""
        count = min(count, len(self._ends))
        return self._ends[count - 1] if count > 0 else 0

    def count_within(self, limit: int) -> int:
        """How many of the first messages fit, as frames, in ``limit`` bytes."""
        return bisect.bisect_right(self._ends, limit)

    def prefix(self, count: int) -> bytes:
        """The frames of the first ``count`` messages, as one buffer."""
        if count >= len(self._ends):
            return self.data
        return self.data[: self._ends[count - 1]] if count > 0 else b""
