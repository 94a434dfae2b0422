"""A minimal WebSocket client on plain blocking sockets, for measuring.

The same client measures every server, so its cost is the same in each
comparison; it does as little as possible per message (frames are built once,
received frames are counted by their length byte) so the servers' differences
show. Client frames are masked with a zero key (RFC 6455 requires the mask
bit, not an unpredictable key from a benchmark). With ``deflate`` the
client offers permessage-deflate as Chromium does and inflates what comes
compressed (one decompressor per connection, which reads messages with or
without context takeover alike).
"""

from __future__ import annotations

import base64
import os
import socket
import zlib

from wstutorial.protocol import Opcode, frame_header

__all__ = ["agreed_deflate", "client_frame", "connect", "finish_handshake", "FrameReader", "open_socket", "recv_exact", "send_handshake"]


# Chromium's offer (RFC 7692): the server may limit the client's window.
DEFLATE_OFFER = "permessage-deflate; client_max_window_bits"


def client_frame(payload: bytes, opcode: int = Opcode.TEXT, *, compressed: bool = False) -> bytes:
    """A masked (zero key: XOR changes nothing) client frame carrying ``payload``; ``compressed``: deflate it first (RSV1)."""
    if compressed:
        compressor = zlib.compressobj(wbits=-12)
        payload = (compressor.compress(payload) + compressor.flush(zlib.Z_SYNC_FLUSH))[:-4]
    return frame_header(opcode, len(payload), masked=True, compressed=compressed) + b"\x00\x00\x00\x00" + payload


def open_socket(port: int, *, rcvbuf: int | None = None, timeout: float = 30.0) -> socket.socket:
    """A TCP connection to 127.0.0.1:``port`` (no handshake yet)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.settimeout(timeout)
    sock.connect(("127.0.0.1", port))
    return sock


def send_handshake(sock: socket.socket, port: int, path: str, *, deflate: bool = False) -> None:
    """Send the opening handshake's request (RFC 6455 section 4.1), offering permessage-deflate if ``deflate``."""
    key = base64.b64encode(os.urandom(16)).decode()
    offer = f"Sec-WebSocket-Extensions: {DEFLATE_OFFER}\r\n" if deflate else ""
    sock.sendall(
        (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{offer}\r\n"
        ).encode()
    )


def finish_handshake(sock: socket.socket, port: int, path: str) -> None:
    """Read the server's 101 response; keep any frame that came with it for ``recv_exact``."""
    response = b""
    while b"\r\n\r\n" not in response:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError(f"the server on port {port} closed during the handshake for {path}")
        response += chunk
    head, _, rest = response.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 101"):
        raise ConnectionError(f"handshake for {path} on port {port} failed: {head[:80]!r}")
    if b"\r\nsec-websocket-extensions: permessage-deflate" in head.lower():
        _deflated.add(sock.fileno())
    else:  # a socket number is used again once closed
        _deflated.discard(sock.fileno())
    if rest:  # a first frame (e.g. Hello World) may come with the response
        sock.setblocking(True)
        _pushback[sock.fileno()] = rest


def connect(
    port: int, path: str, *, websocket: bool = True, rcvbuf: int | None = None, timeout: float = 30.0, deflate: bool = False
) -> socket.socket:
    """Open a TCP connection to 127.0.0.1:``port`` and (unless ``websocket`` is false) do the handshake."""
    sock = open_socket(port, rcvbuf=rcvbuf, timeout=timeout)
    if websocket:
        send_handshake(sock, port, path, deflate=deflate)
        finish_handshake(sock, port, path)
    return sock


# Bytes that arrived with the handshake response, per socket (rare; read first).
_pushback: dict[int, bytes] = {}
# Sockets whose server agreed to permessage-deflate.
_deflated: set[int] = set()


def agreed_deflate(sock: socket.socket) -> bool:
    """Whether the server agreed to permessage-deflate on this connection (only then may its frames be compressed)."""
    return sock.fileno() in _deflated


