"""A student's journey through the exercises of notebooks 01 to 07, in a real JupyterLab in Chromium.

For one exercise of each notebook, one cell at a time, with the keyboard as
a student uses it: the exercise's cell (the starting point) and its check;
then a wrong answer from the table (tests/wrong_answers.py) typed into the
cell, run, and the check again; then the solution asked for exactly as the
notebook's sentence says (delete ``# `` before ``%load``, run the cell, run
it once more, run the check above again). Each time the check's output is
the sentence the table gives, and no cell shows a warning or a traceback
(a missing ``await``'s warning must not stick to the next run). Notebook
03's exercise is a page: the student's edits are written to their page in
``my-pages/``, the solution is shown as source in the notebook, and the
check shows the page in a frame inside JupyterLab.
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from typing import Iterator

import pytest
from playwright.sync_api import Page

from wrong_answers import ANSWERS, PAGE_ANSWERS, Answer, pattern, starting_point

from .conftest import ROOT, artifact_dir, failed, save_artifacts
from .jupyterlab import (
    KERNEL_IDLE,
    CellResult,
    JupyterLab,
    clear_outputs,
    delete_at_start,
    open_notebook,
    read_cells,
    run_cell,
    type_into_cell,
)

NOTEBOOKS = ROOT / "notebooks"


@dataclasses.dataclass(frozen=True)
class Journey:
    notebook: str
    exercise: str
    wrong: str  # the kind of the table's row typed in


JOURNEYS = [
    Journey("01-hello-server.ipynb", "upper_case", "sends the text back unchanged"),
    Journey("02-hello-client.ipynb", "echo_roundtrip", "no await before connect"),
    Journey("03-browser-client.ipynb", "send_on_open", "the wrong text"),
    Journey("04-streaming.ipynb", "stream_time", "seconds given where milliseconds are wanted"),
    Journey("05-under-the-hood.ipynb", "ping_pong", "no mask"),
    Journey("06-classroom.ipynb", "mini_chat", "the room kept on the instance"),
    Journey("07-protocols-and-reconnecting.ipynb", "backoff_delay", "milliseconds, not seconds"),
]


def row(exercise: str, kind: str) -> Answer:
    return next(answer for answer in [*ANSWERS, *PAGE_ANSWERS] if answer.exercise == exercise and answer.kind == kind)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterLab]:
    """JupyterLab serving a temporary copy of notebooks/ (the student's folder: edits land there)."""
    base = tmp_path_factory.mktemp("journey")
    root = base / "root"
    shutil.copytree(NOTEBOOKS, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "my-pages"))
    home = base / "home"
    home.mkdir()
    running = JupyterLab(root=root, home=home)
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def student(page: Page, lab: JupyterLab, request: pytest.FixtureRequest) -> Iterator[Page]:
    try:
        yield page
    finally:
        if failed(request):
            save_artifacts(page, artifact_dir(request), {"jupyterlab.log": lab.log_tail()})
            request.node.artifacts_saved = True
        lab.shutdown_kernels()


def shown(cell: CellResult) -> str:
    """What the cell shows as text: its streams and its results."""
    return "\n".join((output.get("text", "") + output.get("plain", "")).strip() for output in cell.outputs).strip()


def assert_says(cell: CellResult, says: str) -> None:
    text = shown(cell)
    lines = [line for line in text.splitlines() if line.startswith(("Passed: ", "Not yet: "))]
    assert lines, f"the check (cell {cell.index}) showed no sentence: {text!r}"
    assert pattern(says).fullmatch(lines[-1]), f"\ncell {cell.index} expected: {says}\n             got: {lines[-1]}"


def assert_no_warning_or_traceback(notebook: str, cells: list[CellResult]) -> None:
    for cell in cells:
        for output in cell.outputs:
            assert output.get("name") != "stderr", f"{notebook} cell {cell.index} shows on stderr: {output.get('text')!r}"
            assert output["output_type"] != "error", f"{notebook} cell {cell.index} raised: {output.get('ename')}"


def index_of(cells: list[CellResult], source: str) -> int:
    return next(cell.index for cell in cells if cell.cell_type == "code" and cell.source.startswith(source))


def next_code(cells: list[CellResult], after: int) -> int:
    return next(cell.index for cell in cells[after + 1:] if cell.cell_type == "code")


def ask_for_the_solution(page: Page, notebook: str, solution: int) -> CellResult:
    """As the notebook's sentence says: delete '# ' at the start of the solution's cell, run it."""
    delete_at_start(page, solution, 2)
    return run_cell(page, notebook, solution)


