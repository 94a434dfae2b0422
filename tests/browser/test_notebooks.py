"""Every tutorial notebook, run in a real JupyterLab in a real Chromium.

Each notebook in ``notebooks/`` (found by glob, so a new one is covered at
once) is opened from a temporary copy, run with Run → Run All Cells, and
checked: every cell ran, no traceback outside cells tagged
``raises-exception``, no "Error displaying widget"; some notebooks get
checks of their own (``NOTEBOOK_CHECKS``).
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Callable, Iterator

import pytest
from playwright.sync_api import Page, expect

from .conftest import ROOT, artifact_dir, failed, save_artifacts
from .frames import FrameState, frame_states
from .jupyterlab import (
    RAISES_TAG,
    CellResult,
    JupyterLab,
    port_is_free,
    problems,
    restart_and_run_all,
    run_all_cells,
    strip_ansi,
)

NOTEBOOKS = sorted(path.name for path in (ROOT / "notebooks").glob("*.ipynb"))
GREEN = "rgb(0, 255, 0)"


@pytest.fixture(scope="package")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterLab]:
    """JupyterLab serving a temporary copy of notebooks/ (the committed ones stay untouched)."""
    base = tmp_path_factory.mktemp("jupyterlab")
    root = base / "root"
    if (ROOT / "notebooks").is_dir():
        shutil.copytree(ROOT / "notebooks", root, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "my-pages", "my-program"))
    else:
        root.mkdir()
    home = base / "home"
    home.mkdir()
    committed = {path: path.read_bytes() for path in (ROOT / "notebooks").rglob("*") if path.is_file()}
    running = JupyterLab(root=root, home=home)
    running.start()
    try:
        yield running
    finally:
        running.stop()
    changed = sorted(str(path) for path, data in committed.items() if not path.is_file() or path.read_bytes() != data)
    assert not changed, f"the browser tests changed committed notebook files: {changed}"


@pytest.fixture
def lab_page(page: Page, lab: JupyterLab, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page for JupyterLab; on failure saves screenshot, page text and the lab's log; stops the kernels."""
    try:
        yield page
    finally:
        if failed(request):
            save_artifacts(page, artifact_dir(request), {"jupyterlab.log": lab.log_tail()})
            request.node.artifacts_saved = True
        lab.shutdown_kernels()


def assert_clean(page: Page, name: str, cells: list[CellResult]) -> None:
    found = problems(page, cells)
    assert not found, f"{name}:\n\n" + "\n\n".join(found)


# -- checks of particular notebooks ------------------------------------------------------


def green_inputs(page: Page) -> int:
    """How many text fields of widgets have a green background now."""
    return page.evaluate(
        """green => Array.from(document.querySelectorAll(".jp-OutputArea .widget-text"))
            .filter(text => [text, text.querySelector("input")].some(
                element => element && getComputedStyle(element).backgroundColor === green)).length""",
        GREEN,
    )


def check_client_notebook(seen: dict) -> None:
    """02: the ClientPanel's host/port/uri fields turned green and 'Hello World' showed."""
    wrong = []
    if not seen["green"]:
        wrong.append("the ClientPanel's host, port and uri fields never turned green together")
    if "Hello World" not in seen["phrases"]:
        wrong.append("'Hello World' never showed")
    assert not wrong, "; ".join(wrong)


PROGRAM_RUNNING = "hello_server.py is running"


def check_server_notebook(seen: dict) -> None:
    """01: the ProgramView showed the program running; the ServerConsole showed 'new connection'."""
    assert PROGRAM_RUNNING in seen["phrases"], "the ProgramView never said that hello_server.py runs"
    assert "new connection" in seen["phrases"], "the ServerConsole never showed 'new connection'"


def check_reconnect_notebook(seen: dict) -> None:
    """07: after the server restart every Python client was back on its second connection."""
    assert RECONNECTED in seen["phrases"], f"07 never showed {RECONNECTED!r}"


RECONNECTED = "connections per student: [2, 2, 2, 2, 2]"

# What notebook 03's page checks say when the student's page (the starting
# point) really ran in the check's frame inside JupyterLab.
PAGE_SENT_NOTHING = "your page connected but sent nothing"
PAGE_NEVER_RETRIED = "your page never tried again"


def check_browser_notebook(seen: dict) -> None:
    """03: the student's pages, shown by the checks in JupyterLab, connected to the checks' servers."""
    missing = [phrase for phrase in (PAGE_SENT_NOTHING, PAGE_NEVER_RETRIED) if phrase not in seen["phrases"]]
    assert not missing, f"the page checks never said {missing}: the page in the check's frame did not connect"


