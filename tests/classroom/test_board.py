"""The progress board: a row per student from joining, results of the lesson's exercises only, bound to their student.

Each attack of issue 24 (items 2 and 3) has its test here: one message that
fills the board, a result dated in the future, a name taken while its student
is away, the same name in other case or in look-alike letters, and many made-up
names pushing a student off the board.
"""

from __future__ import annotations

import json
from typing import Any, Iterator

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from helpers import results_by_name
from wstutorial.chatrules import (
    MAX_EXERCISE_LENGTH,
    MAX_REASON_LENGTH,
    NameRejected,
    describe,
    parse_incoming,
    parse_progress,
)
from wstutorial.classroom.board import ProgressBoard
from wstutorial.classroom.room import ChatRoom, WrongRoom
from wstutorial.classroom.server import Classroom, start_classroom
from wstutorial.curriculum import EXERCISES

TOKEN = "board-test-token-123"


class Inbox(list):  # type: ignore[type-arg]
    def __call__(self, text: str) -> None:
        self.append(json.loads(text))

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [message for message in self if message["type"] == kind]


def progress(exercise: str = "mini_chat", passed: object = True, reason: object = "ok", **more: Any) -> str:
    return json.dumps({"type": "progress", "exercise": exercise, "passed": passed, "reason": reason, **more})


