"""Notebook 06's Lesson: one NAME for every connection, a private room, sentences instead of tracebacks."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Iterator

import pytest
from websockets.sync.client import connect as ws_connect

import wstutorial
from helpers import free_port, results_by_name
from wstutorial import TutorialHandler
from wstutorial.classroom.room import ChatRoom
from wstutorial.classroom.server import Classroom, start_classroom
from wstutorial.student import progress
from wstutorial.student.chat import ChatState
from wstutorial.student.lesson import MAX_BASE_LENGTH, Lesson, Sentence, suggest_name
from wstutorial.teaching.exercises import check_upper_case


class Shouter(TutorialHandler):
    def on_message(self, message: str | bytes) -> None:
        self.write_message(str(message).upper())


@pytest.fixture
def teacher() -> Iterator[Classroom]:
    """The teacher's classroom server (loopback, free port)."""
    running = start_classroom(port=0, teacher_token="lesson-test-token")
    try:
        yield running
    finally:
        running.stop()


def board(classroom: Classroom) -> dict[str, object]:
    return results_by_name(classroom.server.call(classroom.room.board.snapshot))


def test_working_alone_starts_a_server_and_stops_it() -> None:
    """HOST None: your own classroom server, NAME defaults to Ada; close() leaves and stops it."""

    async def main() -> None:
        lesson = await Lesson.begin("", None, None)
        try:
            assert lesson.alone and lesson.ready and lesson.name == "Ada"
            assert lesson.classroom is not None and lesson.classroom.members() == ["Ada"]
            assert "Working alone" in lesson.status()
            assert lesson.private_room() == (lesson.host, lesson.port)
            assert lesson.path("/chat", "panel") == "/chat?name=Ada-panel"
        finally:
            await lesson.close()
        assert not lesson.classroom.server.running

    asyncio.run(main())


@pytest.mark.parametrize(
    "name, says",
    [
        ("", "NAME is empty: write your name at the top"),
        ("<b>", "cannot be used (name has characters that are not allowed"),
        ("A" * (MAX_BASE_LENGTH + 1), f"use at most {MAX_BASE_LENGTH} here"),
    ],
)
def test_in_class_an_unusable_name_is_a_sentence_and_later_waits_are_skipped(teacher: Classroom, name: str, says: str) -> None:
    """No NAME (or a bad one): one sentence saying what to write; the cells after it skip at once, without a traceback."""

    async def main() -> None:
        lesson = await Lesson.begin(name, "localhost", teacher.port)
        assert not lesson.ready and says in lesson.status()
        waiting = lesson.chat.wait_for("anything", timeout=60)
        skipped = await lesson.wait(waiting)
        assert isinstance(skipped, Sentence) and skipped.startswith("(skipped)") and says in skipped
        assert waiting.cr_frame is None  # closed, never started: no "never awaited" warning
        assert teacher.members() == []
        await lesson.close()

    asyncio.run(main())


def test_a_taken_name_is_a_sentence_with_a_suggestion(teacher: Classroom) -> None:
    """Another student has the name: the room's reason, and another name to set."""

    async def main() -> None:
        lesson = await Lesson.begin("Grace", "localhost", teacher.port)
        assert not lesson.ready
        text = str(lesson.status())
        assert "refused the name 'Grace'" in text and "already in the room" in text
        suggestion = re.search(r"set NAME = '([^']+)'", text)
        assert suggestion and suggestion.group(1).startswith("Grace ") and suggestion.group(1) != "Grace"
        await lesson.close()

    with ws_connect(teacher.chat_url("grace")) as other:
        other.recv(timeout=10)
        asyncio.run(main())


def test_too_many_joins_from_one_address_is_a_sentence() -> None:
    """The room's per-address join limit: the cell tries once more, then says to wait (not that the name is taken)."""
    strict = start_classroom(port=0, room=ChatRoom(join_rate=0.01, join_burst=1, limit_local_joins=True))

    async def main() -> None:
        await Lesson.begin("Ada", "localhost", strict.port)
        again = await Lesson.begin("Ada", "localhost", strict.port)  # a re-run: the only join is used up
        assert not again.ready
        text = str(again.status())
        assert "too many joins" in text and "Run this cell again in a few seconds" in text and "set NAME" not in text
        await again.close()

    try:
        asyncio.run(main())
    finally:
        strict.stop()


def test_suggested_names_are_valid_and_fit() -> None:
    """A suggestion leaves room for the notebook's suffixes."""
    for name in ("Ada", "A" * MAX_BASE_LENGTH):
        suggested = suggest_name(name)
        assert suggested != name and len(suggested) <= MAX_BASE_LENGTH


@pytest.mark.parametrize("host, port, says", [("no host!", 8888, "HOST or PORT is not right"), ("localhost", "eighty", "HOST or PORT is not right")])
def test_a_wrong_host_or_port_is_a_sentence(host: str, port: object, says: str) -> None:
    """Typos on the board's address: a sentence naming HOST and PORT."""

    async def main() -> None:
        lesson = await Lesson.begin("Ada", host, port)
        assert not lesson.ready and says in lesson.status()
        await lesson.close()

    asyncio.run(main())


