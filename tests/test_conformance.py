"""RFC 6455 on the receive side, end to end: a few of the rules against a real server.

Every rule is tested without a socket in ``test_receiver.py``; these check
that the server acts on the receiver's events: frames are written as raw
bytes after a handshake made by the ``websockets`` library's sans-I/O client
(``helpers.RawClient``), which also parses the server's answer, and a
protocol error must come back as a close frame with the right code (1002,
1007, 1009), not as a dropped TCP connection, while the server goes on
serving. ``scripts/autobahn.sh`` runs the whole Autobahn|Testsuite.
"""

from __future__ import annotations

import struct

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.frames import Opcode
from websockets.sync.client import connect

import wstutorial
from helpers import RawClient, close_frame, frame


@pytest.fixture(scope="module")
def echo_server() -> wstutorial.TutorialServer:
    server = wstutorial.start_server(port=0)
    yield server
    server.stop()


def answer(server: wstutorial.TutorialServer, *frames: bytes) -> tuple[int | None, list[bytes]]:
    """Send ``frames`` on a fresh /echo connection; the close code the server sent and the messages before it."""
    with RawClient(server.ws_url("/echo")) as client:
        client.sock.sendall(b"".join(frames))
        code = client.wait_closed()
        messages = [f.data for f in client.frames if f.opcode in (Opcode.TEXT, Opcode.BINARY)]
    with connect(server.ws_url("/echo"), open_timeout=10) as probe:  # the server goes on
        probe.send("still there")
        assert probe.recv(timeout=10) == "still there"
    return code, messages


@pytest.mark.parametrize("code", [1005, 5000])
def test_a_close_code_that_may_not_be_sent_is_answered_with_1002(
    echo_server: wstutorial.TutorialServer, code: int
) -> None:
    after = echo_server.events.next_seq
    assert answer(echo_server, close_frame(struct.pack("!H", code))) == (1002, [])
    assert echo_server.events.find(f"closed with 1002: close code {code} may not be sent", after)


@pytest.mark.parametrize("code", [1000, 1011, 4999])
def test_a_valid_close_code_is_echoed(echo_server: wstutorial.TutorialServer, code: int) -> None:
    assert answer(echo_server, close_frame(struct.pack("!H", code) + b"bye")) == (code, [])


def test_a_one_byte_close_payload_is_a_protocol_error(echo_server: wstutorial.TutorialServer) -> None:
    assert answer(echo_server, close_frame(b"\x03")) == (1002, [])


