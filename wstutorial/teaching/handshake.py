"""The WebSocket protocol by hand (RFC 6455), for notebook 05 "under the hood".

Teaching code: it shows what Tornado, the ``websockets`` library and every
browser do for you — the HTTP upgrade, the ``Sec-WebSocket-Accept`` key,
frames, client masking and close codes — in small functions you can call
from a cell on a raw TCP socket. Use Tornado (or ``wstutorial.connect``) for
real programs: this module handles no extensions, no fragmented messages
and no errors beyond saying what was wrong.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import os
import socket
import struct

from ..protocol import CloseCode, Opcode, frame_header

__all__ = [
    "GUID",
    "OPCODES",
    "Frame",
    "FrameError",
    "HandshakeError",
    "accept_key",
    "new_key",
    "upgrade_request",
    "read_response",
    "parse_response",
    "check_response",
    "apply_mask",
    "encode_frame",
    "decode_frame",
    "read_frame",
    "close_payload",
    "parse_close_payload",
]

# The fixed string every server appends to the client's key (RFC 6455, 1.3).
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

# Opcodes by number, with the names frames show here ("text", "close", ...).
OPCODES: dict[int, str] = {opcode.value: opcode.name.lower() for opcode in Opcode}
_OPCODE_NUMBERS = {name: Opcode(number) for number, name in OPCODES.items()}


class HandshakeError(ValueError):
    """The server's answer to the upgrade was not a valid WebSocket handshake."""


class FrameError(ValueError):
    """Bytes that are not a valid frame; the message says what is wrong."""


def accept_key(key: str) -> str:
    """The ``Sec-WebSocket-Accept`` a server must answer for ``Sec-WebSocket-Key: key``.

    base64(SHA-1(key + GUID)): proof that the server understood the upgrade,
    so a plain HTTP server or a cache cannot pretend to be a WebSocket server.
    """
    digest = hashlib.sha1((key + GUID).encode("ascii")).digest()
    return base64.b64encode(digest).decode("ascii")


def new_key() -> str:
    """A fresh random ``Sec-WebSocket-Key``: 16 random bytes, base64-encoded."""
    return base64.b64encode(os.urandom(16)).decode("ascii")


