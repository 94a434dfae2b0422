"""Notebook 06 in class, run by a real kernel, with the mistakes students make: every cell ends in a sentence."""

from __future__ import annotations

from typing import Iterator

import pytest
from websockets.sync.client import connect

from notebook_run import outputs, run_with_parameters, text_of
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
    assert classroom.room.board.snapshot()["students"] == {}
    assert classroom.server.events.find("joined the chat") is None


@pytest.mark.timeout(300)
def test_a_taken_name_is_one_sentence_with_another_name_to_use(classroom: Classroom) -> None:
    """Another student is already 'Ada': the notebook suggests a name, and never floods or disturbs Ada's room."""
    with connect(classroom.chat_url("Ada")) as ada:
        ada.recv(timeout=10)
        text = said("ada", classroom.port)
    assert "The room refused the name 'ada'" in text and "set NAME = 'ada " in text
    assert "(skipped) The room refused the name" in text
    assert classroom.room.refused == 0 and list(classroom.room.board.snapshot()["students"]) == []
