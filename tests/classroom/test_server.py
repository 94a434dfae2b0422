"""The classroom server with real clients: chat, limits, names, the teacher's token, the stream."""

from __future__ import annotations

import contextlib
import json
import time
import urllib.request
from typing import Any, Iterator

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

import wstutorial
from wstutorial.classroom.room import ChatRoom
from wstutorial.classroom.server import (
    CLASSROOM_MAX_MESSAGE_SIZE,
    Classroom,
    start_classroom,
)
from wstutorial.protocol import close_reason
from wstutorial.server.handlers import MAX_ARGUMENT_LENGTH


@pytest.fixture
def classroom() -> Iterator[Classroom]:
    """A classroom server on a free loopback port, fast stream, a known token."""
    running = start_classroom(port=0, interval=0.05, teacher_token="teacher-secret-123")
    try:
        yield running
    finally:
        running.stop()


def receive(ws: ClientConnection) -> dict[str, Any]:
    return json.loads(ws.recv(timeout=10))


def receive_until(ws: ClientConnection, kind: str) -> dict[str, Any]:
    """The next message of type ``kind`` (skipping joins, leaves and others)."""
    for _ in range(100):
        message = receive(ws)
        if message["type"] == kind:
            return message
    raise AssertionError(f"no {kind!r} message in 100")


def closed_with(ws: ClientConnection) -> tuple[int, str]:
    with pytest.raises(ConnectionClosed) as closed:
        for _ in range(200):
            ws.recv(timeout=10)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


def test_every_message_reaches_everyone_with_the_name(classroom: Classroom) -> None:
    """Two websockets-library clients and the package's own client share one room."""
    with connect(classroom.chat_url("Ada")) as ada, connect(classroom.chat_url("Bob")) as bob:
        assert receive(ada)["type"] == "welcome"
        welcome = receive(bob)
        assert welcome.pop("secret")
        assert welcome == {"type": "welcome", "name": "Bob", "members": ["Ada", "Bob"], "history": []}
        with wstutorial.connect_blocking(classroom.chat_url("Cy")) as cy:
            assert json.loads(cy.receive())["members"] == ["Ada", "Bob", "Cy"]
            ada.send('<img src=x onerror="alert(1)">')
            expected = {"type": "chat", "name": "Ada", "text": '<img src=x onerror="alert(1)">'}
            assert receive_until(bob, "chat") == expected
            assert json.loads(cy.receive()) == expected
            cy.send(json.dumps({"type": "reading", "value": 21.5}))
            assert receive_until(ada, "reading") == {"type": "reading", "name": "Cy", "value": 21.5}
    assert classroom.members() == []


@pytest.mark.parametrize(
    "query, says",
    [
        ("", "name is empty"),
        ("?name=%3Cscript%3E", "not allowed"),
        ("?name=" + "x" * 30, "at most"),
        ("?name=" + "%E2%98%83" * 60, "at most"),
    ],
)
def test_bad_names_close_with_1008_and_a_reason(classroom: Classroom, query: str, says: str) -> None:
    """A bad name closes the connection with 1008 and a reason that fits a close frame."""
    with connect(classroom.server.ws_url("/chat") + query) as ws:
        code, reason = closed_with(ws)
    assert code == 1008 and says in reason
    assert len(reason.encode()) <= 123
    assert classroom.members() == []


def test_a_taken_name_is_refused(classroom: Classroom) -> None:
    """The second 'Ada' is closed with 1008; the first stays."""
    with connect(classroom.chat_url("Ada")) as first:
        receive(first)
        with connect(classroom.chat_url("ADA")) as second:
            code, reason = closed_with(second)
        assert code == 1008 and "already in the room" in reason
        assert classroom.members() == ["Ada"]


