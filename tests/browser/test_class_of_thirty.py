"""A class of thirty against one classroom server, watched on the teacher's page in Chromium.

Three students are real Jupyter kernels running notebook 06 with their own
``NAME`` (injected into its ``parameters`` cell, as papermill does); the other
twenty-seven are the rehearsal's simulated students. The teacher's page must
show all thirty on the board and in the connection lists, the kernels' mini
chat as "not yet" (06 runs the exercise's starting point, as a student's Run All does), and the class's room must see no refused name and no flood.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
from typing import Iterator

import nbformat
import pytest
from playwright.sync_api import Page, expect

from notebook_run import outputs, run_with_parameters, text_of
from wstutorial.classroom import ChatRoom, Classroom, start_classroom
from wstutorial.tools.rehearsal import rehearse, student_names

NOTEBOOK = "06-classroom.ipynb"
TOKEN = "class-of-thirty-token"
KERNEL_STUDENTS = ("Ada L.", "Lin W.", "Grace H.")
SIMULATED = 27
# A bound, not an expectation: a kernel runs 06 in about 30 s on a quiet machine.
RUN_TIMEOUT = 600


@pytest.fixture
def classroom() -> Iterator[Classroom]:
    # Thirty machines share one loopback address here: the room's limit on joins per
    # address (10 at once) is raised to what thirty addresses would get together.
    room = ChatRoom(join_burst=10 * 30)
    running = start_classroom(port=0, interval=0.5, teacher_token=TOKEN, room=room)
    try:
        yield running
    finally:
        running.stop()


def run_notebook(name: str, port: int) -> nbformat.NotebookNode:
    """Execute 06 as student ``name`` in a fresh kernel (in this thread's own event loop)."""
    return run_with_parameters(NOTEBOOK, NAME=name, HOST="localhost", PORT=port)


@pytest.mark.timeout(RUN_TIMEOUT + 120)
def test_thirty_students_fill_the_teacher_page(page: Page, classroom: Classroom) -> None:
    """Board, connection lists and the room, with 3 kernels running 06 and 27 simulated students."""
    page.goto(classroom.server.page_url(f"teacher.html?token={TOKEN}"))
    expect(page.locator("#status")).to_have_text("connected")
    everyone = [*KERNEL_STUDENTS, *student_names(SIMULATED)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(KERNEL_STUDENTS) + 1) as pool:
        kernels = {name: pool.submit(run_notebook, name, classroom.port) for name in KERNEL_STUDENTS}
        # Each thread has its own loop: Playwright's holds this one.
        simulated = pool.submit(asyncio.run, rehearse("localhost", classroom.port, SIMULATED, duration=40.0, seed=3))
        # While the class works: the teacher sees (almost) everyone connected on each path.
        page.wait_for_function(
            "() => ['/chat', '/ws', '/streaming'].every(p => (window.teacherState.paths[p] || []).length >= 25)",
            timeout=RUN_TIMEOUT * 1000,
        )
        listed = page.evaluate("() => window.teacherState.paths")
        for path in ("/ws", "/streaming"):
            assert all("from" not in label for label in listed[path]), listed[path]  # named by ?name=, not by address
        expect(page.locator("ul[data-path='/streaming'] > li")).not_to_have_count(0)
        report = simulated.result(timeout=RUN_TIMEOUT)
        finished = {name: future.result(timeout=RUN_TIMEOUT) for name, future in kernels.items()}
    assert report.problems == [] and len(report.joined) == SIMULATED

    for name, notebook in finished.items():
        produced = outputs(notebook)
        assert [o for o in produced if o["output_type"] == "error"] == [], name
        assert [text_of(o) for o in produced if o.get("name") == "stderr"] == [], name
        said = "\n".join(text_of(o) for o in produced)
        assert f"In the class's room at localhost:{classroom.port} as {name!r}" in said
        assert "(skipped)" not in said and "Not finished" not in said and "nothing came within" not in said
        assert "too many messages" in said  # the demo ran, in the student's private room
        assert "the teacher's board shows mini_chat: not yet" in said  # the starting point, not the solution

    # The board: thirty rows; the kernels' mini chat not yet; the simulated students' results as sent.
    expect(page.locator("#board-body > tr")).to_have_count(30, timeout=30_000)
    for name in KERNEL_STUDENTS:
        row = page.locator("#board-body > tr", has=page.locator("th", has_text=name))
        column = page.evaluate("() => window.teacherState.exercises.indexOf('mini_chat')")
        expect(row.locator("td").nth(column)).to_have_text("not yet")
    state = page.evaluate("() => window.teacherState")
    assert sorted(state["students"]) == sorted(everyone)
    assert classroom.room.board.snapshot()["students"] == json.loads(json.dumps(state["students"]))
    # Everyone left at the end: greyed rows, empty lists.
    expect(page.locator("#board-body > tr.gone")).to_have_count(30)
    page.wait_for_function("() => ['/chat', '/ws', '/streaming'].every(p => window.teacherState.paths[p].length === 0)")

    # No refused name but the rehearsal's own bad ones (taken, look-alike, <b>), no flood in the class's room:
    # the notebook's demos ran in private rooms.
    events = classroom.server.events.texts()
    assert len([text for text in events if "name rejected" in text]) == len(report.refused_names) == 3
    assert classroom.room.refused == 0
    assert not [text for text in events if "speedy" in text.lower()]
