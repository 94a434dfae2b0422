"""The plan's join cell (docs/teaching.md, the handout): at the top of 01 and then of 02, each check reaches the board as it runs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import nbformat
import pytest
from nbclient import NotebookClient

from notebook_run import NOTEBOOKS, outputs, text_of
from wstutorial.classroom import Classroom, start_classroom


@pytest.fixture
def classroom() -> Iterator[Classroom]:
    running = start_classroom(port=0, teacher_token="join-cell-token")
    try:
        yield running
    finally:
        running.stop()


def run_with_join_cell(name: str, student: str, port: int, progress: Path) -> str:
    """Run notebook ``name`` in a fresh kernel with the handout's join cell at its top; all it showed."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    join = f'from wstutorial.student.lesson import Lesson\nlesson = await Lesson.begin({student!r}, "localhost", {port})\nlesson'
    notebook.cells.insert(1, nbformat.v4.new_code_cell(join))
    client = NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute(env=dict(os.environ, WSTUTORIAL_PROGRESS_FILE=str(progress)))  # the kernel ends with the notebook
    produced = outputs(notebook)
    assert [o for o in produced if o["output_type"] == "error"] == [], name
    return "\n".join(text_of(o) for o in produced)


@pytest.mark.timeout(300)
def test_the_join_cell_puts_01_and_then_02_on_the_board_as_one_student(classroom: Classroom, tmp_path: Path) -> None:
    """01 with the join cell, shut down, then 02 with it: one row, each notebook's check on it, no refused name."""
    progress = tmp_path / "progress.json"
    said = run_with_join_cell("01-hello-server.ipynb", "Ada L.", classroom.port, progress)
    assert f"In the class's room at localhost:{classroom.port} as 'Ada L.'" in said
    board = classroom.room.board.snapshot()
    assert "upper_case" in str(board) and "Ada L." in str(board)
    said = run_with_join_cell("02-hello-client.ipynb", "Ada L.", classroom.port, progress)
    board = classroom.room.board.snapshot()
    assert "echo" in str(board) and "upper_case" in str(board)
    assert str(board).count("Ada L.") == 1, board  # one row: the second notebook rejoined it
    assert "already in the room" not in said and classroom.server.events.find("name rejected") is None