# -- the pages in the notebooks' output frames ---------------------------------------------

# Per notebook: the pages its output frames show (by file name, see frames.page_name).
# Once Run All (or Restart Kernel and Run All) is over, each must show its connected
# state: nothing at the end of a notebook may take the server from under a frame.
FRAMES: dict[str, list[str]] = {
    "03-browser-client.ipynb": ["hello.html", "send_on_open.html", "reconnect-exercise"],
    "04-streaming.ipynb": ["streaming.html"],
    "06-classroom.ipynb": ["chat.html"],
    "07-protocols-and-reconnecting.ipynb": ["reconnect.html"],
}
# Notebooks whose frames need only have been connected at some moment of the run: 06's
# last cell (lesson.close()) still stops the room's server under its chat page (the
# "board" lane changes that; then 06 joins the rest).
CONNECTED_DURING_RUN_ONLY = {"06-classroom.ipynb"}
FRAME_TIMEOUT = 30.0  # a page reconnecting with backoff after 07's restart may take a while


class FrameWatch:
    """Called while the cells run: notes which frames' pages were connected at some moment."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.connected: set[str] = set()

    def __call__(self) -> None:
        self.connected.update(state.name for state in frame_states(self.page) if state.connected)


def press_open_in_hello_pages(page: Page) -> None:
    """hello.html connects when its "open" button is pressed, as a student does after Run All."""
    for element in page.locator(".jp-OutputArea iframe").element_handles():
        frame = element.content_frame()
        if frame is not None and frame.url.split("?")[0].endswith("/hello.html"):
            frame.locator("#open").click()


def check_frames(page: Page, name: str, watch: FrameWatch, when: str = "after Run All") -> None:
    """Every output frame of ``name`` shows its page connected (07's page: back after the restart)."""
    expected = FRAMES.get(name, [])
    states = frame_states(page)
    assert sorted(state.name for state in states) == sorted(expected), (
        f"{name} {when}: the output frames show {[state.url for state in states]}, expected pages {expected}"
    )
    if not expected:
        return
    press_open_in_hello_pages(page)
    deadline = time.monotonic() + FRAME_TIMEOUT

    def wrong(states: list[FrameState]) -> list[FrameState]:
        if name in CONNECTED_DURING_RUN_ONLY:
            return [state for state in states if state.name not in watch.connected and not state.connected]
        bad = [state for state in states if not state.connected]
        if name.startswith("07-"):
            bad += [state for state in states if state.name == "reconnect.html" and state.connected and state.connections < 2]
        return bad

    while (bad := wrong(frame_states(page))) and time.monotonic() < deadline:
        page.wait_for_timeout(500)
    assert not bad, f"{name} {when}: frames not connected {FRAME_TIMEOUT:g} s after the run: " + "; ".join(
        f"{state.name} ({state.url}) shows {state.text!r}" for state in bad
    )


# Per notebook: the phrases to watch for while it runs, and the check of what was seen.
NOTEBOOK_CHECKS: dict[str, tuple[tuple[str, ...], Callable[[dict], None]]] = {
    "01-hello-server.ipynb": (("new connection", PROGRAM_RUNNING), check_server_notebook),
    "02-hello-client.ipynb": (("Hello World",), check_client_notebook),
    "03-browser-client.ipynb": ((PAGE_SENT_NOTHING, PAGE_NEVER_RETRIED), check_browser_notebook),
    "07-protocols-and-reconnecting.ipynb": ((RECONNECTED,), check_reconnect_notebook),
}


@pytest.mark.timeout(600)
@pytest.mark.parametrize("name", NOTEBOOKS or ["(none)"])
def test_notebook_runs_in_jupyterlab(lab_page: Page, lab: JupyterLab, name: str) -> None:
    """Run All, then Restart Kernel and Run All: no traceback outside raises-exception cells, widgets display, own checks."""
    assert NOTEBOOKS, f"no notebooks found in {ROOT / 'notebooks'}"
    watch, check = NOTEBOOK_CHECKS.get(name, ((), None))
    frames = FrameWatch(lab_page)
    cells = run_all_cells(lab_page, lab, name, watch, on_poll=frames)
    assert_clean(lab_page, name, cells)
    if check is not None:
        check(lab_page.evaluate("window.__watch"))
    check_frames(lab_page, name, frames)
    # A student re-runs a notebook: Restart Kernel and Run All must work again
    # (the old server's port, widgets of the first run, ...), frames included.
    frames = FrameWatch(lab_page)
    again = restart_and_run_all(lab_page, name, on_poll=frames)
    assert_clean(lab_page, f"{name} (Restart Kernel and Run All)", again)
    check_frames(lab_page, name, frames, when="after Restart Kernel and Run All")


@pytest.mark.timeout(900)
def test_two_notebooks_with_both_kernels_alive(lab_page: Page, lab: JupyterLab) -> None:
    """01 run as far as a student got (its server still up, kernel alive), then 02 in the same JupyterLab:
    02 runs to the end without a traceback, on the next free port, and says so; Restart and Run All too."""
    folder = lab.root / "_two"  # a copy with everything the notebooks load (programs/, exercises/, ...)
    shutil.copytree(ROOT / "notebooks", folder, ignore=shutil.ignore_patterns(".ipynb_checkpoints"), dirs_exist_ok=True)
    first = json.loads((ROOT / "notebooks" / "01-hello-server.ipynb").read_text(encoding="utf-8"))
    # The student has not reached the last cell, which stops 01's server.
    last = max(i for i, cell in enumerate(first["cells"]) if cell["cell_type"] == "code")
    assert "server.stop()" in "".join(first["cells"][last]["source"])
    del first["cells"][last]
    (folder / "01-hello-server.ipynb").write_text(json.dumps(first), encoding="utf-8")

    cells = run_all_cells(lab_page, lab, "_two/01-hello-server.ipynb")
    assert_clean(lab_page, "01 (stopped before its last cell)", cells)
    assert not port_is_free(lab.tutorial_port), "01's server should still hold the tutorial's port"

    moved = "so this server listens on"
    cells = run_all_cells(lab_page, lab, "_two/02-hello-client.ipynb", watch=("Hello World", moved))
    assert_clean(lab_page, "02 while 01's kernel is alive", cells)
    seen = lab_page.evaluate("window.__watch")
    check_client_notebook(seen)
    assert moved in seen["phrases"], "02's console never said that its server moved to another port"
    assert len(lab.api("GET", "/api/kernels")) == 2, "both kernels should still run"
    again = restart_and_run_all(lab_page, "_two/02-hello-client.ipynb")
    assert_clean(lab_page, "02 (Restart Kernel and Run All) while 01's kernel is alive", again)


@pytest.mark.timeout(600)
def test_wstutorial_errors_show_as_one_sentence(lab_page: Page, lab: JupyterLab) -> None:
    """In JupyterLab, PortInUse shows as one line naming the holder (here JupyterLab itself), no traceback."""
    name = write_notebook(
        lab.root / "_harness" / "sentence.ipynb",
        [
            (f"import wstutorial\nwstutorial.start_server(port={lab.port})  # JupyterLab's own port", [RAISES_TAG]),
            ("1 / 0  # other errors keep their traceback", [RAISES_TAG]),
        ],
    )
    cells = run_all_cells(lab_page, lab, name)
    error = next(output for output in cells[0].outputs if output["output_type"] == "error")
    assert error["ename"] == "PortInUse"
    shown = strip_ansi(error["traceback"]).strip()
    assert shown == (
        f"PortInUse: port {lab.port} on 127.0.0.1 is already in use by a Jupyter server (JupyterLab or Notebook): "
        "pass port=0 to pick a free port, or start JupyterLab on another port (jupyter lab --port 8890)"
    ), shown
    assert "Traceback" in strip_ansi(cells[1].errors[0]) or "----" in cells[1].errors[0]


def test_every_checked_notebook_exists() -> None:
    """NOTEBOOK_CHECKS and FRAMES name only notebooks that exist (a rename must not silently drop a check)."""
    missing = sorted((set(NOTEBOOK_CHECKS) | set(FRAMES)) - set(NOTEBOOKS))
    assert not missing, f"NOTEBOOK_CHECKS names notebooks not in notebooks/: {missing}"


@pytest.mark.timeout(300)
def test_a_passing_check_shows_the_program_page_connected_in_jupyterlab(lab_page: Page, lab: JupyterLab) -> None:
    """check_hello_app on the solution, in JupyterLab: Passed, and the frame under it shows the page open (green)."""
    name = write_notebook(
        lab.root / "_program" / "check.ipynb",
        [
            (
                "from wstutorial.teaching.program_exercises import check_hello_app\n"
                "check_hello_app('../solutions/hello_app.py')",
                [],
            ),
        ],
    )
    cells = run_all_cells(lab_page, lab, name)
    assert_clean(lab_page, name, cells)
    assert "Passed: your program serves its page at /" in cells[0].text, cells[0].text
    frame = lab_page.frame_locator(".jp-OutputArea iframe").first
    expect(frame.locator("#status")).to_have_text("open", timeout=20_000)
    expect(frame.locator("#log > li")).to_have_text(["message received: Hello World"])


# -- the harness checks itself with notebooks it writes ----------------------------------


def write_notebook(path: Path, cells: list[tuple[str, list[str]]]) -> str:
    """A notebook of code cells ``(source, tags)``; returns its path relative to the lab's root."""
    notebook = {
        "cells": [
            {"cell_type": "code", "execution_count": None, "metadata": {"tags": tags}, "outputs": [], "source": source}
            for source, tags in cells
        ],
        "metadata": {
            "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(notebook, indent=1), encoding="utf-8")
    return path.name if path.parent.name == "" else f"{path.parent.name}/{path.name}"


@pytest.mark.timeout(600)
def test_harness_runs_a_widget_notebook(lab_page: Page, lab: JupyterLab) -> None:
    """Self-test: server, client, fields green for a while, a raising cell tagged raises-exception."""
    name = write_notebook(
        lab.root / "_harness" / "selftest.ipynb",
        [
            ("import ipywidgets\nimport wstutorial\nserver = wstutorial.start_server()  # port from $WSTUTORIAL_PORT", []),
            ("client = await wstutorial.connect(server.ws_url('/ws'))\ngreeting = await client.receive()\nprint(greeting)", []),
            (
                "fields = [ipywidgets.Text(name, description=name) for name in ('host', 'port', 'uri')]\n"
                "for field in fields:\n    field.style.background = '#00ff00'\n"
                "ipywidgets.HBox(fields)",
                [],
            ),
            ("import time\ntime.sleep(1)  # green long enough to be seen", []),
            ("raise ValueError('this cell is meant to raise')", [RAISES_TAG]),
            (
                "for field in fields:\n    field.style.background = '#ff0000'\n"
                "await client.close()\nserver.stop()\nprint('finished on port', server.port)",
                [],
            ),
        ],
    )
    cells = run_all_cells(lab_page, lab, name, watch=("Hello World",))
    assert_clean(lab_page, name, cells)
    assert "ValueError" in cells[4].errors[0]
    assert f"finished on port {lab.tutorial_port}" in cells[5].text
    # The fields were green during the run and are red at its end: the watch saw it.
    check_client_notebook(lab_page.evaluate("window.__watch"))
    expect(lab_page.locator(".jp-OutputArea .widget-text input").first).to_have_value("host")
    assert green_inputs(lab_page) == 0


@pytest.mark.timeout(600)
def test_harness_reports_untagged_traceback(lab_page: Page, lab: JupyterLab) -> None:
    """Self-test: an undisplayable widget, an untagged raising cell, a tagged cell that does not raise: all reported."""
    name = write_notebook(
        lab.root / "_harness" / "broken.ipynb",
        [
            (
                "import ipywidgets, traitlets\n\n"
                "class Broken(ipywidgets.DOMWidget):\n"
                "    _view_name = traitlets.Unicode('NoSuchView').tag(sync=True)\n"
                "    _model_module = traitlets.Unicode('no-such-module').tag(sync=True)\n"
                "    _view_module = traitlets.Unicode('no-such-module').tag(sync=True)\n\n"
                "Broken()",
                [],
            ),
            ("1 / 0", []),
            ("print('never runs')", [RAISES_TAG]),
        ],
    )
    cells = run_all_cells(lab_page, lab, name)
    expect(lab_page.locator(".jp-OutputArea-output").first).to_contain_text("javascript error")
    found = problems(lab_page, cells)
    assert any("widget could not be displayed" in problem for problem in found), found
    assert any("ZeroDivisionError" in problem for problem in found), found
    assert any("cell 2" in problem and "did not run" in problem for problem in found), found
    assert any("cell 2" in problem and "raised nothing" in problem for problem in found), found


@pytest.mark.timeout(600)
def test_a_solution_loads_only_when_the_student_asks(lab_page: Page, lab: JupyterLab) -> None:
    """Run All leaves a '# %load solutions/...' cell alone; without its '# ' the cell fills with the file."""
    solution = (lab.root / "solutions" / "upper_case.py").read_text()
    name = write_notebook(
        lab.root / "_harness" / "load_solution.ipynb",
        [("# %load ../solutions/upper_case.py", []), ("%load ../solutions/upper_case.py", [])],
    )
    cells = run_all_cells(lab_page, lab, name)
    assert cells[0].source == "# %load ../solutions/upper_case.py"
    assert cells[1].source.rstrip("\n") == "# %load ../solutions/upper_case.py\n" + solution.rstrip("\n")