def test_nothing_listening_is_a_sentence() -> None:
    """The teacher's server is not running (or the port is wrong): say so, no traceback."""

    async def main() -> None:
        lesson = await Lesson.begin("Ada", "127.0.0.1", free_port())
        assert not lesson.ready and "Could not join the room" in lesson.status() and "Check HOST and PORT" in lesson.status()
        await lesson.close()

    asyncio.run(main())


def test_running_the_first_cell_again_rejoins_under_the_same_name(teacher: Classroom) -> None:
    """A re-run replaces this kernel's lesson: the old connection leaves first, so the name is not 'taken' by ourselves."""

    async def main() -> None:
        first = await Lesson.begin("Lin", "localhost", teacher.port)
        second = await Lesson.begin("Lin", "localhost", teacher.port)
        assert first.chat.status == "closed" and second.ready
        assert teacher.members() == ["Lin"]
        await second.close()

    asyncio.run(main())


def test_in_class_the_private_room_is_another_server(teacher: Classroom) -> None:
    """Speedy's flood goes to a server of the student's own; the class's room never sees it."""

    async def main() -> None:
        lesson = await Lesson.begin("Ada", "localhost", teacher.port)
        room = lesson.private_room()
        assert room.port != teacher.port and lesson.private_room() == room
        speedy = ChatState(room.host, room.port, lesson.name_for("speedy"))
        assert await speedy.join()
        for i in range(15):
            await speedy.say(f"message {i}")
        assert "too many messages" in await lesson.wait(speedy.wait_for("too many messages"))
        assert teacher.members() == ["Ada"] and teacher.room.refused == 0
        await speedy.leave()
        private = lesson._private
        await lesson.close()
        assert private is not None and not private.server.running

    asyncio.run(main())


def test_a_wait_that_runs_out_is_a_sentence(teacher: Classroom) -> None:
    """Nothing comes: after the timeout, a sentence (what happened, what to do) instead of TimeoutError."""

    async def main() -> None:
        lesson = await Lesson.begin("Ada", "localhost", teacher.port)
        said = await lesson.wait(lesson.chat.wait_for("a line nobody sends"), timeout=0.2)
        assert isinstance(said, Sentence) and "nothing came within the time allowed" in said and repr(said) == str(said)
        await lesson.close()

    asyncio.run(main())


def test_own_message_skips_other_students_lines(teacher: Classroom) -> None:
    """In class, others' lines arrive first: own_message returns the one this client sent."""

    async def main() -> None:
        lesson = await Lesson.begin("Ada", "localhost", teacher.port)
        async with await wstutorial.connect(lesson.ws_url("/chat", "code")) as client:
            await client.receive(timeout=5)
            with ws_connect(teacher.chat_url("Bob")) as bob:
                bob.send("Bob first")
                await lesson.chat.wait_for("Bob: Bob first")
                await client.send("mine")
                assert json.loads(await lesson.own_message(client)) == {"type": "chat", "name": "Ada-code", "text": "mine"}
        await lesson.close()

    asyncio.run(main())


def test_check_results_reach_the_board_only_while_joined(teacher: Classroom) -> None:
    """Joined: each check's result goes to the board under NAME. Not joined, or another ChatState: nothing."""

    async def main() -> None:
        bystander = ChatState("localhost", teacher.port, "Bystander")  # report_progress is off by default
        assert await bystander.join()
        check_upper_case(Shouter)  # nobody reports yet (kept locally: sent on joining, then replaced by the newer ones)
        lesson = await Lesson.begin("Ada", "localhost", teacher.port)
        assert check_upper_case(Shouter).passed
        assert check_upper_case(object).passed is False
        await lesson.chat.wait_for("upper_case: not yet")
        await lesson.close()
        check_upper_case(Shouter)  # left: nothing more is sent
        await bystander.leave()

    asyncio.run(main())
    rows = board(teacher)
    assert list(rows) == ["Ada", "Bystander"] and rows["Bystander"] == {}  # a row from joining; no result of Ada's
    assert rows["Ada"]["upper_case"]["passed"] is False  # type: ignore[index]


def test_a_restarted_kernel_rejoins_as_the_same_student_and_another_computer_cannot(teacher: Classroom) -> None:
    """The room's key to Ada's row is kept in the per-user folder: a new kernel (a new Lesson) is Ada again;
    without the file (another computer) the name is taken, in a sentence with a name to use instead."""
    keys = progress.rejoin_file()

    async def main() -> None:
        first = await Lesson.begin("Ada K.", "localhost", teacher.port)
        assert first.ready
        await first.close()
        assert "ada k." in keys.read_text(encoding="utf-8")
        assert check_upper_case(Shouter).passed  # between kernels: kept locally, sent on the next join
        again = await Lesson.begin("ada k.", "localhost", teacher.port)  # a new kernel, the name typed in lower case
        assert again.ready and again.name == "Ada K.", again.problem
        await again.chat.wait_for("you joined as Ada K.")
        await again.close()
        keys.unlink()
        elsewhere = await Lesson.begin("Ada K.", "localhost", teacher.port)
        assert not elsewhere.ready
        assert "The room refused the name 'Ada K.'" in elsewhere.problem and "taken in this class" in elsewhere.problem
        assert "set NAME = 'Ada K. " in elsewhere.problem
        await elsewhere.close()

    asyncio.run(main())
    assert [row["name"] for row in teacher.room.board.snapshot()["students"]] == ["Ada K."]
