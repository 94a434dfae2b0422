"""The WebSocket protocol (RFC 6455) as numbers and bytes, shared by the client, the server and the teaching code.

No I/O here: opcodes and close codes as ``IntEnum``s (they compare equal to
the plain numbers, so ``code == 1009`` and ``code == CloseCode.MESSAGE_TOO_BIG``
both work), the one frame-header encoder, and how a message shows as text.
"""

from __future__ import annotations

import enum
import struct

__all__ = [
    "DEFAULT_MAX_MESSAGE_SIZE",
    "CloseCode",
    "Opcode",
    "close_code_may_be_sent",
    "frame_header",
    "describe_message",
    "close_reason",
]

# Tornado's default is 10 MiB; a tutorial's messages are small, and a class of
# students sharing one server should not be able to make it buffer much.
DEFAULT_MAX_MESSAGE_SIZE = 1024 * 1024


class Opcode(enum.IntEnum):
    """The frame types of RFC 6455, section 5.2 (the low 4 bits of a frame's first byte)."""

    CONTINUATION = 0x0
    TEXT = 0x1
    BINARY = 0x2
    CLOSE = 0x8
    PING = 0x9
    PONG = 0xA

    @property
    def is_control(self) -> bool:
        """Close, ping and pong: at most 125 bytes of payload, never fragmented (section 5.5)."""
        return self >= 0x8


class CloseCode(enum.IntEnum):
    """Close codes of RFC 6455, section 7.4.1 (names as in the ``websockets`` library)."""

    NORMAL_CLOSURE = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    NO_STATUS_RCVD = 1005  # never sent: "the close frame had no code"
    ABNORMAL_CLOSURE = 1006  # never sent: "the connection dropped without a close frame"
    INVALID_DATA = 1007
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    MANDATORY_EXTENSION = 1010
    INTERNAL_ERROR = 1011
    SERVICE_RESTART = 1012
    TRY_AGAIN_LATER = 1013
    BAD_GATEWAY = 1014

    @property
    def meaning(self) -> str:
        """What the code says, in words, as the client and the panels show it."""
        return _MEANINGS[self]


_MEANINGS = {
    CloseCode.NORMAL_CLOSURE: "normal closure",
    CloseCode.GOING_AWAY: "going away (the server is shutting down or the page is leaving)",
    CloseCode.PROTOCOL_ERROR: "protocol error",
    CloseCode.UNSUPPORTED_DATA: "data of a type the endpoint cannot accept",
    CloseCode.NO_STATUS_RCVD: "no close code was given",
    CloseCode.ABNORMAL_CLOSURE: "the connection dropped without a close frame",
    CloseCode.INVALID_DATA: "invalid data (for example text that is not UTF-8)",
    CloseCode.POLICY_VIOLATION: "policy violation",
    CloseCode.MESSAGE_TOO_BIG: "message too big",
    CloseCode.MANDATORY_EXTENSION: "the client needs an extension the server did not offer",
    CloseCode.INTERNAL_ERROR: "the server hit an unexpected error",
    CloseCode.SERVICE_RESTART: "the server is restarting",
    CloseCode.TRY_AGAIN_LATER: "the server is busy, try again later",
    CloseCode.BAD_GATEWAY: "a gateway got a bad answer from the server behind it",
}

def close_code_may_be_sent(code: int) -> bool:
    """True for close codes a peer may put in a close frame (RFC 6455 section 7.4, IANA registry).

    1004 is reserved, 1005, 1006 and 1015 must never be sent, other codes
    below 3000 are unassigned; 3000-3999 are registered by libraries and
    4000-4999 are for applications.
    """
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


_FIN = 0x80
_RSV1 = 0x40
_MASK = 0x80
_SHORT = struct.Struct("!BB")
_MEDIUM = struct.Struct("!BBH")
_LONG = struct.Struct("!BBQ")


def frame_header(opcode: int, length: int, *, fin: bool = True, masked: bool = False, compressed: bool = False) -> bytes:
    """The header of one frame (section 5.2): FIN bit and opcode, MASK bit and payload length.

    The length takes 7 bits, or 126 and 16 more bits, or 127 and 64 more
    bits. The mask key (for a client's frame) and the payload follow the
    header; the server's fast path (``server/frames.py``) and the hand-made
    frames of ``teaching/handshake.py`` both build on this. ``compressed``
    sets RSV1, which permessage-deflate (RFC 7692) sets on a compressed
    message's first frame.
    """
    first = (_FIN if fin else 0) | (_RSV1 if compressed else 0) | opcode
    mask_bit = _MASK if masked else 0
    if length < 126:
        return _SHORT.pack(first, mask_bit | length)
    if length < 1 << 16:
        return _MEDIUM.pack(first, mask_bit | 126, length)
    return _LONG.pack(first, mask_bit | 127, length)


# Long messages are cut where they are shown as text; the program still gets all of it.
TEXT_LIMIT = 200


def describe_message(message: str | bytes, limit: int | None = TEXT_LIMIT) -> str:
    """How a message shows as text (event log, panels): text as is, cut after ``limit`` characters; binary by size."""
    if isinstance(message, bytes):
        return f"<{len(message)} bytes of binary data>"
    if limit is not None and len(message) > limit:
        return message[:limit] + f"... ({len(message)} characters)"
    return message


def close_reason(text: str) -> str:
    """``text`` cut to the 123 bytes a close frame's reason may hold (RFC 6455, 5.5)."""
    data = text.encode("utf-8")
    if len(data) <= 123:
        return text
    return data[:120].decode("utf-8", errors="ignore") + "..."
