"""Frames built once by the hub (frames.py): right on the wire, bounded for slow clients."""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

import wstutorial
from wstutorial.deflate import MIN_COMPRESSED_SIZE, negotiate
from wstutorial.server.frames import FrameBatch, encode_frame


class PlainEchoHandler(wstutorial.EchoHandler):
    """An echo with permessage-deflate turned off, as a handler turns it off (Tornado's switch)."""

    def get_compression_options(self) -> dict[str, Any] | None:
        return None


def test_encode_frame_headers() -> None:
    """Text and binary opcodes, and the three length encodings of RFC 6455."""
    assert encode_frame("hi") == b"\x81\x02hi"
    assert encode_frame(b"\x00") == b"\x82\x01\x00"
    assert encode_frame("é") == b"\x81\x02\xc3\xa9"  # the length counts UTF-8 bytes
    assert encode_frame("x" * 126)[:4] == b"\x81\x7e\x00\x7e"
    assert encode_frame(b"x" * 65536)[:10] == b"\x82\x7f" + (65536).to_bytes(8, "big")


def test_frame_batch_prefix() -> None:
    """A batch is the frames joined; prefix(k) is exactly the first k frames."""
    batch = FrameBatch(["a", "bc", b"d"])
    assert len(batch) == 3
    assert batch.data == b"\x81\x01a\x81\x02bc\x82\x01d"
    assert batch.prefix(1) == b"\x81\x01a"
    assert batch.prefix(2) == b"\x81\x01a\x81\x02bc"
    assert batch.prefix(3) == batch.prefix(10) == batch.data
    assert batch.prefix(0) == b""


def test_frames_are_compressed_once_for_every_client_with_the_same_window() -> None:
    """A batch compresses messages of at least MIN_COMPRESSED_SIZE bytes once per window; shorter ones go as they are."""
    long_text = "message: 12 " * 200
    batch = FrameBatch(["short", long_text, b"\x00" * 5000])
    chromium = negotiate("permessage-deflate; client_max_window_bits")
    other = negotiate("permessage-deflate; server_max_window_bits=10")
    never = negotiate("permessage-deflate; server_max_window_bits=8")
    assert chromium is not None and other is not None and never is not None
    assert batch.for_connection(None) is batch and batch.for_connection(never) is batch
    compressed = batch.for_connection(chromium)
    assert compressed is batch.for_connection(negotiate("permessage-deflate"))  # the same window: the same bytes, built once
    assert batch.for_connection(other) is not compressed
    assert compressed.prefix(1) == encode_frame("short") == b"\x81\x05short"
    assert len(long_text) >= MIN_COMPRESSED_SIZE and compressed.data[len(b"\x81\x05short")] == 0xC1  # FIN, RSV1, text
    assert len(compressed.data) < len(batch.data) / 10


@pytest.mark.parametrize("compressed", [False, True], ids=["fast path", "permessage-deflate"])
def test_broadcast_of_every_size_reaches_an_independent_client(compressed: bool) -> None:
    """Broadcasts of 0 B to 70 kB, text and binary, arrive intact at a websockets-library client (which inflates them)."""
    handlers = None if compressed else {"/echo": PlainEchoHandler}
    messages: list[str | bytes] = ["", "short", "é" * 100, "x" * 126, "y" * 65535, b"\x00\xff" * 35000]
    with wstutorial.start_server(port=0, handlers=handlers) as server:
        with connect(server.ws_url("/echo"), max_size=None) as websocket:
            assert bool(websocket.protocol.extensions) == compressed
            for message in messages:
                assert server.broadcast("/echo", message) == 1
                assert websocket.recv(timeout=5) == message
            websocket.send("echo too")
            assert websocket.recv(timeout=5) == "echo too"


def test_fast_stream_arrives_in_order() -> None:
    """A stream faster than a loop turn (interval 10 µs) sends its messages in bursts, in order."""
    # max_queue=None: the client's reader thread keeps reading, so closing does
    # not wait (close_timeout) behind a full queue of unread stream messages.
    with wstutorial.start_server(port=0, interval=0.00001) as server:
        with connect(server.ws_url("/streaming"), max_queue=None) as websocket:
            numbers = [int(str(websocket.recv(timeout=5)).split(": ")[1]) for _ in range(3000)]
    assert numbers == sorted(set(numbers)), "messages repeated or out of order"
    assert numbers[-1] >= 2999