def test_a_progress_message_is_parsed() -> None:
    """The fields are kept as they are; the reason may be left out."""
    assert parse_incoming(progress("upper_case", False, "not yet: .upper()")) == {
        "type": "progress", "exercise": "upper_case", "passed": False, "reason": "not yet: .upper()",
    }  # fmt: skip
    assert parse_progress({"exercise": "ping", "passed": True}) == {
        "type": "progress", "exercise": "ping", "passed": True, "reason": "",
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


def test_a_student_has_a_row_from_joining_and_keeps_it_after_leaving() -> None:
    """Joining makes the row (present, no results) and tells the teacher; leaving greys it; the secret goes to the student only."""
    room = ChatRoom()
    ada, teacher = Inbox(), Inbox()
    room.watch("teacher", teacher)
    room.join("Ada", ada)
    assert [(m["name"], m["present"], m["bound"]) for m in teacher.of("student")] == [("Ada", True, True)]
    assert ada[0]["secret"] and "secret" not in json.dumps(teacher)
    room.leave("Ada")
    assert teacher.of("student")[-1]["present"] is False
    assert [(row["name"], row["present"], row["results"]) for row in room.board.snapshot()["students"]] == [("Ada", False, [])]


def test_the_room_sends_a_result_to_the_teacher_and_the_student_only() -> None:
    """Other students never see a classmate's results; the teacher's page and the sender do."""
    room = ChatRoom()
    ada, bob, teacher = Inbox(), Inbox(), Inbox()
    room.watch("teacher", teacher)
    room.join("Ada", ada)
    room.join("Bob", bob)
    seen_by_bob = len(bob)
    assert room.receive("Ada", progress("mini_chat", False, "Bob got nothing")).accepted
    assert ada[-1] == {"type": "progress", "exercise": "mini_chat", "passed": False, "reason": "Bob got nothing", "name": "Ada"}
    live = teacher.of("progress")[-1]
    assert (live["key"], live["exercise"], live["passed"], live["reason"]) == (room.board.find("Ada").key, "mini_chat", False, "Bob got nothing")  # type: ignore[union-attr]
    assert live["passed_at"] is None and live["first"] <= live["at"] + 1
    assert len(bob) == seen_by_bob
    assert describe(ada[-1]) == "* the teacher's board shows mini_chat: not yet"
    assert room.receive("Ada", progress("mini_chat", True, "sent to everyone")).accepted
    assert teacher.of("progress")[-1]["passed_at"] is not None
    assert results_by_name(room.board.snapshot())["Ada"] == {"mini_chat": {"passed": True, "reason": "sent to everyone"}}


def test_progress_messages_count_against_the_rate_limit() -> None:
    """A loop sending results is refused like a loop sending chat lines."""
    room = ChatRoom(rate=1.0, burst=2)
    ada = Inbox()
    room.join("Ada", ada)
    verdicts = [room.receive("Ada", progress()).accepted for _ in range(4)]
    assert verdicts == [True, True, False, False]
    assert "too many messages" in ada[-1]["text"]


def test_the_columns_are_the_lessons_exercises_in_order_homework_apart() -> None:
    """The board message lists every exercise of the curriculum in lesson order, each marked core or homework."""
    exercises = ProgressBoard().snapshot()["exercises"]
    assert [e["name"] for e in exercises] == [e.name for e in EXERCISES]
    assert [e["notebook"] for e in exercises] == sorted(e["notebook"] for e in exercises)
    assert {e["name"] for e in exercises if e["core"]} >= {"upper_case", "echo", "mini_chat"}


# -- issue 24, item 2: one message fills the board ---------------------------------------------------


def test_one_batch_of_made_up_exercises_stores_nothing_and_real_ones_still_count() -> None:
    """40 made-up names in one progress_batch: a notice naming them, nothing stored; a real exercise afterwards is."""
    room = ChatRoom()
    mallory, ada = Inbox(), Inbox()
    room.join("Mallory", mallory)
    room.join("Ada", ada)
    made_up = [{"exercise": f"fake_{n}", "passed": True, "reason": "", "at": 1000.0 + n} for n in range(40)]
    assert room.receive("Mallory", json.dumps({"type": "progress_batch", "results": made_up})).accepted
    assert mallory.of("progress_batch")[-1] == {"type": "progress_batch", "stored": 0, "kept": 40}
    assert "not one of the tutorial's exercises" in mallory.of("notice")[-1]["text"] and "'fake_0'" in mallory.of("notice")[-1]["text"]
    assert not room.receive("Mallory", progress("constructor")).accepted
    assert "'constructor' is not one of the tutorial's exercises" in mallory[-1]["text"]
    assert room.receive("Ada", progress("upper_case", True, "HELLO")).accepted
    assert results_by_name(room.board.snapshot()) == {"Ada": {"upper_case": {"passed": True, "reason": "HELLO"}}, "Mallory": {}}


# -- issue 24, item 3: results can be forged -----------------------------------------------------------


def test_a_result_dated_in_the_future_is_dated_now_and_newer_results_still_win() -> None:
    """``at: 4e9`` (2096) is capped at the server's clock: the student's own next result replaces it."""
    clock = [1_700_000_000.0]
    room = ChatRoom()
    room.board.clock = lambda: clock[0]
    room.join("Ada", Inbox())
    assert room.receive("Ada", progress("echo", False, "forged", at=4e9)).accepted
    assert room.board.find("Ada").results["echo"].at == clock[0]  # type: ignore[union-attr]
    clock[0] += 10
    batch = [{"exercise": "echo", "passed": True, "reason": "from before, but newer", "at": clock[0] - 1}]
    assert room.receive("Ada", json.dumps({"type": "progress_batch", "results": batch})).accepted
    assert room.board.find("Ada").results["echo"].reason == "from before, but newer"  # type: ignore[union-attr]


def test_an_absent_students_name_cannot_be_taken_nor_their_results_overwritten() -> None:
    """Ada left: Mallory joining as 'Ada', 'ada' or 'Аda' (Cyrillic А) is refused; Ada with her secret gets her row back."""
    room = ChatRoom()
    ada = Inbox()
    room.join("Ada", ada)
    secret = ada[0]["secret"]
    assert room.receive("Ada", progress("mini_chat", True, "mine")).accepted
    room.leave("Ada")
    for impostor in ("Ada", "ada", "ADA", "\u0410da"):
        with pytest.raises(NameRejected, match="'Ada' is taken in this class; if it is yours, ask the teacher"):
            room.join(impostor, Inbox())
        with pytest.raises(NameRejected, match="taken"):
            room.join(impostor, Inbox(), secret="a guess at Ada's secret")
    back = Inbox()
    member = room.join("ada", back, secret=secret)  # her own notebook, the name typed in lower case: the same student
    assert member.name == "Ada" and "secret" not in back[0] and back[0]["name"] == "Ada"
    assert [row["name"] for row in room.board.snapshot()["students"]] == ["Ada"]  # one row, not a look-alike second one
    assert results_by_name(room.board.snapshot())["Ada"]["mini_chat"]["reason"] == "mine"


def test_many_made_up_names_never_push_a_student_off_the_board() -> None:
    """250 joins under new names (from this machine, not join-limited): Ada's row and results stay."""
    room = ChatRoom()
    room.join("Ada", Inbox())
    room.receive("Ada", progress("echo", True, "kept"))
    room.leave("Ada")
    for number in range(250):
        room.join(f"Filler {number}", Inbox())
        room.receive(f"Filler {number}", progress("echo", False, "noise"))
        room.leave(f"Filler {number}")
    assert results_by_name(room.board.snapshot())["Ada"] == {"echo": {"passed": True, "reason": "kept"}}
    assert len(room.board.students) == 251


def test_a_notebooks_other_connections_count_for_its_student_but_post_no_results() -> None:
    """Ada-panel and Ada-code make no row; a result from them is refused with a notice; Ada's row is active."""
    room = ChatRoom()
    teacher = Inbox()
    room.watch("teacher", teacher)
    room.join("Ada", Inbox())
    panel = Inbox()
    room.join("Ada-panel", panel)
    room.join("Bob-code", Inbox())  # no 'Bob' row: a student called Bob-code
    assert [row["name"] for row in room.board.snapshot()["students"]] == ["Ada", "Bob-code"]
    assert "secret" not in panel[0]
    assert not room.receive("Ada-panel", progress("mini_chat")).accepted
    assert "your notebook's own connection" in panel[-1]["text"]
    assert results_by_name(room.board.snapshot())["Ada"] == {}


def test_the_teacher_releases_a_name_for_a_student_on_another_computer() -> None:
    """Released: the next join under the name owns the row (with its results) and gets a new secret."""
    room = ChatRoom()
    first = Inbox()
    room.join("Ada", first)
    room.receive("Ada", progress("echo", True, "from the first laptop"))
    room.leave("Ada")
    assert room.release(room.board.find("Ada").key)  # type: ignore[union-attr]
    second = Inbox()
    room.join("Ada", second)
    assert second[0]["secret"] and second[0]["secret"] != first[0]["secret"]
    assert results_by_name(room.board.snapshot())["Ada"]["echo"]["reason"] == "from the first laptop"
    assert not room.release("nobody")


def test_a_rehearsals_students_join_only_a_rehearsal_room() -> None:
    """In a class's room a simulated student is refused with where to go; in a rehearsal room only simulated
    students may rejoin a simulated student's name, and they never take a real student's row."""
    with pytest.raises(WrongRoom, match="rehearse in a room of its own"):
        ChatRoom().join("Ada-sim", Inbox(), rehearsal=True)
    rehearsal = ChatRoom(rehearsal_room=True, room_name="rehearsal")
    welcome = Inbox()
    rehearsal.join("Ada-sim", welcome, rehearsal=True)
    assert "secret" not in welcome[0]
    rehearsal.leave("Ada-sim")
    rehearsal.join("Ada-sim", Inbox(), rehearsal=True)  # a second rehearsal run, its own process: no secret needed
    rehearsal.leave("Ada-sim")
    with pytest.raises(NameRejected, match="'Ada-sim' is taken in this class by a rehearsal's simulated student"):
        rehearsal.join("ada-SIM", Inbox())  # a real student (a browser, a notebook) under a simulated student's name
    real = Inbox()
    rehearsal.join("Grace", real)  # a real student in the rehearsal room (notebook 06 in a kernel) gets a secret
    rehearsal.leave("Grace")
    with pytest.raises(NameRejected, match="'Grace' is taken in this class"):
        rehearsal.join("Grace", Inbox(), rehearsal=True)  # ... and no simulated student takes her row
    rehearsal.join("Grace", Inbox(), secret=real[0]["secret"])
    bound = {row["name"]: row["bound"] for row in rehearsal.board.snapshot()["students"]}
    assert bound == {"Ada-sim": False, "Grace": True}  # nothing to release on a simulated student's row


# -- the teacher's page feed, with a real server and the websockets library as client ----------------


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
    """On connecting: the room and the board so far; then each result live; connection lists by path, named by ?name=."""
    url = classroom.server.ws_url
    with connect(classroom.chat_url("Ada")) as ada:
        ada.send(progress("upper_case", True, "HELLO"))
        next_of(ada, "progress")
        with connect(url("/teacher") + f"?token={TOKEN}") as teacher:
            room = next_of(teacher, "room")
            assert room["room"] == "class" and room["join"]["urls"] == [f"http://localhost:{classroom.port}/chat.html"]
            assert room["join"]["qr"].startswith("data:image/svg+xml")
            assert results_by_name(next_of(teacher, "board")) == {"Ada": {"upper_case": {"passed": True, "reason": "HELLO"}}}
            first = next_of(teacher, "connections")
            assert first["paths"] == {"/ws": [], "/streaming": [], "/chat": ["Ada"]}
            with connect(url("/ws") + "?name=Ada"), connect(url("/streaming") + "?name=%3Cb%3E"), connect(url("/ws")):
                seen = next_of(teacher, "connections", lambda m: len(m["paths"]["/ws"]) == 2 and m["paths"]["/streaming"])
                named, unnamed = sorted(seen["paths"]["/ws"], key=lambda label: label != "Ada")
                assert named == "Ada" and unnamed.startswith("client-") and unnamed.endswith("from 127.0.0.1")
                assert seen["paths"]["/streaming"][0].startswith("client-")  # a name that is no name is not shown
                ada.send(progress("mini_chat", False, "not yet"))
                live = next_of(teacher, "progress")
                assert (live["exercise"], live["passed"], live["reason"]) == ("mini_chat", False, "not yet")
                active = next_of(teacher, "activity")  # at most once a second, for everyone active since
                assert [key for key, _ in active["students"]] == [live["key"]] and active["now"] >= active["students"][0][1]
            after = next_of(teacher, "connections", lambda m: not m["paths"]["/ws"])
            assert after["paths"] == {"/ws": [], "/streaming": [], "/chat": ["Ada"]}


def test_the_teacher_chooses_the_current_exercise_and_releases_a_name(classroom: Classroom) -> None:
    """``current`` reaches every teacher page (an unknown name gets a notice); ``release`` lets the name in again."""
    with connect(classroom.server.ws_url("/teacher") + f"?token={TOKEN}") as teacher:
        next_of(teacher, "board")
        teacher.send(json.dumps({"action": "current", "exercise": "echo"}))
        assert next_of(teacher, "current")["exercise"] == "echo"
        teacher.send(json.dumps({"action": "current", "exercise": "constructor"}))
        assert "'constructor' is not one of the tutorial's exercises" in next_of(teacher, "notice")["text"]
        with connect(classroom.chat_url("Ada")) as ada:
            next_of(ada, "welcome")
        key = next_of(teacher, "student", lambda m: not m["present"])["key"]
        with connect(classroom.chat_url("Ada")) as impostor, pytest.raises(ConnectionClosed) as closed:
            impostor.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008 and "taken" in closed.value.rcvd.reason
        teacher.send(json.dumps({"action": "release", "key": key}))
        assert next_of(teacher, "student", lambda m: not m["bound"])["key"] == key
        with connect(classroom.chat_url("Ada")) as new_owner:
            assert next_of(new_owner, "welcome")["secret"]
    assert classroom.room.board.current == "echo"


def test_a_rejoin_secret_never_shows_in_the_servers_log(classroom: Classroom) -> None:
    """A refused handshake (a page from another origin) is logged with ``secret=***``, like the teacher's token."""
    url = classroom.chat_url("Ada") + "&secret=never-print-me-123"
    with pytest.raises(InvalidStatus):
        connect(url, origin="http://elsewhere.example")  # type: ignore[arg-type]
    line = classroom.server.events.wait_for("HTTP 403 GET /chat", timeout=10).text
    assert "secret=***" in line and "never-print-me" not in "\n".join(classroom.server.events.texts())