def recv_exact(sock: socket.socket, n: int) -> bytes:
    """Read exactly ``n`` bytes (used by the echo round trip)."""
    data = _pushback.pop(sock.fileno(), b"")
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("the server closed the connection")
        data += chunk
    return data


class FrameReader:
    """Splits server frames out of received bytes; keeps an incomplete tail.

    Answers pings with pongs (servers close clients that do not) and leaves
    other control frames out of what it returns.
    """

    def __init__(self, sock: socket.socket | None = None) -> None:
        self.sock = sock
        self.buffer = _pushback.pop(sock.fileno(), b"") if sock is not None else b""
        self.closed = False
        self.close_reason = ""  # the server's close frame, as "1001 going away"
        self.inflater: zlib._Decompress | None = None  # made when a compressed frame comes

    def feed(self, data: bytes) -> list[bytes]:
        """Add received bytes; return the payloads of the complete data frames."""
        buf = self.buffer + data if self.buffer else data
        out = []
        i, end = 0, len(buf)
        while i + 2 <= end:
            n = buf[i + 1] & 0x7F
            start = i + 2
            if n == 126:
                if i + 4 > end:
                    break
                n = int.from_bytes(buf[i + 2 : i + 4], "big")
                start = i + 4
            elif n == 127:
                if i + 10 > end:
                    break
                n = int.from_bytes(buf[i + 2 : i + 10], "big")
                start = i + 10
            if start + n > end:
                break
            opcode = buf[i] & 0x0F
            if opcode & 0x08:
                self._control(opcode, buf[start : start + n])
            elif buf[i] & 0x40:  # RSV1: permessage-deflate (single-frame messages only, as the servers send)
                if self.inflater is None:
                    self.inflater = zlib.decompressobj(wbits=-15)
                out.append(self.inflater.decompress(buf[start : start + n] + b"\x00\x00\xff\xff"))
            else:
                out.append(buf[start : start + n])
            i = start + n
        self.buffer = buf[i:]
        return out

    def _control(self, opcode: int, payload: bytes) -> None:
        if opcode == 0x9 and self.sock is not None:
            blocking = self.sock.getblocking()
            self.sock.setblocking(True)
            self.sock.sendall(client_frame(payload, 0xA))
            self.sock.setblocking(blocking)
        elif opcode == 0x8:
            self.closed = True
            code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            self.close_reason = f"{code} {payload[2:].decode(errors='replace')}".strip()

    def count(self, data: bytes) -> tuple[int, bytes | None]:
        """Like :meth:`feed` for small data frames (< 126 bytes), but only counts.

        Returns (complete data frames, payload of the last one or None).
        """
        buf = self.buffer + data if self.buffer else data
        i, end, frames, last = 0, len(buf), 0, -1
        while i + 2 <= end:
            n = buf[i + 1]
            if n > 125 or buf[i] & 0x48:  # a big, compressed or control frame: take the general path
                self.buffer = b""
                payloads = self.feed(buf[i:])
                tail = payloads[-1] if payloads else (buf[last : last + buf[last - 1]] if last >= 0 else None)
                return frames + len(payloads), tail
            j = i + 2 + n
            if j > end:
                break
            frames += 1
            last, i = i + 2, j
        self.buffer = buf[i:]
        return frames, (buf[last : last + buf[last - 1]] if last >= 0 else None)

    def next_message(self) -> bytes:
        """Block until the next data frame arrives (the socket must be blocking)."""
        assert self.sock is not None
        while True:
            payloads = self.feed(b"")
            if payloads:
                self.buffer = b"".join(_reframe(p) for p in payloads[1:]) + self.buffer
                return payloads[0]
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("the server closed the connection")
            self.buffer += chunk


def _reframe(payload: bytes) -> bytes:
    """Put an unread payload back as a server text frame (rare: two replies in one read)."""
    return frame_header(Opcode.TEXT, len(payload)) + payload