def test_rate_limit_sends_notices_then_closes_with_1008() -> None:
    """Too fast: refused with a notice to that client only; repeated abuse: close 1008."""
    # A rate so low that no token comes back during the test: no timing involved.
    room = ChatRoom(rate=0.001, burst=3, max_refusals=5)
    with start_classroom(port=0, room=room) as classroom:
        with connect(classroom.chat_url("Calm")) as calm, connect(classroom.chat_url("Spam")) as spam:
            receive(calm)
            receive(spam)
            for i in range(20):
                try:
                    spam.send(f"spam {i}")
                except ConnectionClosed:
                    break
            kinds = []
            with pytest.raises(ConnectionClosed) as closed:
                for _ in range(100):
                    kinds.append(receive(spam)["type"])
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
            assert kinds.count("chat") == 3 and kinds.count("notice") == 5
            seen = []  # 3 chats, and who came and went (Spam) in between
            while [m["type"] for m in seen].count("chat") < 3:
                seen.append(receive(calm))
            assert {m["type"] for m in seen} <= {"chat", "presence"}
        assert classroom.server.events.find("messages refused in a row") is not None


def test_long_messages_are_refused_and_huge_frames_close_1009(classroom: Classroom) -> None:
    """Over 500 characters: a notice; over the frame limit: the connection closes with 1009."""
    with connect(classroom.chat_url("Ada")) as ada:
        receive(ada)
        ada.send("x" * 501)
        notice = receive(ada)
        assert notice["type"] == "notice" and "501 characters" in notice["text"]
        ada.send("y" * (CLASSROOM_MAX_MESSAGE_SIZE + 1))
        code, _ = closed_with(ada)
    assert code == 1009


@pytest.mark.parametrize("query", ["", "?token=", "?token=teacher-secret-12", "?token=TEACHER-SECRET-123"])
def test_teacher_route_needs_the_token(classroom: Classroom, query: str) -> None:
    """Without the exact token the teacher's WebSocket is closed with 1008 and can do nothing."""
    with connect(classroom.chat_url("Ada")) as ada:
        receive(ada)
        with connect(classroom.server.ws_url("/teacher") + query) as intruder:
            try:
                intruder.send(json.dumps({"action": "stop_stream"}))
            except ConnectionClosed:
                pass
            code, reason = closed_with(intruder)
        assert code == 1008 and "teacher token" in reason
    assert classroom.server.stream.paused is False


def test_teacher_sees_members_live_and_stops_the_stream_for_everyone(classroom: Classroom) -> None:
    """The teacher's list follows joins and leaves; stop/start reaches every stream client."""
    with connect(classroom.server.ws_url("/teacher") + "?token=teacher-secret-123") as teacher:
        assert receive(teacher)["type"] == "room"
        assert receive(teacher)["students"] == []  # the board
        assert receive(teacher) == {"type": "members", "members": []}
        assert receive(teacher) == {"type": "stream", "running": True}
        with connect(classroom.chat_url("Ada")) as ada:
            assert receive_until(teacher, "members")["members"] == ["Ada"]
            receive(ada)
            with connect(classroom.server.ws_url("/streaming")) as one, connect(classroom.server.ws_url("/streaming")) as two:
                assert one.recv(timeout=10).startswith("message: ")
                assert two.recv(timeout=10).startswith("message: ")
                teacher.send(json.dumps({"action": "stop_stream"}))
                assert receive_until(teacher, "stream") == {"type": "stream", "running": False}
                assert receive_until(ada, "stream") == {"type": "stream", "running": False}
                sent = classroom.server.stream.sent
                time.sleep(0.5)  # ten intervals: a running stream would have sent more
                assert classroom.server.stream.sent == sent
                teacher.send(json.dumps({"action": "start_stream"}))
                assert receive_until(teacher, "stream") == {"type": "stream", "running": True}
                for ws in (one, two):  # both get messages again, the count going on
                    while True:
                        text = ws.recv(timeout=10)
                        if int(text.split()[-1]) >= sent:
                            break
        assert receive_until(teacher, "members")["members"] == []
    assert classroom.server.events.find("stream paused for everyone") is not None


