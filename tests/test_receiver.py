"""RFC 6455's receive rules (receiver.py), without a socket or a server: bytes in, events out.

Every 1002/1007/1009/1013 rule has its case here, fed whole and in pieces;
``test_conformance.py`` keeps a few of them end to end against a real
server, and ``scripts/autobahn.sh`` runs the Autobahn|Testsuite.
"""

from __future__ import annotations

import os
import struct
import tracemalloc
import zlib

import pytest
from tornado.util import _websocket_mask

from helpers import MASK, close_frame, frame
from wstutorial.deflate import deflate_message, negotiate
from wstutorial.receiver import Close, Event, Failure, Message, Ping, Pong, Receiver, unmask

DEFLATE = negotiate("permessage-deflate; client_max_window_bits")


def compressed(payload: bytes) -> bytes:
    """``payload`` as a permessage-deflate client would compress it (zlib, not our deflate_message)."""
    compressor = zlib.compressobj(wbits=-12)
    return (compressor.compress(payload) + compressor.flush(zlib.Z_SYNC_FLUSH))[:-4]


def events(*frames: bytes, receiver: Receiver | None = None) -> list[Event]:
    """The events of ``frames`` given to a fresh receiver (or ``receiver``) at once."""
    receiver = receiver or Receiver()
    receiver.receive_data(b"".join(frames))
    return receiver.events_received()


def events_in_pieces(data: bytes, size: int, **settings: object) -> list[Event]:
    """The events of ``data`` given ``size`` bytes at a time, asked for after each piece."""
    receiver = Receiver(**settings)  # type: ignore[arg-type]
    found: list[Event] = []
    for start in range(0, len(data), size):
        receiver.receive_data(data[start : start + size])
        found += receiver.events_received()
    return found


def test_a_text_and_a_binary_message() -> None:
    """The usual messages: one masked frame each, text as str, binary as bytes."""
    assert events(frame(0x1, "κόσμε".encode()), frame(0x2, b"\x00\xff")) == [Message("κόσμε"), Message(b"\x00\xff")]


def test_empty_messages_and_control_frames() -> None:
    assert events(frame(0x1), frame(0x2), frame(0x9), frame(0xA, b"pong")) == [Message(""), Message(b""), Ping(b""), Pong(b"pong")]


MIXED = [
    frame(0x1, b"first"),
    frame(0xA, b"unsolicited pong"),
    frame(0x2, b"\x00" * 125),
    frame(0x1, "κόσμε".encode() * 20),  # 200 bytes: a 16-bit length
    frame(0x1, b"frag", fin=False),
    frame(0x9, b"between"),
    frame(0x0, b"", fin=False),
    frame(0x0, b"mented"),
    frame(0x2, bytes(range(256)) * 300),  # 76,800 bytes: a 64-bit length
    frame(0x1, b""),
    frame(0x1, "κό".encode() + b"\xcf", fin=False),  # a character cut between fragments
    frame(0x0, b"\x83\xce\xbc\xce\xb5"),
    close_frame(struct.pack("!H", 1000) + b"bye"),
]
MIXED_EVENTS = [
    Message("first"),
    Pong(b"unsolicited pong"),
    Message(b"\x00" * 125),
    Message("κόσμε" * 20),
    Ping(b"between"),
    Message("fragmented"),
    Message(bytes(range(256)) * 300),
    Message(""),
    Message("κόσμε"),
    Close(1000, "bye"),
]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 13, 125, 4096, 1 << 20])
def test_frames_cut_anywhere_give_the_same_events(size: int) -> None:
    """Headers, masks, lengths, payloads and UTF-8 characters cut between pieces: the same events, in order."""
    assert events_in_pieces(b"".join(MIXED), size) == MIXED_EVENTS


def test_nothing_is_read_after_the_clients_close() -> None:
    receiver = Receiver()
    assert events(close_frame(b""), frame(0x1, b"late"), receiver=receiver) == [Close(None, "")]
    receiver.receive_data(frame(0x1, b"later"))
    assert receiver.next_event() is None and receiver.done


@pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535])
def test_a_close_code_that_may_not_be_sent_fails_with_1002(code: int) -> None:
    assert events(close_frame(struct.pack("!H", code))) == [Failure(1002, f"close code {code} may not be sent", close_received=True)]


@pytest.mark.parametrize("code", [1000, 1001, 1003, 1007, 1011, 1012, 1013, 1014, 3000, 4999])
def test_a_valid_close_code_is_handed_on_with_its_reason(code: int) -> None:
    assert events(close_frame(struct.pack("!H", code) + "ciao κόσμε".encode())) == [Close(code, "ciao κόσμε")]


def test_a_one_byte_close_payload_fails_with_1002() -> None:
    (failure,) = events(close_frame(b"\x03"))
    assert isinstance(failure, Failure) and (failure.code, failure.close_received) == (1002, True)


def test_a_close_reason_that_is_not_utf8_fails_with_1007() -> None:
    bad = struct.pack("!H", 1000) + b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80"
    assert events(close_frame(bad)) == [Failure(1007, "close reason is not valid UTF-8", close_received=True)]


PROTOCOL_ERRORS = {
    "reserved opcode 0x3": ([frame(0x3, b"x")], "reserved opcode 0x3"),
    "reserved control opcode 0xB": ([frame(0xB)], "reserved opcode 0xb"),
    "RSV1 without an extension": ([frame(0x1, b"x", rsv=0x40)], "reserved bits 100 set without an extension that defines them"),
    "RSV2": ([frame(0x1, b"x", rsv=0x20)], "reserved bits 010 set without an extension that defines them"),
    "RSV3 on a ping": ([frame(0x9, b"", rsv=0x10)], "reserved bits 001 set without an extension that defines them"),
    "unmasked frame": ([frame(0x1, b"hello", masked=False)], "client frames must be masked"),
    "fragmented ping": ([frame(0x9, b"ping", fin=False)], "control frames must not be fragmented"),
    "ping of 126 bytes": ([frame(0x9, b"p" * 126)], "control frame of 126 bytes (at most 125)"),
    "close of 126 bytes": ([close_frame(b"\x03\xe8" + b"r" * 124)], "control frame of 126 bytes (at most 125)"),
    "continuation with nothing to continue": ([frame(0x0, b"x")], "continuation frame without a message to continue"),
    "new message inside a fragmented one": ([frame(0x1, b"a", fin=False), frame(0x1, b"b")], "new message started before the previous one ended"),
    "binary inside fragmented text": ([frame(0x1, b"a", fin=False), frame(0x2, b"b")], "new message started before the previous one ended"),
    "64-bit length with the top bit set": ([b"\x82\xff" + b"\x80" + b"\x00" * 7 + MASK], "a 64-bit length must not have its highest bit set"),
}


@pytest.mark.parametrize("name", list(PROTOCOL_ERRORS))
def test_protocol_errors_fail_with_1002(name: str) -> None:
    """After a valid message, each error ends it with 1002 and what is wrong; nothing after it is read."""
    frames, reason = PROTOCOL_ERRORS[name]
    assert events(frame(0x1, b"before"), *frames, frame(0x1, b"after")) == [Message("before"), Failure(1002, reason)]


def test_invalid_utf8_fails_with_1007_before_the_message_ends() -> None:
    """Fail fast (Autobahn 6.4.x): the first fragment is bad, the last never comes."""
    assert events(frame(0x1, "κόσμε".encode() + b"\xf4\x90\x80\x80", fin=False)) == [Failure(1007, "text message is not valid UTF-8")]


def test_invalid_utf8_in_the_middle_of_one_frame_fails_as_soon_as_it_arrives() -> None:
    """The bad byte is found while the frame's payload arrives, not once it is whole."""
    whole = frame(0x1, b"a" * 1000 + b"\xff" + b"b" * 100_000)
    receiver = Receiver()
    receiver.receive_data(whole[:500])
    assert receiver.next_event() is None
    receiver.receive_data(whole[500:2000])  # the rest is never given
    assert receiver.next_event() == Failure(1007, "text message is not valid UTF-8")