def test_a_client_that_keeps_up_loses_no_stream_message() -> None:
    """Drops only ever hit a client that falls behind: one that reads gets every number, none skipped.

    A message is dropped for a client only when 64 of its messages (or 1 MiB)
    wait in the server's buffer, i.e. after the kernel's socket buffers
    (megabytes on loopback) are full; a reader never gets there. Nor after
    the server's loop stalls, as it does on a loaded machine: the stream then
    sends what fell due in bursts no longer than the hub sends at once (the
    stalls below are 100 and 400 intervals long; a burst of more than 64
    messages used to lose all but 64 of them).
    """

    def receive(websocket: ClientConnection, count: int) -> list[int]:
        return [int(str(websocket.recv(timeout=5)).split(": ")[1]) for _ in range(count)]

    with wstutorial.start_server(port=0, interval=0.001) as server:
        with connect(server.ws_url("/streaming"), max_queue=None) as websocket:
            numbers = receive(websocket, 200)
            for stall in (0.1, 0.4):  # the server's thread holds its loop, as a busy machine would
                server.call(time.sleep, stall)
                numbers += receive(websocket, 400)
    assert numbers == list(range(numbers[0], numbers[0] + 1000)), "a number was skipped"


def _pending(server: wstutorial.TutorialServer) -> list[tuple[int, int]]:
    """(pending_writes, dropped_messages) of each /streaming client, read on the server's loop."""

    return server.call(lambda: [(h.pending_writes, h.dropped_messages) for h in server.hub.open_handlers("/streaming")])


def test_slow_client_has_at_most_max_pending_messages() -> None:
    """A client that reads nothing of a full-speed stream never has more than 64 messages queued;
    the rest are dropped for it, while a reading client keeps receiving."""
    with wstutorial.start_server(port=0, interval=0.000001) as server:
        limit = server.hub.max_pending_writes
        slow = socket.create_connection(("127.0.0.1", server.port))
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.sendall(
            b"GET /streaming HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        try:
            with connect(server.ws_url("/streaming"), max_queue=None) as reader:
                server.events.wait_for("client is not reading", timeout=60, kind="slow")
                seen = []
                for _ in range(20):
                    seen += _pending(server)
                    reader.recv(timeout=5)
                    time.sleep(0.01)
                assert max(pending for pending, _ in seen) <= limit
                assert max(dropped for _, dropped in seen) > 0
                assert str(reader.recv(timeout=5)).startswith("message: ")
        finally:
            slow.close()


def test_echo_answers_every_message_of_a_long_exchange(server: wstutorial.TutorialServer) -> None:
    """3000 quick round trips on /echo: every message comes back, none counted as "not reading".

    (The earlier send path counted each write as pending until its Task's
    callback ran, and could reach the limit for a client that reads everything.)
    """
    with connect(server.ws_url("/echo")) as websocket:
        for n in range(3000):
            websocket.send(f"m{n}")
            assert websocket.recv(timeout=5) == f"m{n}"
    assert server.events.find("client is not reading") is None


def test_a_batch_is_compressible_only_with_a_message_of_1_kib() -> None:
    """Under MIN_COMPRESSED_SIZE bytes every client gets the same frames, so the broadcast's short way serves all."""
    assert not FrameBatch(["x" * (MIN_COMPRESSED_SIZE - 1), b"y" * 100]).compressible
    assert FrameBatch(["x" * MIN_COMPRESSED_SIZE]).compressible
    assert FrameBatch(["é" * (MIN_COMPRESSED_SIZE // 2)]).compressible  # bytes count, not characters
    assert FrameBatch([b"z" * 70_000]).compressible


def _raw_client(port: int, extensions: str | None) -> socket.socket:
    """A client on a bare socket, offering ``extensions`` (or nothing); its 101 response read."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    offer = f"Sec-WebSocket-Extensions: {extensions}\r\n" if extensions else ""
    sock.sendall(
        f"GET /echo HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{offer}\r\n".encode()
    )
    response = b""
    while b"\r\n\r\n" not in response:
        response += sock.recv(4096)
    assert response.startswith(b"HTTP/1.1 101") and (b"permessage-deflate" in response) == bool(extensions)
    return sock


def _read(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        data += sock.recv(size - len(data))
    return data


def test_a_broadcast_goes_compressed_to_clients_that_agreed_and_plain_to_the_others() -> None:
    """On the wire: the same compressed frame (RSV1, built once) to every client that agreed, the plain one to the rest."""
    from wstutorial.deflate import WINDOW_BITS

    long_message, short_message = "message: 42 " * 200, "message: 43"
    with wstutorial.start_server(port=0) as server:
        chromium = [_raw_client(server.port, "permessage-deflate; client_max_window_bits") for _ in range(2)]
        plain = _raw_client(server.port, None)
        try:
            assert server.broadcast("/echo", long_message) == 3
            assert server.broadcast("/echo", short_message) == 3
            compressed = encode_frame(long_message, WINDOW_BITS)
            assert compressed[0] == 0xC1 and len(compressed) < len(long_message) / 10
            for sock in chromium:
                assert _read(sock, len(compressed) + 13) == compressed + encode_frame(short_message)
            assert _read(plain, len(long_message) + 4 + 13) == encode_frame(long_message) + encode_frame(short_message)
        finally:
            for sock in [*chromium, plain]:
                sock.close()