def test_set_stream_running_from_the_notebook_thread(classroom: Classroom) -> None:
    """The Python API does what the teacher's buttons do, from any thread."""
    assert classroom.set_stream_running(False) is True
    assert classroom.set_stream_running(False) is False
    assert classroom.server.stream.paused
    assert classroom.set_stream_running(True) is True
    assert not classroom.server.stream.paused


def test_pages_are_served_and_plain_servers_have_no_chat(classroom: Classroom) -> None:
    """chat.html and teacher.html come from the server; a plain start_server has no /chat or /teacher."""
    for page, marker in (("chat.html", b'id="members"'), ("teacher.html", b'id="start"')):
        with urllib.request.urlopen(classroom.server.page_url(page), timeout=10) as response:
            assert marker in response.read()
    with wstutorial.start_server(port=0) as plain:
        for path in ("/chat?name=Ada", "/teacher?token=x"):
            with pytest.raises(wstutorial.ConnectionFailed, match="404"):
                wstutorial.connect_blocking(plain.ws_url(path))


def test_close_reason_fits_a_close_frame() -> None:
    """Close reasons are cut to 123 bytes without splitting a character."""
    assert close_reason("short") == "short"
    cut = close_reason("é" * 100)
    assert len(cut.encode()) <= 123 and cut.endswith("...")


def test_short_teacher_tokens_are_refused() -> None:
    """A guessable token is refused before the server starts."""
    with pytest.raises(ValueError, match="at least 8"):
        start_classroom(port=0, teacher_token="abc")


def test_a_teacher_token_the_handshake_would_refuse_is_refused_at_start() -> None:
    """A token longer than a query argument may be (1,024 bytes) is refused with a sentence; one of 1,024 opens the page."""
    longest = "t" * MAX_ARGUMENT_LENGTH
    with pytest.raises(ValueError, match=r"teacher token cannot go in the teacher page's address \(the argument 'token' is 1025 bytes"):
        start_classroom(port=0, teacher_token=longest + "t")
    with pytest.raises(ValueError, match="'token' contains a NUL character"):
        start_classroom(port=0, teacher_token="teacher\x00secret")
    with start_classroom(port=0, teacher_token=longest) as classroom:
        with connect(classroom.server.ws_url("/teacher") + "?token=" + longest) as teacher:
            assert receive(teacher)["type"] == "room"


def test_classroom_pages_use_text_only_and_nothing_from_the_network() -> None:
    """chat.js, teacher.js and wsurl.js never use innerHTML and load nothing from elsewhere."""
    from wstutorial.server.app import static_dir

    for name in ("chat.js", "teacher.js", "wsurl.js", "chat.html", "teacher.html"):
        text = (static_dir() / name).read_text()
        assert "innerHTML" not in text and "outerHTML" not in text and "insertAdjacentHTML" not in text, name
        assert "//cdn" not in text and 'src="http' not in text, name


def test_a_chat_line_to_the_class_builds_its_frame_once(classroom: Classroom, monkeypatch: pytest.MonkeyPatch) -> None:
    """The room sends one text to each member in turn; the hub frames it once, not once per member (bench classroom)."""
    from wstutorial.server import hub

    built: list[list[str | bytes]] = []

    class CountedBatch(hub.FrameBatch):
        __slots__ = ()

        def __init__(self, messages: Any) -> None:
            super().__init__(messages)
            built.append(self.messages)

    with contextlib.ExitStack() as stack:
        members = [stack.enter_context(connect(classroom.chat_url(f"Member{n}"))) for n in range(12)]
        for ws in members:
            receive_until(ws, "welcome")
        time.sleep(0.5)  # the presence bursts of the joins are out
        monkeypatch.setattr(hub, "FrameBatch", CountedBatch)
        members[0].send("hello, class")
        for ws in members:
            assert receive_until(ws, "chat")["text"] == "hello, class"
        lines = [messages for messages in built if any("hello, class" in str(m) for m in messages)]
        assert len(lines) == 1, f"the chat line was framed {len(lines)} times for {len(members)} members"
