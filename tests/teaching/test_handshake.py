"""The hand-written protocol of notebook 05 against the real server, Tornado and websockets."""

from __future__ import annotations

import socket
from typing import Iterator

import pytest
import websockets.frames
import websockets.utils
from tornado.websocket import WebSocketProtocol13

import wstutorial
from wstutorial.teaching import handshake

RFC_KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # the example of RFC 6455, section 1.3


def test_accept_key_matches_the_rfc_example() -> None:
    """The RFC's own example key gives the RFC's accept value."""
    assert handshake.accept_key(RFC_KEY) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


# Fixed ids: the fresh key differs per process, and pytest-xdist's workers must collect the same names.
@pytest.mark.parametrize(
    "key", [RFC_KEY, "x3JJHMbDL1EzLkh9GBhXDw==", handshake.new_key()], ids=["rfc-example", "other", "fresh"]
)
def test_accept_key_agrees_with_tornado_and_websockets(key: str) -> None:
    """Our accept key is the one Tornado's server and the websockets library compute."""
    assert handshake.accept_key(key) == WebSocketProtocol13.compute_accept_value(key)
    assert handshake.accept_key(key) == websockets.utils.accept_key(key)


def test_new_keys_are_16_random_bytes() -> None:
    """A key is 16 bytes in base64 and differs every time."""
    import base64

    keys = {handshake.new_key() for _ in range(20)}
    assert len(keys) == 20
    assert all(len(base64.b64decode(key)) == 16 for key in keys)


@pytest.mark.parametrize(
    "payload, opcode",
    [("Hello World", "text"), ("é" * 200, "text"), (b"\x00\xff" * 40000, "binary"), (b"bye", "ping")],
)
@pytest.mark.parametrize("mask", [None, b"\x12\x34\x56\x78"])
def test_frames_agree_with_websockets(payload: str | bytes, opcode: str, mask: bytes | None) -> None:
    """Frames we encode parse in websockets, and websockets' frames decode here (all 3 length sizes)."""
    data = payload.encode() if isinstance(payload, str) else payload
    ours = handshake.encode_frame(payload, opcode, mask=mask)
    theirs = _parse_with_websockets(ours, mask=mask is not None)
    assert theirs.opcode.name.lower() == opcode and theirs.data == data and theirs.fin

    opcode_enum = websockets.frames.Opcode[opcode.upper()]
    serialized = websockets.frames.Frame(opcode_enum, data).serialize(mask=mask is not None)
    frame, used = handshake.decode_frame(serialized + b"extra")
    assert (frame.opcode, frame.payload, frame.fin, used) == (opcode, data, True, len(serialized))
    assert (frame.mask is not None) == (mask is not None)


def _parse_with_websockets(data: bytes, mask: bool) -> websockets.frames.Frame:
    position = 0

    def read_exact(n: int) -> Iterator[None]:
        nonlocal position
        chunk = data[position:position + n]
        position += n
        return chunk
        yield  # a generator, as websockets' parser expects

    parser = websockets.frames.Frame.parse(read_exact, mask=mask)
    try:
        next(parser)
    except StopIteration as done:
        return done.value
    raise AssertionError("the parser wanted more data than the frame holds")


def test_masking_is_its_own_inverse() -> None:
    """Masking twice with the same key gives the data back, as websockets' apply_mask does."""
    mask = b"\xa1\xb2\xc3\xd4"
    data = bytes(range(50))
    assert handshake.apply_mask(data, mask) == websockets.utils.apply_mask(data, mask)
    assert handshake.apply_mask(handshake.apply_mask(data, mask), mask) == data


def test_close_payload_round_trip() -> None:
    """Close payloads carry a 2-byte code and a UTF-8 reason; an empty one has no code."""
    payload = handshake.close_payload(1000, "bye")
    assert payload == b"\x03\xe8bye"
    assert handshake.parse_close_payload(payload) == (1000, "bye")
    assert websockets.frames.Close.parse(payload) == websockets.frames.Close(1000, "bye")
    assert handshake.parse_close_payload(b"") == (None, "")


def test_bad_values_are_named() -> None:
    """Bad input raises with a message naming the value."""
    with pytest.raises(ValueError, match="4999, got 99"):
        handshake.close_payload(99)
    # RFC 6455, 7.4.1: 1004 is reserved; 1005, 1006 and 1015 only report what happened.
    for code in (1004, 1005, 1006, 1015):
        with pytest.raises(ValueError, match=f"{code} .* is never sent in a close frame"):
            handshake.close_payload(code)
    with pytest.raises(ValueError, match="2000 is reserved for the protocol itself"):
        handshake.close_payload(2000)
    for code in (1000, 1001, 1011, 1014, 3000, 4999):
        assert handshake.parse_close_payload(handshake.close_payload(code))[0] == code
    with pytest.raises(ValueError, match="at most 125 bytes"):
        handshake.encode_frame(b"x" * 126, "ping")
    with pytest.raises(handshake.FrameError, match="needs 7 bytes"):
        handshake.decode_frame(b"\x81\x05Hel")
    with pytest.raises(ValueError, match="must start with '/'"):
        handshake.upgrade_request("localhost", 8888, "ws", RFC_KEY)