def open_from_the_file_browser(page: Page, lab: JupyterLab, notebook: str) -> None:
    """Double-click the notebook in JupyterLab's file browser; wait until its kernel is idle."""
    page.locator(".jp-DirListing-item", has_text=notebook).first.dblclick()
    page.wait_for_function(KERNEL_IDLE, arg=notebook, timeout=120_000, polling=200)


@pytest.mark.timeout(600)
def test_a_students_journey_through_the_exercises(student: Page, lab: JupyterLab) -> None:
    """01 to 07 in one session: starting point, one wrong answer, the solution as the notebook says; each check as the table says."""
    timings = []
    for number, journey in enumerate(JOURNEYS):
        started = time.monotonic()
        notebook, exercise = journey.notebook, journey.exercise
        if number == 0:
            open_notebook(student, lab, notebook)
        else:
            open_from_the_file_browser(student, lab, notebook)
        clear_outputs(student)
        cells = read_cells(student)
        if exercise == "send_on_open":
            walk_the_page_exercise(student, lab, notebook, cells)
        else:
            walk_a_python_exercise(student, notebook, exercise, journey.wrong, cells)
        assert_no_warning_or_traceback(notebook, read_cells(student))
        timings.append(f"{notebook[:2]} {time.monotonic() - started:.0f} s")
    print("journey:", ", ".join(timings))


def walk_a_python_exercise(page: Page, notebook: str, exercise: str, wrong: str, cells: list[CellResult]) -> None:
    mine = index_of(cells, f"# %load exercises/{exercise}.py")
    check = next_code(cells, mine)
    solution = index_of(cells, f"# %load solutions/{exercise}.py")
    assert solution > check

    run_cell(page, notebook, mine)
    assert_says(run_cell(page, notebook, check), row(exercise, "untouched").says)

    mistake = row(exercise, wrong)
    assert mistake.code is not None
    type_into_cell(page, mine, f"# %load exercises/{exercise}.py\n{mistake.code}")
    run_cell(page, notebook, mine)
    assert_says(run_cell(page, notebook, check), mistake.says)

    loaded = ask_for_the_solution(page, notebook, solution)
    text = (NOTEBOOKS / "solutions" / f"{exercise}.py").read_text(encoding="utf-8")
    assert loaded.source.rstrip("\n") == f"# %load solutions/{exercise}.py\n{text.rstrip()}", "the cell did not fill"
    run_cell(page, notebook, solution)  # "Run that cell once more to run the code"
    passed = run_cell(page, notebook, check)  # "then run the check above again"
    assert shown(passed).splitlines()[-1].startswith("Passed: "), shown(passed)


def walk_the_page_exercise(page: Page, lab: JupyterLab, notebook: str, cells: list[CellResult]) -> None:
    setup = index_of(cells, "from wstutorial.teaching.page_exercises import")
    check = index_of(cells, "check_send_on_open()")
    solution = index_of(cells, '# Code(filename="solutions/send_on_open.html")')
    imports = next(cell.index for cell in cells if "from IPython.display import Code" in cell.source)
    run_cell(page, notebook, imports)  # the notebook's first cell: its imports (Code among them) and server
    run_cell(page, notebook, setup)  # student_pages(): the starting points into my-pages/
    mine = lab.root / "my-pages" / "send_on_open.html"
    assert mine.read_text(encoding="utf-8") == starting_point("send_on_open", ".html")
    assert_says(run_cell(page, notebook, check), row("send_on_open", "untouched").says)

    mistake = row("send_on_open", "the wrong text")
    assert mistake.code is not None
    mine.write_text(mistake.code, encoding="utf-8")  # edited in the editor and saved
    assert_says(run_cell(page, notebook, check), mistake.says)

    source = ask_for_the_solution(page, notebook, solution)
    assert 'ws.send("hello from my page");' in shown(source) or "hello from my page" in page.locator(
        ".jp-Cell").nth(solution).inner_text(), "the solution page's source is not shown"
    shutil.copyfile(NOTEBOOKS / "solutions" / "send_on_open.html", mine)  # copied into the student's page
    passed = run_cell(page, notebook, check)
    assert shown(passed).splitlines()[-1].startswith("Passed: "), shown(passed)


def test_every_notebook_from_01_to_07_has_a_journey() -> None:
    """The journey covers 01-07, each with an exercise it really has."""
    assert [journey.notebook[:2] for journey in JOURNEYS] == ["01", "02", "03", "04", "05", "06", "07"]
    for journey in JOURNEYS:
        text = (NOTEBOOKS / journey.notebook).read_text(encoding="utf-8")
        assert f"exercises/{journey.exercise}." in text or f"solutions/{journey.exercise}." in text
        row(journey.exercise, journey.wrong)
