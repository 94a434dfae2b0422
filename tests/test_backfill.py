"""Nothing lost: results checked before joining are kept on the student's machine and reach the board on joining.

A real classroom server on a free loopback port; the student is a real
``ChatState``; the teacher's page is the ``websockets`` library.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, Iterator

import pytest
from websockets.sync.client import connect

from helpers import results_by_name, wait_until
from wstutorial import TutorialHandler
from wstutorial.classroom.room import ChatRoom
from wstutorial.classroom.server import Classroom, start_classroom
from wstutorial.curriculum import Exercise
from wstutorial.student import progress
from wstutorial.student.chat import ChatState
from wstutorial.student.lesson import Lesson
from wstutorial.teaching.exercises import check_upper_case

TOKEN = "backfill-test-token"


class Shouter(TutorialHandler):
    def on_message(self, message: str | bytes) -> None:
        self.write_message(str(message).upper())


@pytest.fixture(autouse=True)
def kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test keeps its results in a file of its own."""
    path = tmp_path / "kept" / "progress.json"
    monkeypatch.setenv("WSTUTORIAL_PROGRESS_FILE", str(path))
    monkeypatch.setattr(progress, "_warned", False)
    return path


@pytest.fixture
def classroom() -> Iterator[Classroom]:
    running = start_classroom(port=0, teacher_token=TOKEN)
    try:
        yield running
    finally:
        running.stop()


def teacher_board(classroom: Classroom) -> dict[str, Any]:
    """The board as the teacher's page receives it on connecting."""
    with connect(classroom.server.ws_url("/teacher") + f"?token={TOKEN}") as teacher:
        for _ in range(20):
            message = json.loads(teacher.recv(timeout=10))
            if message["type"] == "board":
                return results_by_name(message)
    raise AssertionError("no board message")


async def join_and_backfill(classroom: Classroom, name: str) -> tuple[ChatState, list[dict[str, Any]]]:
    """Join as ``name`` (reporting progress); return once the room has answered every earlier-results message."""
    chat = ChatState("localhost", classroom.port, name, report_progress=True)
    assert await chat.join()
    assert chat.backfill is not None
    sent = await asyncio.wait_for(chat.backfill, 30)
    replies = lambda: [m for m in chat.received if m.get("type") == "progress_batch"]  # noqa: E731
    await wait_until(lambda: sum(r["stored"] + r["kept"] for r in replies()) == sent)
    return chat, replies()


def test_a_result_checked_before_joining_reaches_the_board_under_that_name_only(classroom: Classroom, kept: Path) -> None:
    """Checked before joining, then Ada joins: on her row. Bob joining later from the same account does not get it."""
    assert check_upper_case(Shouter).passed  # no classroom yet: kept locally only

    async def main() -> None:
        ada, replies = await join_and_backfill(classroom, "Ada")
        assert replies == [{"type": "progress_batch", "stored": 1, "kept": 0}]
        assert not any("board shows" in line for line in ada.lines)  # sent quietly: no line per earlier result
        await ada.leave()
        bob, replies = await join_and_backfill(classroom, "Bob")
        assert replies == []  # Ada's result stays Ada's
        await bob.leave()

    asyncio.run(main())
    board = teacher_board(classroom)
    assert board["Ada"]["upper_case"]["passed"] is True
    assert board["Bob"] == {}  # a row from the moment he joined, without Ada's result
    assert json.loads(kept.read_text(encoding="utf-8"))["results"]["upper_case"]["name"] == "Ada"


def test_an_earlier_result_never_replaces_a_newer_one(classroom: Classroom) -> None:
    """By the results' times: an older earlier result is kept out; a newer one replaces."""
    with connect(classroom.chat_url("Ada")) as ada:
        ada.recv(timeout=10)  # welcome

        def send(message: dict[str, Any], kind: str) -> dict[str, Any]:
            ada.send(json.dumps(message))
            while True:
                answer = json.loads(ada.recv(timeout=10))
                if answer["type"] == kind:
                    return answer

        live = {"type": "progress", "exercise": "mini_chat", "passed": False, "reason": "live, newer", "at": 2000.0}
        send(live, "progress")
        older = {"exercise": "mini_chat", "passed": True, "reason": "earlier, older", "at": 1000.0}
        assert send({"type": "progress_batch", "results": [older]}, "progress_batch") == {"type": "progress_batch", "stored": 0, "kept": 1}
        assert teacher_board(classroom)["Ada"]["mini_chat"] == {"passed": False, "reason": "live, newer"}
        newer = {"exercise": "mini_chat", "passed": True, "reason": "earlier, newer", "at": 3000.0}
        assert send({"type": "progress_batch", "results": [newer]}, "progress_batch")["stored"] == 1
        assert teacher_board(classroom)["Ada"]["mini_chat"] == {"passed": True, "reason": "earlier, newer"}


def test_forty_earlier_results_arrive_complete_without_tripping_the_rate_limit() -> None:
    """40 exercises with long non-ASCII reasons: several messages, paced; a room allowing no burst refuses none."""
    for n in range(40):
        progress._keep(progress.Progress(f"exercise_{n}", n % 2 == 0, "é" * progress.MAX_REASON_LENGTH, 1000.0 + n), "")
    exercises = tuple(Exercise(f"exercise_{n}", "01", core=True) for n in range(40))
    strict = start_classroom(port=0, teacher_token=TOKEN, room=ChatRoom(rate=2.0, burst=1, exercises=exercises))
    try:

        async def main() -> list[dict[str, Any]]:
            chat, replies = await join_and_backfill(strict, "Ada")
            await chat.leave()
            return replies

        replies = asyncio.run(main())
        assert len(replies) > 1 and sum(r["stored"] for r in replies) == 40
        assert strict.server.call(lambda: strict.room.refused) == 0
        row = teacher_board(strict)["Ada"]
        assert len(row) == 40 and row["exercise_0"]["passed"] is True and row["exercise_1"]["passed"] is False
    finally:
        strict.stop()


def test_an_unwritable_local_file_never_breaks_a_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The check still gives its sentence; one warning, however many checks."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("WSTUTORIAL_PROGRESS_FILE", str(blocker / "progress.json"))
    first, second = check_upper_case(Shouter), check_upper_case(object)
    assert str(first).startswith("Passed: ") and str(second).startswith("Not yet: ")
    err = capsys.readouterr().err
    assert err.count("Could not keep your check results") == 1 and "WSTUTORIAL_PROGRESS_FILE" in err


def test_working_alone_first_does_not_keep_results_from_the_class_board(classroom: Classroom) -> None:
    """Notebook 06 alone (own server, NAME 'Ada' by default), then in class as 'Bob L.': the results still come."""
    assert check_upper_case(Shouter).passed

    async def main() -> None:
        alone = await Lesson.begin("", None, None)
        assert alone.alone and alone.ready and alone.chat.backfill is not None
        assert await asyncio.wait_for(alone.chat.backfill, 30) == 1  # on the student's own board too
        await alone.close()
        bob, replies = await join_and_backfill(classroom, "Bob L.")
        assert replies == [{"type": "progress_batch", "stored": 1, "kept": 0}]
        await bob.leave()

    asyncio.run(main())
    assert teacher_board(classroom)["Bob L."]["upper_case"]["passed"] is True
