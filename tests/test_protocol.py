"""wstutorial.protocol: the numbers of RFC 6455, checked against the websockets library.

``frame_header`` is tested here and through its two users: the server's frames
(server/test_frames.py) and the hand-made ones of notebook 05 (teaching/test_handshake.py,
parsed back by the websockets library).
"""

from __future__ import annotations

import websockets.frames

from wstutorial.protocol import CloseCode, Opcode, describe_message


def test_opcodes_are_the_rfcs() -> None:
    """Every opcode has the value and name the websockets library gives it."""
    assert {op.name: op.value for op in Opcode} == {
        op.name.replace("CONT", "CONTINUATION"): op.value for op in websockets.frames.Opcode
    }
    assert [op for op in Opcode if op.is_control] == [Opcode.CLOSE, Opcode.PING, Opcode.PONG]


def test_close_codes_are_the_rfcs() -> None:
    """Every close code is the websockets library's, under the same name, and says what it means."""
    theirs = {code.name: code.value for code in websockets.frames.CloseCode}
    for code in CloseCode:
        assert theirs[code.name] == code.value
        assert code.meaning and code == code.value  # an IntEnum: equal to the plain number
    assert CloseCode(1009).meaning == "message too big"


def test_describe_message() -> None:
    """Text as is (cut when long), binary by its size: how a message shows in the event log and the panels."""
    assert describe_message("hi") == "hi"
    assert describe_message(b"\x00\x01") == "<2 bytes of binary data>"
    assert describe_message("x" * 300) == "x" * 200 + "... (300 characters)"
    assert describe_message("x" * 300, limit=None) == "x" * 300


def test_close_codes_that_may_be_sent() -> None:
    """RFC 6455 section 7.4: 1004-1006 and 1015 never go in a close frame; nor do unassigned codes below 3000 or codes above 4999."""
    from wstutorial.protocol import close_code_may_be_sent

    allowed = [code for code in range(0, 5100) if close_code_may_be_sent(code)]
    assert allowed == [1000, 1001, 1002, 1003, *range(1007, 1015), *range(3000, 5000)]


def test_frame_header_sets_rsv1_for_a_compressed_message() -> None:
    """permessage-deflate marks a compressed message's first frame with RSV1 (RFC 7692 section 6)."""
    from wstutorial.protocol import frame_header

    assert frame_header(Opcode.TEXT, 5) == b"\x81\x05"
    assert frame_header(Opcode.TEXT, 5, compressed=True) == b"\xc1\x05"
    assert frame_header(Opcode.BINARY, 300, masked=True) == b"\x82\xfe\x01\x2c"
