"""Notebook 06 in class, run by a real kernel, with the mistakes students make: every cell ends in a sentence."""

from __future__ import annotations

from typing import Any, Iterator

import nbformat
import pytest
from websockets.sync.client import connect

from notebook_run import NOTEBOOKS, outputs, run_with_parameters, text_of
from wstutorial.classroom import Classroom, start_classroom


@pytest.fixture
def classroom() -> Iterator[Classroom]:
    running = start_classroom(port=0, teacher_token="notebook-06-token")
    try:
        yield running
    finally:
        running.stop()


def said(name: str, port: int) -> str:
    """Run 06 as ``name`` against the classroom on ``port``; all it printed, after checking it raised nothing."""
    notebook = run_with_parameters("06-classroom.ipynb", NAME=name, HOST="localhost", PORT=port)
    produced = outputs(notebook)
    assert [o for o in produced if o["output_type"] == "error"] == []
    assert [text_of(o) for o in produced if o.get("name") == "stderr"] == []
    return "\n".join(text_of(o) for o in produced)


@pytest.mark.timeout(300)
def test_without_a_name_every_cell_says_what_to_do(classroom: Classroom) -> None:
    """NAME left empty in class: one sentence to set it; the room's cells skip with that sentence; nobody joins."""
    text = said("", classroom.port)
    assert 'NAME is empty: write your name at the top, e.g. NAME = "Ada L."' in text
    assert text.count("(skipped) NAME is empty") >= 5
    assert "Traceback" not in text
    assert classroom.room.board.snapshot()["students"] == []
    assert classroom.server.events.find("joined the chat") is None


@pytest.mark.timeout(300)
def test_a_taken_name_is_one_sentence_with_another_name_to_use(classroom: Classroom) -> None:
    """Another student is already 'Ada': the notebook suggests a name, and never floods or disturbs Ada's room."""
    with connect(classroom.chat_url("Ada")) as ada:
        ada.recv(timeout=10)
        text = said("ada", classroom.port)
    assert "The room refused the name 'ada'" in text and "set NAME = 'ada " in text
    assert "(skipped) The room refused the name" in text
    assert classroom.room.refused == 0
    assert [(s["name"], s["results"]) for s in classroom.room.board.snapshot()["students"]] == [("Ada", [])]


def _row(classroom: Classroom, name: str) -> dict[str, Any]:
    board = classroom.server.call(classroom.room.board.snapshot)
    return next(student for student in board["students"] if student["name"] == name)


@pytest.mark.timeout(300)
def test_after_run_all_the_student_stays_in_the_room_and_later_checks_reach_the_board(classroom: Classroom) -> None:
    """Run All leaves the student in the room; the mini chat fixed afterwards reaches the board; the kernel's end leaves."""
    during: dict[str, Any] = {}

    def after_run_all() -> None:  # the kernel is still running: Run All is over
        during["members"] = classroom.members()
        during["row"] = _row(classroom, "Ada L.")

    original = nbformat.read(NOTEBOOKS / "06-classroom.ipynb", as_version=4)
    check = next(cell.source for cell in original.cells if cell.cell_type == "code" and "check_mini_chat(" in cell.source)
    solution = (NOTEBOOKS / "solutions" / "mini_chat.py").read_text(encoding="utf-8")
    notebook = run_with_parameters(
        "06-classroom.ipynb", NAME="Ada L.", HOST="localhost", PORT=classroom.port,
        after_run_all=after_run_all, then=[solution, check],  # the student fixes the exercise, then checks it again
    )
    assert "Ada L." in during["members"] and during["row"]["present"] is True
    assert [r["passed"] for r in during["row"]["results"] if r["exercise"] == "mini_chat"] == [False]  # the starting point
    assert "Passed" in text_of(notebook.cells[-1]["outputs"][0])
    mini_chat = [r for r in _row(classroom, "Ada L.")["results"] if r["exercise"] == "mini_chat"]
    assert mini_chat[0]["passed"] is True
    # The kernel ended (nbclient shut it down): the room saw the student leave; the row stays.
    classroom.server.events.wait_for("Ada L. left the chat", timeout=30)
    assert _row(classroom, "Ada L.")["present"] is False
