"""WebSocket frames built once and written as bytes (the server's fast path).

Tornado's ``write_message`` encodes the message, builds the frame and wraps
every write in a new asyncio Task. For a broadcast that is one encoding and
one Task per client, and for a fast stream one Task per message. The hub
instead builds each frame once (``encode_frame``), joins the frames of a
burst of messages (``FrameBatch``), and writes the same bytes to each
client's ``IOStream``: one write, no Task. Only uncompressed server frames
are built here (RFC 6455 section 5.2: FIN set, no mask, no RSV bits); a
handler that turns compression on is sent to through ``write_message``.
"""

from __future__ import annotations

import bisect
import itertools
from typing import Iterable

from ..protocol import Opcode, frame_header

__all__ = ["encode_frame", "FrameBatch"]


def encode_frame(message: str | bytes) -> bytes:
    """One unmasked, uncompressed server frame: text for ``str``, binary for ``bytes``."""
    if isinstance(message, str):
        payload = message.encode("utf-8")
        return frame_header(Opcode.TEXT, len(payload)) + payload
    if not isinstance(message, (bytes, bytearray, memoryview)):
        # bytes(12345) would be 12,345 zero bytes, bytes(True) one.
        raise TypeError(f"a message is str (text) or bytes (binary), got {type(message).__name__}: {message!r:.60}")
    payload = bytes(message)
    return frame_header(Opcode.BINARY, len(payload)) + payload


class FrameBatch:
    """Messages encoded once, to be written as one buffer to many clients.

    ``prefix(k)`` is the bytes of the first ``k`` frames, for a client that
    has room for only ``k`` more messages.
    """

    __slots__ = ("messages", "data", "_ends")

    def __init__(self, messages: Iterable[str | bytes]) -> None:
        self.messages = list(messages)
        frames = [encode_frame(message) for message in self.messages]
        self.data = b"".join(frames)
        self._ends = list(itertools.accumulate(len(frame) for frame in frames))

    def __len__(self) -> int:
        return len(self.messages)

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