@pytest.mark.parametrize(
    "frames",
    [
        [frame(0x1, b"\xce")],  # a character cut at the end of the message
        [frame(0x1, b"ok \xce", fin=False), frame(0x0, b"\xba \xed\xa0\x80")],  # a surrogate
        [frame(0x1, b"\xc0\xaf")],  # an overlong encoding
    ],
    ids=["cut at the end", "surrogate in a continuation", "overlong"],
)
def test_text_that_is_not_utf8_fails_with_1007(frames: list[bytes]) -> None:
    assert events(*frames) == [Failure(1007, "text message is not valid UTF-8")]


def test_a_ping_with_binary_payload_inside_a_text_message_is_not_text() -> None:
    """Control frames between fragments carry any bytes; only the message's own fragments must be UTF-8."""
    got = events(frame(0x1, "κό".encode(), fin=False), frame(0x9, b"\xff\xfe\x00"), frame(0x0, "σμε".encode()))
    assert got == [Ping(b"\xff\xfe\x00"), Message("κόσμε")]


def test_a_message_over_the_limit_fails_with_1009_from_its_header() -> None:
    """The header says the size: 1009 before any of the payload arrives."""
    receiver = Receiver(max_message_size=1000)
    receiver.receive_data(frame(0x2, b"x" * 1001)[:8])  # header and mask only
    assert receiver.next_event() == Failure(1009, "message too big")


def test_fragments_count_together_against_the_limit() -> None:
    limit = Receiver(max_message_size=1000)
    assert events(frame(0x2, b"x" * 1000), receiver=limit) == [Message(b"x" * 1000)]  # exactly the limit: fine
    got = events(frame(0x1, b"x" * 600, fin=False), frame(0x0, b"x" * 401), receiver=Receiver(max_message_size=1000))
    assert got == [Failure(1009, "message too big")]


def test_nothing_is_read_after_a_failure() -> None:
    receiver = Receiver()
    assert events(frame(0x3), frame(0x1, b"after"), receiver=receiver) == [Failure(1002, "reserved opcode 0x3")]
    receiver.receive_data(frame(0x1, b"later"))
    assert receiver.next_event() is None and receiver.done


class Budget:
    """A real budget of bytes, as ``server/limits.py`` has one (no mock: it counts)."""

    def __init__(self, size: int) -> None:
        self.free = size

    def take(self, size: int) -> bool:
        if size > self.free:
            return False
        self.free -= size
        return True

    def give(self, size: int) -> None:
        self.free += size


def test_partly_received_messages_are_held_against_the_budget() -> None:
    """Bytes count from the moment they are held until the message is handled (the next ``next_event``)."""
    budget = Budget(10_000)
    receiver = Receiver(budget=budget)
    receiver.receive_data(frame(0x2, b"x" * 3000, fin=False) + frame(0x0, b"y" * 1000, fin=False))
    assert receiver.next_event() is None and budget.free == 6000  # the message waits for its last fragment
    receiver.receive_data(frame(0x0, b"z"))
    assert receiver.next_event() == Message(b"x" * 3000 + b"y" * 1000 + b"z")
    assert budget.free == 5999  # still held while the handler runs
    assert receiver.next_event() is None and budget.free == 10_000  # handled: given back
    receiver.receive_data(frame(0x1, b"hi"))
    assert receiver.next_event() == Message("hi") and budget.free == 9998
    receiver.discard()  # the connection is gone
    assert budget.free == 10_000


def test_a_client_that_would_go_over_the_budget_fails_with_1013() -> None:
    budget = Budget(5000)
    assert budget.take(3000)  # another connection's partial message
    got = events(frame(0x2, b"x" * 1500, fin=False), frame(0x0, b"x" * 1500), receiver=Receiver(budget=budget))
    assert got == [Failure(1013, "server busy: too much partly received data, try again later")]
    assert budget.free == 2000  # what it held is given back


# -- permessage-deflate (RFC 7692) -------------------------------------------------------