def test_a_close_reason_that_is_not_utf8_is_answered_with_1007(echo_server: wstutorial.TutorialServer) -> None:
    assert answer(echo_server, close_frame(struct.pack("!H", 1000) + b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80")) == (1007, [])


PROTOCOL_ERRORS = {
    "reserved opcode 0x3": [frame(0x3, b"x")],
    "RSV1 without an extension": [frame(0x1, b"x", rsv=0x40)],
    "unmasked frame": [frame(0x1, b"hello", masked=False)],
    "new message inside a fragmented one": [frame(0x1, b"a", fin=False), frame(0x1, b"b")],
}


@pytest.mark.parametrize("name", list(PROTOCOL_ERRORS))
def test_protocol_errors_close_with_1002(echo_server: wstutorial.TutorialServer, name: str) -> None:
    # A valid message first, so the error is not mistaken for a broken handshake.
    code, messages = answer(echo_server, frame(0x1, b"before"), *PROTOCOL_ERRORS[name])
    assert (code, messages) == (1002, [b"before"])


def test_invalid_utf8_closes_with_1007_before_the_message_ends(echo_server: wstutorial.TutorialServer) -> None:
    """Fail fast (Autobahn 6.4.x): the first fragment is bad, the last never comes."""
    with RawClient(echo_server.ws_url("/echo")) as client:
        client.sock.sendall(frame(0x1, "κόσμε".encode() + b"\xf4\x90\x80\x80", fin=False))
        assert client.wait_closed() == 1007


def test_invalid_utf8_in_the_middle_of_one_frame_closes_at_once(echo_server: wstutorial.TutorialServer) -> None:
    """The bad byte is found while the frame arrives, not once it is complete."""
    payload = b"a" * 1000 + b"\xff" + b"b" * 100_000
    whole = frame(0x1, payload)
    with RawClient(echo_server.ws_url("/echo")) as client:
        client.sock.sendall(whole[:2000])  # the rest is never sent
        assert client.wait_closed() == 1007


def test_fragmented_messages_with_pings_between_are_echoed(echo_server: wstutorial.TutorialServer) -> None:
    with connect(echo_server.ws_url("/echo"), open_timeout=10) as client:
        client.send(iter(["frag", "mented ", "κόσμε"]))
        assert client.recv(timeout=10) == "fragmented κόσμε"
        client.send(iter([b"\x00\x01", b"\x02"]))
        assert client.recv(timeout=10) == b"\x00\x01\x02"
    code, messages = answer(
        echo_server, frame(0x1, b"one ", fin=False), frame(0x9, b"between"), frame(0x0, b"two"), close_frame(struct.pack("!H", 1000))
    )
    assert (code, messages) == (1000, [b"one two"])


def test_a_ping_with_binary_payload_inside_a_text_message_is_not_text(echo_server: wstutorial.TutorialServer) -> None:
    """Control frames between fragments carry any bytes; only the message's own fragments must be UTF-8."""
    code, messages = answer(
        echo_server,
        frame(0x1, "κό".encode(), fin=False),
        frame(0x9, b"\xff\xfe\x00"),
        frame(0x0, "σμε".encode()),
        close_frame(struct.pack("!H", 1000)),
    )
    assert (code, messages) == (1000, ["κόσμε".encode()])


MIXED = [
    frame(0x1, b"first"),
    frame(0xA, b"unsolicited pong"),
    frame(0x2, b"\x00" * 125),
    frame(0x1, "κόσμε".encode() * 20),  # 200 bytes: a 16-bit length
    frame(0x1, b"frag", fin=False),
    frame(0x9, b"between"),
    frame(0x0, b"mented"),
    frame(0x2, bytes(range(256)) * 300),  # 76,800 bytes: a 64-bit length, more than one read
    frame(0x1, b""),
    frame(0x1, b"last"),
]
MIXED_ECHOED = [b"first", b"\x00" * 125, "κόσμε".encode() * 20, b"fragmented", bytes(range(256)) * 300, b"", b"last"]


def test_frames_that_arrive_together_are_each_handled_in_order(echo_server: wstutorial.TutorialServer) -> None:
    """Small frames, long ones, fragments and control frames in one write: the receive loop's buffer hands each on."""
    code, messages = answer(echo_server, *MIXED, close_frame(struct.pack("!H", 1000)))
    assert (code, messages) == (1000, MIXED_ECHOED)


def test_frames_split_at_any_byte_are_handled_the_same(echo_server: wstutorial.TutorialServer) -> None:
    """The same frames, written a few bytes at a time: headers and masks cut between reads."""
    import socket
    import time

    data = b"".join(MIXED) + close_frame(struct.pack("!H", 1000))
    with RawClient(echo_server.ws_url("/echo")) as client:
        client.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        cut = 400
        for start in range(0, cut, 3):
            client.sock.sendall(data[start : min(start + 3, cut)])
            time.sleep(0.002)  # so that the pieces arrive apart (not a wait for a result)
        client.sock.sendall(data[cut:])
        code = client.wait_closed()
        messages = [f.data for f in client.frames if f.opcode in (Opcode.TEXT, Opcode.BINARY)]
    assert (code, messages) == (1000, MIXED_ECHOED)


def test_compressed_text_that_is_not_utf8_closes_with_1007(echo_server: wstutorial.TutorialServer) -> None:
    """With permessage-deflate (on by default; the websockets client offers it), bad text still gets 1007, good text still echoes."""
    with connect(echo_server.ws_url("/echo"), open_timeout=10, compression="deflate") as client:
        assert client.protocol.extensions, "the server did not agree to permessage-deflate"
        client.send("κόσμε " * 1000)
        assert client.recv(timeout=10) == "κόσμε " * 1000
        client.send(b"\xce\xba\xff\xfe" * 50, text=True)
        with pytest.raises(ConnectionClosed):
            client.recv(timeout=10)
    assert client.protocol.close_rcvd is not None and client.protocol.close_rcvd.code == 1007


def test_a_zip_bomb_closes_with_1009_and_costs_the_server_nothing() -> None:
    """A message of 20 kB that inflates to 20 MB: closed with 1009 once it passes max_message_size (1 MiB)."""
    import zlib

    from helpers import rss_bytes

    compressor = zlib.compressobj(wbits=-12)
    bomb = (compressor.compress(b"\x00" * 20_000_000) + compressor.flush(zlib.Z_SYNC_FLUSH))[:-4]
    with wstutorial.start_server(port=0) as server:
        before = rss_bytes()
        with RawClient(server.ws_url("/echo"), compression=True) as client:
            assert client.response is not None and "permessage-deflate" in client.response.headers["Sec-WebSocket-Extensions"]
            client.sock.sendall(frame(0x2, bomb, rsv=0x40))
            assert client.wait_closed() == 1009
        assert server.events.find("closed with 1009: message too big once inflated")
        assert rss_bytes() - before < 8_000_000