@pytest.fixture
def quiet_server() -> Iterator[wstutorial.TutorialServer]:
    """A server that sends no pings, so the frames read by hand are only the ones we expect."""
    running = wstutorial.start_server(port=0, interval=0.05, ping_interval=None)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def raw(quiet_server: wstutorial.TutorialServer) -> Iterator[socket.socket]:
    """A plain TCP socket to the real server, upgraded by hand on /ws."""
    with socket.create_connection(("127.0.0.1", quiet_server.port), timeout=10) as sock:
        sock.sendall(handshake.upgrade_request("127.0.0.1", quiet_server.port, "/ws", RFC_KEY))
        response = handshake.read_response(sock)
        handshake.check_response(response, RFC_KEY)
        yield sock


def test_real_server_accepts_a_hand_made_upgrade(server: wstutorial.TutorialServer) -> None:
    """Tornado answers 101 with the accept key we compute."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        key = handshake.new_key()
        sock.sendall(handshake.upgrade_request("127.0.0.1", server.port, "/ws", key))
        status, headers = handshake.parse_response(handshake.read_response(sock))
    assert status == 101
    assert headers["sec-websocket-accept"] == handshake.accept_key(key)


def test_real_server_says_hello_and_hears_masked_frames(quiet_server: wstutorial.TutorialServer, raw: socket.socket) -> None:
    """The first frame is an unmasked text 'Hello World'; a masked frame of ours reaches on_message."""
    frame = handshake.read_frame(raw)
    assert frame == handshake.Frame("text", b"Hello World", True, None)
    raw.sendall(handshake.encode_frame("by hand", mask=b"\x01\x02\x03\x04"))
    quiet_server.events.wait_for("message received by hand", timeout=10)


def test_real_server_answers_ping_and_close(quiet_server: wstutorial.TutorialServer, raw: socket.socket) -> None:
    """A ping gets a pong with the same payload; a close gets a close with our code."""
    handshake.read_frame(raw)  # Hello World
    raw.sendall(handshake.encode_frame(b"are you there?", "ping", mask=handshake.new_key().encode()[:4]))
    assert handshake.read_frame(raw) == handshake.Frame("pong", b"are you there?")
    raw.sendall(handshake.encode_frame(handshake.close_payload(1000, "bye"), "close", mask=b"abcd"))
    reply = handshake.read_frame(raw)
    assert reply.opcode == "close" and handshake.parse_close_payload(reply.payload)[0] == 1000
    quiet_server.events.wait_for("connection closed", timeout=10)


def test_the_tutorial_server_closes_on_an_unmasked_client_frame(quiet_server: wstutorial.TutorialServer, raw: socket.socket) -> None:
    """A client frame without a mask is a protocol error (RFC 6455 section 5.1): close 1002, as notebook 05 says."""
    handshake.read_frame(raw)  # Hello World
    raw.sendall(handshake.encode_frame("no mask"))
    reply = handshake.read_frame(raw)
    assert reply.opcode == "close" and handshake.parse_close_payload(reply.payload)[0] == 1002
    assert not quiet_server.events.find("message received no mask")


def test_websockets_server_closes_on_an_unmasked_client_frame() -> None:
    """A strict server (the websockets library) answers an unmasked client frame with close 1002."""
    import threading

    from websockets.sync.server import serve

    def hello(connection: object) -> None:
        connection.send("Hello World")  # type: ignore[attr-defined]
        for _ in connection:  # type: ignore[attr-defined]
            pass

    with serve(hello, "127.0.0.1", 0) as strict:
        port = strict.socket.getsockname()[1]
        thread = threading.Thread(target=strict.serve_forever, daemon=True)
        thread.start()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                sock.sendall(handshake.upgrade_request("127.0.0.1", port, "/", RFC_KEY))
                handshake.check_response(handshake.read_response(sock), RFC_KEY)
                assert handshake.read_frame(sock).text == "Hello World"
                sock.sendall(handshake.encode_frame("no mask"))
                reply = handshake.read_frame(sock)
        finally:
            strict.shutdown()
            thread.join(10)
    assert reply.opcode == "close"
    assert handshake.parse_close_payload(reply.payload)[0] == 1002


def test_real_server_refuses_a_foreign_origin(server: wstutorial.TutorialServer) -> None:
    """An upgrade from another origin gets 403, and check_response says so."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(
            handshake.upgrade_request("127.0.0.1", server.port, "/ws", RFC_KEY, origin="http://evil.example")
        )
        response = handshake.read_response(sock)
    with pytest.raises(handshake.HandshakeError, match="answered 403"):
        handshake.check_response(response, RFC_KEY)


def test_frames_of_the_server_stream_decode(server: wstutorial.TutorialServer) -> None:
    """Frames read by hand from /streaming hold the stream's messages in order."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        key = handshake.new_key()
        sock.sendall(handshake.upgrade_request("127.0.0.1", server.port, "/streaming", key))
        handshake.check_response(handshake.read_response(sock), key)
        texts = [handshake.read_frame(sock).text for _ in range(3)]
    assert texts == ["message: 0", "message: 1", "message: 2"]
