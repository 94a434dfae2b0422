"""The progress board: what a progress message may hold, what the room does with it, and the teacher's page feed."""

from __future__ import annotations

import json
from typing import Any, Iterator

import pytest
from websockets.sync.client import ClientConnection, connect

from wstutorial.chatrules import MAX_EXERCISE_LENGTH, MAX_REASON_LENGTH, describe, parse_incoming, parse_progress
from wstutorial.classroom import board
from wstutorial.classroom.board import ProgressBoard
from wstutorial.classroom.room import ChatRoom
from wstutorial.classroom.server import Classroom, start_classroom

TOKEN = "board-test-token-123"


class Inbox(list):  # type: ignore[type-arg]
    def __call__(self, text: str) -> None:
        self.append(json.loads(text))


def progress(exercise: str = "mini_chat", passed: object = True, reason: object = "ok") -> str:
    return json.dumps({"type": "progress", "exercise": exercise, "passed": passed, "reason": reason})


def test_a_progress_message_is_parsed() -> None:
    """The fields are kept as they are; the reason may be left out."""
    assert parse_incoming(progress("upper_case", False, "not yet: .upper()")) == {
        "type": "progress", "exercise": "upper_case", "passed": False, "reason": "not yet: .upper()",
    }  # fmt: skip
    assert parse_progress({"exercise": "ping_pong", "passed": True}) == {
        "type": "progress", "exercise": "ping_pong", "passed": True, "reason": "",
    }  # fmt: skip


@pytest.mark.parametrize(
    "exercise, passed, reason, says",
    [
        ("<b>x</b>", True, "", "exercise name"),
        ("Mini_Chat", True, "", "exercise name"),
        ("a" * (MAX_EXERCISE_LENGTH + 1), True, "", "exercise name"),
        (7, True, "", "exercise name"),
        ("mini_chat", "yes", "", "true or false"),
        ("mini_chat", 1, "", "true or false"),
        ("mini_chat", True, "r" * (MAX_REASON_LENGTH + 1), "at most"),
        ("mini_chat", True, ["list"], "text"),
    ],
)
def test_a_bad_progress_message_is_refused_with_the_reason(exercise: object, passed: object, reason: object, says: str) -> None:
    """Names, booleans and sizes are checked as strictly as chat names and lines."""
    with pytest.raises(ValueError, match=says):
        parse_incoming(progress(exercise, passed, reason))  # type: ignore[arg-type]


def test_the_room_sends_a_result_to_the_teacher_and_the_student_only() -> None:
    """Other students never see a classmate's results; the teacher's page and the sender do."""
    room = ChatRoom()
    ada, bob, teacher = Inbox(), Inbox(), Inbox()
    room.watch("teacher", teacher)
    room.join("Ada", ada)
    room.join("Bob", bob)
    seen_by_bob = len(bob)
    assert room.receive("Ada", progress("mini_chat", False, "Bob got nothing")).accepted
    expected = {"type": "progress", "exercise": "mini_chat", "passed": False, "reason": "Bob got nothing", "name": "Ada"}
    assert ada[-1] == teacher[-1] == expected
    assert len(bob) == seen_by_bob
    assert describe(ada[-1]) == "* the teacher's board shows mini_chat: not yet"
    assert room.receive("Ada", progress("mini_chat", True, "sent to everyone")).accepted
    room.leave("Ada")  # a student who left keeps their row
    assert room.board.snapshot() == {
        "type": "board",
        "exercises": ["mini_chat"],
        "students": {"Ada": {"mini_chat": {"passed": True, "reason": "sent to everyone"}}},
    }


def test_progress_messages_count_against_the_rate_limit() -> None:
    """A loop sending results is refused like a loop sending chat lines."""
    room = ChatRoom(rate=1.0, burst=2)
    ada = Inbox()
    room.join("Ada", ada)
    verdicts = [room.receive("Ada", progress()).accepted for _ in range(4)]
    assert verdicts == [True, True, False, False]
    assert "too many messages" in ada[-1]["text"]


def test_the_board_is_bounded() -> None:
    """At most MAX_EXERCISES columns (refused with a sentence) and MAX_STUDENTS rows (the oldest goes)."""
    grid = ProgressBoard()
    for n in range(board.MAX_EXERCISES):
        assert grid.record("Ada", f"e{n}", True, "") is None
    assert "room for" in str(grid.record("Ada", "one_more", True, ""))
    for n in range(board.MAX_STUDENTS + 1):
        grid.record(f"S{n}", "e0", False, "")
    assert len(grid.rows) == board.MAX_STUDENTS and "Ada" not in grid.rows and f"S{board.MAX_STUDENTS}" in grid.rows


# -- the teacher's page feed, with a real server and the websockets library as client -------------


@pytest.fixture
def classroom() -> Iterator[Classroom]:
    running = start_classroom(port=0, teacher_token=TOKEN)
    try:
        yield running
    finally:
        running.stop()


def next_of(ws: ClientConnection, kind: str, where: Any = lambda m: True) -> dict[str, Any]:
    for _ in range(200):
        message = json.loads(ws.recv(timeout=10))
        if message["type"] == kind and where(message):
            return message
    raise AssertionError(f"no {kind!r} message in 200")


def test_the_teacher_gets_the_board_results_and_who_is_connected(classroom: Classroom) -> None:
    """On connecting: the board so far; then each result live; connection lists by path, named by ?name=."""
    url = classroom.server.ws_url
    with connect(classroom.chat_url("Ada")) as ada:
        ada.send(progress("upper_case", True, "HELLO"))
        next_of(ada, "progress")
        with connect(url("/teacher") + f"?token={TOKEN}") as teacher:
            assert next_of(teacher, "board")["students"] == {"Ada": {"upper_case": {"passed": True, "reason": "HELLO"}}}
            first = next_of(teacher, "connections")
            assert first["paths"] == {"/ws": [], "/streaming": [], "/chat": ["Ada"]}
            with connect(url("/ws") + "?name=Ada"), connect(url("/streaming") + "?name=%3Cb%3E"), connect(url("/ws")):
                seen = next_of(teacher, "connections", lambda m: len(m["paths"]["/ws"]) == 2 and m["paths"]["/streaming"])
                named, unnamed = sorted(seen["paths"]["/ws"], key=lambda label: label != "Ada")
                assert named == "Ada" and unnamed.startswith("client-") and unnamed.endswith("from 127.0.0.1")
                assert seen["paths"]["/streaming"][0].startswith("client-")  # a name that is no name is not shown
                ada.send(progress("mini_chat", False, "not yet"))
                live = next_of(teacher, "progress")
                assert live == {"type": "progress", "exercise": "mini_chat", "passed": False, "reason": "not yet", "name": "Ada"}
            after = next_of(teacher, "connections", lambda m: not m["paths"]["/ws"])
            assert after["paths"] == {"/ws": [], "/streaming": [], "/chat": ["Ada"]}