def test_compressed_messages_are_inflated() -> None:
    """RSV1 on the first frame: compressed; fragments inflate as they arrive; an uncompressed message stays as it is."""
    text = "κόσμε " * 1000
    data = compressed(text.encode())
    got = events(
        frame(0x1, data, rsv=0x40),
        frame(0x2, compressed(b"\x00" * 5000), rsv=0x40),
        frame(0x1, data[:100], rsv=0x40, fin=False),
        frame(0x9, b"between"),
        frame(0x0, data[100:]),
        frame(0x1, b"not compressed"),
        frame(0x1, compressed(b""), rsv=0x40),
        receiver=Receiver(deflate=DEFLATE),
    )
    assert got == [Message(text), Message(b"\x00" * 5000), Ping(b"between"), Message(text), Message("not compressed"), Message("")]


def test_compressed_frames_cut_anywhere_give_the_same_events() -> None:
    data = frame(0x1, compressed("κόσμε ".encode() * 500), rsv=0x40) + frame(0x2, compressed(os.urandom(3000)), rsv=0x40)
    whole = events(data, receiver=Receiver(deflate=DEFLATE))
    assert [type(e) for e in whole] == [Message, Message]
    for size in (1, 5, 333):
        assert events_in_pieces(data, size, deflate=DEFLATE) == whole


@pytest.mark.parametrize(
    ("frames", "failure"),
    [
        ([frame(0x1, b"x", rsv=0x40, fin=False), frame(0x0, b"y", rsv=0x40)], Failure(1002, "reserved bits 100 set without an extension that defines them")),
        ([frame(0x9, b"", rsv=0x40)], Failure(1002, "reserved bits 100 set without an extension that defines them")),
        ([frame(0x2, b"\xff\xff\xff\xff", rsv=0x40)], Failure(1002, "compressed message does not inflate (permessage-deflate)")),
        ([frame(0x1, compressed(b"ok \xff"), rsv=0x40)], Failure(1007, "text message is not valid UTF-8")),
    ],
    ids=["RSV1 on a continuation", "RSV1 on a ping", "not deflate data", "inflates to invalid UTF-8"],
)
def test_compression_errors(frames: list[bytes], failure: Failure) -> None:
    assert events(*frames, receiver=Receiver(deflate=DEFLATE)) == [failure]


def test_a_zip_bomb_fails_with_1009_without_inflating_it() -> None:
    """20 MB of zeros compress to 20 kB: inflated no further than the limit, so memory stays small."""
    bomb = compressed(b"\x00" * 20_000_000)
    assert len(bomb) < 30_000
    tracemalloc.start()
    try:
        got = events(frame(0x2, bomb, rsv=0x40), receiver=Receiver(deflate=DEFLATE, max_message_size=1_000_000))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert got == [Failure(1009, "message too big once inflated")]
    assert peak < 5_000_000, f"inflating the bomb took {peak:,} bytes"


def test_our_compressed_messages_inflate_back() -> None:
    """What the server sends (deflate_message, no context takeover) reads back through a receiver."""
    payload = "message: 1 ".encode() * 300
    assert events(frame(0x1, deflate_message(payload, 12), rsv=0x40), receiver=Receiver(deflate=DEFLATE)) == [Message(payload.decode())]


def test_the_fast_unmask_gives_the_same_bytes() -> None:
    """Tornado's C helper, which the server passes in, and ours agree (any length, any mask)."""
    for size in (0, 1, 3, 4, 5, 125, 4097):
        data, mask = os.urandom(size), os.urandom(4)
        assert unmask(mask, data) == _websocket_mask(mask, data)
    assert events_in_pieces(b"".join(MIXED), 5, unmask=_websocket_mask) == MIXED_EVENTS


def test_an_idle_receiver_keeps_nothing_it_has_read() -> None:
    """Once a message is handed on, the bytes it came in are let go (what an idle connection costs stays small)."""
    receiver = Receiver()
    receiver.receive_data(frame(0x2, b"x" * 60_000) + frame(0x1, b"half")[:3])
    assert receiver.next_event() == Message(b"x" * 60_000)
    assert receiver.next_event() is None
    assert len(receiver._buffer) == 3  # only the piece of the next header
    receiver.receive_data(frame(0x1, b"half")[3:])
    assert receiver.next_event() == Message("half") and receiver.next_event() is None
    assert receiver._buffer == b""