def upgrade_request(host: str, port: int, path: str, key: str, *, origin: str | None = None) -> bytes:
    """The HTTP GET that asks a server to switch this connection to WebSocket."""
    if not path.startswith("/"):
        raise ValueError(f"path must start with '/', got {path!r}")
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {host}:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
    ]
    if origin is not None:
        lines.append(f"Origin: {origin}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


def read_response(sock: socket.socket, limit: int = 16384) -> bytes:
    """Read the server's HTTP answer up to the blank line, one byte at a time.

    One byte at a time so that nothing after the headers (the first frame may
    follow at once) is read by mistake.
    """
    data = b""
    while not data.endswith(b"\r\n\r\n"):
        byte = sock.recv(1)
        if not byte:
            raise HandshakeError(f"the server closed the connection after {len(data)} bytes: {data!r}")
        data += byte
        if len(data) > limit:
            raise HandshakeError(f"no end of headers within {limit} bytes")
    return data


def parse_response(data: bytes) -> tuple[int, dict[str, str]]:
    """The status code and headers (names in lower case) of an HTTP answer."""
    text = data.decode("latin-1")
    status_line, *header_lines = text.split("\r\n")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise HandshakeError(f"not an HTTP status line: {status_line!r}")
    headers: dict[str, str] = {}
    for line in header_lines:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers


def check_response(data: bytes, key: str) -> None:
    """Raise ``HandshakeError`` unless ``data`` accepts the upgrade sent with ``key``."""
    status, headers = parse_response(data)
    if status != 101:
        raise HandshakeError(f"the server answered {status} instead of 101 Switching Protocols")
    if headers.get("upgrade", "").lower() != "websocket":
        raise HandshakeError(f"the server did not upgrade to websocket (Upgrade: {headers.get('upgrade')!r})")
    expected = accept_key(key)
    if headers.get("sec-websocket-accept") != expected:
        raise HandshakeError(
            f"Sec-WebSocket-Accept is {headers.get('sec-websocket-accept')!r}, expected {expected!r}"
        )


def apply_mask(data: bytes, mask: bytes) -> bytes:
    """XOR ``data`` with the 4-byte ``mask``, repeated; masking twice gives the data back."""
    if len(mask) != 4:
        raise ValueError(f"a mask is 4 bytes, got {len(mask)}")
    return bytes(byte ^ mask[i % 4] for i, byte in enumerate(data))


@dataclasses.dataclass(frozen=True)
class Frame:
    """One decoded frame: ``opcode`` by name (``text``, ``close``...), payload unmasked."""

    opcode: str
    payload: bytes
    fin: bool = True
    mask: bytes | None = None  # the key the sender used, None for an unmasked frame

    @property
    def text(self) -> str:
        """The payload as text (for ``text`` frames)."""
        return self.payload.decode("utf-8")


def encode_frame(
    payload: bytes | str,
    opcode: str = "text",
    *,
    mask: bytes | None = None,
    fin: bool = True,
) -> bytes:
    """Build one frame. Clients must pass a 4-byte ``mask``; servers send none.

    Header (``wstutorial.protocol.frame_header``, the same the server uses):
    FIN bit and opcode; then the MASK bit and the length (7 bits, or
    126 + 16 bits, or 127 + 64 bits). Then, for a client, the mask key and
    the payload XORed with it; for a server, the payload as it is.
    """
    if opcode not in _OPCODE_NUMBERS:
        raise ValueError(f"opcode must be one of {sorted(_OPCODE_NUMBERS)}, got {opcode!r}")
    data = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
    number = _OPCODE_NUMBERS[opcode]
    if number.is_control and len(data) > 125:
        raise ValueError(f"a {opcode} frame carries at most 125 bytes, got {len(data)}")
    header = frame_header(number, len(data), fin=fin, masked=mask is not None)
    if mask is not None:
        return header + mask + apply_mask(data, mask)
    return header + data


def decode_frame(data: bytes) -> tuple[Frame, int]:
    """Decode the frame at the start of ``data``; returns it and how many bytes it used.

    Raises ``FrameError`` when ``data`` holds less than one whole frame.
    """
    if len(data) < 2:
        raise FrameError(f"a frame header is at least 2 bytes, got {len(data)}")
    first, second = data[0], data[1]
    if first & 0x70:
        raise FrameError(f"reserved bits are set in {first:#04x}: an extension this code does not know")
    number = first & 0x0F
    if number not in OPCODES:
        raise FrameError(f"unknown opcode {number:#x}")
    length = second & 0x7F
    position = 2
    if length == 126:
        length, = struct.unpack("!H", data[2:4])
        position = 4
    elif length == 127:
        length, = struct.unpack("!Q", data[2:10])
        position = 10
    mask = None
    if second & 0x80:
        mask = bytes(data[position:position + 4])
        position += 4
    end = position + length
    if len(data) < end:
        raise FrameError(f"the frame needs {end} bytes, only {len(data)} are here")
    payload = bytes(data[position:end])
    if mask is not None:
        payload = apply_mask(payload, mask)
    return Frame(OPCODES[number], payload, bool(first & 0x80), mask), end


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError(f"the connection closed in the middle of a frame ({len(data)} of {n} bytes)")
        data += chunk
    return data


def read_frame(sock: socket.socket) -> Frame:
    """Read exactly one frame from ``sock`` (waits until it has come)."""
    header = _recv_exactly(sock, 2)
    length = header[1] & 0x7F
    extended = _recv_exactly(sock, {126: 2, 127: 8}.get(length, 0))
    if length == 126:
        length, = struct.unpack("!H", extended)
    elif length == 127:
        length, = struct.unpack("!Q", extended)
    mask = _recv_exactly(sock, 4 if header[1] & 0x80 else 0)
    payload = _recv_exactly(sock, length)
    return decode_frame(header + extended + mask + payload)[0]


_NEVER_SENT = {
    1004: "reserved",
    CloseCode.NO_STATUS_RCVD: CloseCode.NO_STATUS_RCVD.meaning,
    CloseCode.ABNORMAL_CLOSURE: CloseCode.ABNORMAL_CLOSURE.meaning,
    1015: "the TLS handshake failed",
}


def close_payload(code: int, reason: str = "") -> bytes:
    """The payload of a close frame: the code in 2 bytes, then the reason in UTF-8."""
    if not CloseCode.NORMAL_CLOSURE <= code <= 4999:
        raise ValueError(f"a close code is from 1000 to 4999, got {code}")
    if code in _NEVER_SENT:
        # RFC 6455, 7.4.1: these only report what happened, or are reserved; never sent.
        raise ValueError(f"{code} ({_NEVER_SENT[code]}) is never sent in a close frame")
    if 1016 <= code <= 2999:
        # RFC 6455, 7.4.2: kept for the protocol and its extensions; none is assigned there yet.
        raise ValueError(f"{code} is reserved for the protocol itself (1016-2999); use 1000, or 4000-4999 for your own")
    data = struct.pack("!H", code) + reason.encode("utf-8")
    if len(data) > 125:
        raise ValueError(f"a close reason is at most 123 bytes of UTF-8, got {len(data) - 2}")
    return data


def parse_close_payload(payload: bytes) -> tuple[int | None, str]:
    """Code and reason of a close frame's payload; an empty payload has no code (1005)."""
    if not payload:
        return None, ""
    if len(payload) == 1:
        raise FrameError("a close payload is empty or at least 2 bytes (the code), got 1")
    code, = struct.unpack("!H", payload[:2])
    return code, payload[2:].decode("utf-8")
