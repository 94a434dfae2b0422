"""A class of thirty against one classroom server, watched on the teacher's page in Chromium, projected at 1280x800.

Three students are real Jupyter kernels running notebook 06 with their own
``NAME`` (injected into its ``parameters`` cell, as papermill does); the other
twenty-seven are the rehearsal's simulated students (so the room is a
rehearsal room: ``--room rehearsal``). The teacher's page must show all thirty
on the board, every row and the totals inside a 1280x800 window, and in the
connection lists, the kernels' mini chat as "not yet" (06 runs the exercise's
starting point, as a student's Run All does), and the class's room must see
no refused name and no flood. Then the server restarts with the page open:
the page comes back by itself, with the same token and the same thirty rows.
The screenshot it takes is ``test-artifacts/class-of-thirty-1280x800.png``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from pathlib import Path
from typing import Iterator

import nbformat
import pytest
from playwright.sync_api import Page, expect

from notebook_run import outputs, run_with_parameters, text_of
from wstutorial.classroom import ChatRoom, Classroom, start_classroom
from wstutorial.tools.rehearsal import rehearse, student_names

from .conftest import ARTIFACTS

NOTEBOOK = "06-classroom.ipynb"
KERNEL_STUDENTS = ("Ada L.", "Lin W.", "Grace H.")
SIMULATED = 27
# A bound, not an expectation: a kernel runs 06 in about 30 s on a quiet machine.
RUN_TIMEOUT = 600


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def classroom(data_dir: Path) -> Iterator[Classroom]:
    # Thirty machines share one loopback address here: the room's limit on joins per
    # address (10 at once) is raised to what thirty addresses would get together.
    room = ChatRoom(join_burst=10 * 30)
    running = start_classroom(port=0, interval=0.5, room=room, room_name="rehearsal", data_dir=data_dir)  # the room's own token
    try:
        yield running
    finally:
        running.stop()


def run_notebook(name: str, port: int) -> nbformat.NotebookNode:
    """Execute 06 as student ``name`` in a fresh kernel (in this thread's own event loop)."""
    return run_with_parameters(NOTEBOOK, NAME=name, HOST="localhost", PORT=port)


@pytest.mark.timeout(RUN_TIMEOUT + 120)
def test_thirty_students_fill_the_teacher_page(page: Page, classroom: Classroom, data_dir: Path) -> None:
    """Board, connection lists and the room, with 3 kernels running 06 and 27 simulated students; then a restart."""
    page.set_viewport_size({"width": 1280, "height": 800})  # a classroom projector
    page.goto(classroom.teacher_url)
    expect(page.locator("#status")).to_have_text("connected")
    everyone = [*KERNEL_STUDENTS, *student_names(SIMULATED)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(KERNEL_STUDENTS) + 1) as pool:
        kernels = {name: pool.submit(run_notebook, name, classroom.port) for name in KERNEL_STUDENTS}
        # Each thread has its own loop: Playwright's holds this one.
        simulated = pool.submit(asyncio.run, rehearse("localhost", classroom.port, SIMULATED, duration=40.0, seed=3))
        # While the class works: the teacher sees (almost) everyone connected on each path.
        page.wait_for_function(
            "() => ['/chat', '/ws', '/streaming'].every(p => (window.teacherState.paths.get(p) || []).length >= 25)",
            timeout=RUN_TIMEOUT * 1000,
        )
        listed = page.evaluate("() => Object.fromEntries(window.teacherState.paths)")
        for path in ("/ws", "/streaming"):
            assert all("from" not in label for label in listed[path]), listed[path]  # named by ?name=, not by address
        expect(page.locator("ul[data-path='/streaming'] > li")).not_to_have_count(0)
        expect(page.locator("#board-body > tr:not(.spacer)")).to_have_count(30)  # a row from joining, results or not
        assert "token" not in page.url
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

    # The board: thirty rows, all of them and the totals inside the projector's 1280x800;
    # the kernels' mini chat not yet; the simulated students' results as sent.
    rows = page.locator("#board-body > tr:not(.spacer)")
    expect(rows).to_have_count(30, timeout=30_000)
    for name in KERNEL_STUDENTS:
        row = rows.filter(has=page.locator("th", has_text=name))
        expect(row.locator("td[data-exercise='mini_chat']")).to_have_text("not yet")
    for number in range(30):
        box = rows.nth(number).bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 800, (number, box)
    totals = page.locator("#board-foot").bounding_box()
    assert totals is not None and totals["y"] + totals["height"] <= 800
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "class-of-thirty-1280x800.png"))
    board = page.evaluate("() => window.teacherRows()")
    assert sorted(row["name"] for row in board) == sorted(everyone)
    served = classroom.room.board.snapshot()["students"]
    assert {row["name"]: row["results"] for row in board} == {
        row["name"]: {r["exercise"]: {"passed": r["passed"], "reason": r["reason"]} for r in row["results"]} for row in served
    }
    # Everyone left at the end (the kernels ended, the rehearsal is over): greyed rows, empty lists.
    expect(page.locator("#board-body > tr.gone")).to_have_count(30)
    page.wait_for_function("() => ['/chat', '/ws', '/streaming'].every(p => window.teacherState.paths.get(p).length === 0)")

    # No refused name but the rehearsal's own bad ones (taken, look-alike, <b>), no flood in the class's room:
    # the notebook's demos ran in private rooms.
    events = classroom.server.events.texts()
    assert len([text for text in events if "name rejected" in text]) == len(report.refused_names) == 3
    assert classroom.room.refused == 0
    assert not [text for text in events if "speedy" in text.lower()]

    # The teacher's laptop restarts the server with the page open: it comes back by itself, same token, same board.
    port = classroom.port
    classroom.stop()
    expect(page.locator("#status")).to_contain_text("trying again")
    again = start_classroom(port=port, room_name="rehearsal", data_dir=data_dir)
    try:
        assert again.teacher_token == classroom.teacher_token
        expect(page.locator("#status")).to_have_text("connected", timeout=30_000)
        expect(rows).to_have_count(30)
        assert page.evaluate("() => window.teacherRows()") == board
    finally:
        again.stop()
