"""The notebooks' shape and the exercise files they load: present, in step, runnable."""

from __future__ import annotations

import asyncio
import os
import re
import runpy
from pathlib import Path

import nbformat
import pytest

import wstutorial
from helpers import ROOT

NOTEBOOKS = ROOT / "notebooks"
NAMES = [
    "00-setup-check.ipynb",
    "01-hello-server.ipynb",
    "02-hello-client.ipynb",
    "03-browser-client.ipynb",
    "04-streaming.ipynb",
    "05-under-the-hood.ipynb",
    "06-classroom.ipynb",
    "07-protocols-and-reconnecting.ipynb",
    "08-security-and-deployment.ipynb",
    "09-several-processes.ipynb",
]
LOAD = re.compile(r"^# %load (\S+)\n?")
PAGE_SOURCE = re.compile(r'^# Code\(filename="(solutions/[\w.]+\.(?:html|py))"\)$')

# How a student asks for a solution, the one sentence above every solution
# cell. IPython's %load only replaces the cell's text with the file's
# (IPython/core/magics/code.py: load -> set_next_input(contents, replace=True));
# it runs nothing, so the cell must run once more before the check.
ASK_FOR_SOLUTION = (
    "**Solution** (try first!): in the next cell, delete `# ` before `%load` and run the cell: "
    "`%load` only puts the solution's code into it. Run that cell once more to run the code, "
    "then run the check above again."
)
# A solution page (notebook 03) is shown as source: opened from the file
# browser, JupyterLab would render it, and the page would run.
ASK_FOR_SOLUTION_PAGE = (
    "**Solution** (try first!): in the next cell, delete `# ` and run it: it shows the solution page's "
    "source (opened from the file browser, the page would run instead of showing its text). Copy what you "
    "need into your page in `my-pages/`, save it, then run the check above again."
)
# A solution program (notebook 03's standalone exercise) is shown as source too: it
# is a file the student edits, and run in the kernel it would not return.
ASK_FOR_SOLUTION_PROGRAM = (
    "**Solution** (try first!): in the next cell, delete `# ` and run it: it shows the solution program's "
    "source. Copy what you need into your program in `my-program/`, save it, then run the check above again."
)

# Every notebook's exercises keep the student's work: the student's cell holds
# the starting point, the check follows it, and the solution is only a
# '# %load solutions/...' line in a cell that is never run for the student.
KEEP_WORK = NAMES
NOT_RUN = "skip-execution"  # nbclient (execute-notebooks.sh) does not run the cell

# What each exercise file must define (the stub and the solution alike).
DEFINES = {
    "free_port.py": [],
    "echo_roundtrip.py": ["ask"],
    "origin_accepted.py": ["origin_accepted"],
    "ping_pong.py": ["ping"],
    "upper_case.py": ["UpperCaseHandler"],
    "count_clients.py": ["CountClientsHandler"],
    "stream_time.py": ["StreamTimeHandler"],
    "mini_chat.py": ["MiniChatHandler"],
    "add_type.py": ["AddHandler"],
    "backoff_delay.py": ["delay"],
    "relay.py": ["relay"],
    "members_only.py": ["MembersOnlyHandler"],
    "hello_app.py": ["WSHandler", "PageHandler", "main"],  # notebook 03: a program the student edits as a file
}


def solution_cells() -> list[tuple[str, int, str]]:
    """(notebook, cell index, the file it shows) for every cell that gives a solution."""
    found = []
    for name in NAMES:
        notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type != "code":
                continue
            loaded = LOAD.match(cell.source)
            page = PAGE_SOURCE.match(cell.source.strip())
            if loaded and loaded.group(1).startswith("solutions/"):
                found.append((name, index, loaded.group(1)))
            elif page:
                found.append((name, index, page.group(1)))
            else:
                assert "solutions/" not in cell.source, f"{name} cell {index} uses a solution in a way the tests do not know"
    return found


def load_cells() -> list[tuple[str, str, str]]:
    """(notebook, loaded path, cell body) for every ``# %load`` cell."""
    found = []
    for name in NAMES:
        notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
        for cell in notebook.cells:
            match = LOAD.match(cell.source) if cell.cell_type == "code" else None
            if match:
                found.append((name, match.group(1), cell.source[match.end():]))
    return found


def tags(cell: nbformat.NotebookNode) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def test_the_notebooks_exist_and_nothing_else() -> None:
    """The notebook names other parts of the project refer to are all there."""
    assert sorted(path.name for path in NOTEBOOKS.glob("*.ipynb")) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_notebook_has_goals_exercise_solution_and_summary(name: str) -> None:
    """Learning goals first, a summary last, at least one exercise and one loaded solution."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    markdown = [cell.source for cell in notebook.cells if cell.cell_type == "markdown"]
    assert "Learning goals" in markdown[0]
    assert notebook.cells[-1].cell_type == "markdown" and notebook.cells[-1].source.startswith("## Summary")
    assert any("## Exercise" in text for text in markdown)
    loaded = [path for notebook_name, path, _ in load_cells() if notebook_name == name]
    assert any(path.startswith("solutions/") for path in loaded)
    assert any(path.startswith("exercises/") for path in loaded)


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_saved_executed(name: str) -> None:
    """Every code cell has an execution count, so full nbval compares every output."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    missing = [
        i
        for i, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and cell.execution_count is None and NOT_RUN not in tags(cell)
    ]
    assert not missing, f"{name}: code cells {missing} were saved without running; re-execute the notebook"


@pytest.mark.parametrize("notebook, path, body", load_cells(), ids=lambda value: str(value)[:40])
def test_loaded_cell_matches_its_file(notebook: str, path: str, body: str) -> None:
    """A '# %load X' cell holds exactly the file X (a solution's cell only the line), so the two never drift apart."""
    file = NOTEBOOKS / path
    assert file.is_file(), f"{notebook} loads {path}, which does not exist"
    if notebook in KEEP_WORK and path.startswith("solutions/"):
        assert body.strip() == "", f"{notebook}: the cell loading {path} must hold only the '# %load' line"
    else:
        assert body.rstrip("\n") == file.read_text().rstrip("\n"), f"{notebook}: the cell of {path} differs from the file"


@pytest.mark.parametrize("name", KEEP_WORK)
def test_exercises_keep_the_students_work(name: str) -> None:
    """Starting point, then its check (stored: 'Not yet: ...', no traceback), later a never-run solution cell."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    exercises = [i for i, cell in enumerate(code) if cell.source.startswith("# %load exercises/")]
    assert exercises, f"{name} has no exercise cell"
    for i in exercises:
        check = code[i + 1]
        assert "check_" in check.source, f"{name}: the cell after {code[i].source.splitlines()[0]!r} must run its check"
        shown = "".join(
            output.get("text", "") + str(output.get("data", {}).get("text/plain", ""))
            for output in check.outputs
        )
        assert "Not yet: " in shown and "Passed" not in shown, f"{name}: the stored check of the starting point shows {shown!r}"
        assert all(output.output_type != "error" for output in check.outputs)
    for cell in code:
        if cell.source.startswith("# %load solutions/"):
            assert NOT_RUN in tags(cell), f"{name}: {cell.source!r} must never run for the student"
            assert cell.execution_count is None and not cell.outputs


@pytest.mark.parametrize(("name", "index", "path"), solution_cells(), ids=lambda value: str(value)[:40])
def test_every_solution_is_asked_for_with_the_one_sentence(name: str, index: int, path: str) -> None:
    """A solution cell is one commented line, never run, the file exists, and the markdown above says exactly how to ask."""
    cells = nbformat.read(NOTEBOOKS / name, as_version=4).cells
    cell = cells[index]
    assert (NOTEBOOKS / path).is_file(), f"{name} cell {index} shows {path}, which does not exist"
    assert cell.source.strip().count("\n") == 0, f"{name} cell {index}: a solution cell holds its one line only"
    assert NOT_RUN in tags(cell) and cell.execution_count is None and not cell.outputs
    above = cells[index - 1]
    shown_as_source = PAGE_SOURCE.match(cell.source.strip()) is not None
    expected = (
        ASK_FOR_SOLUTION_PAGE if path.endswith(".html")
        else ASK_FOR_SOLUTION_PROGRAM if shown_as_source
        else ASK_FOR_SOLUTION
    )
    assert above.cell_type == "markdown" and above.source == expected, (
        f"{name} cell {index - 1} must be exactly the sentence that says how to ask for the solution, not {above.source!r}"
    )


def test_every_exercise_has_its_solution_cell() -> None:
    """Each notebook gives a solution for each exercise file it loads, and every solution file is given somewhere."""
    given = {(name, Path(path).stem) for name, _, path in solution_cells()}
    for name, path, _ in load_cells():
        if path.startswith("exercises/"):
            assert (name, Path(path).stem) in given, f"{name} loads {path} but gives no solution for it"
    shown = {path for _, _, path in solution_cells()}
    # A starting file the solution keeps as it is (the page of 03's program) need not be shown.
    unchanged = {
        f"solutions/{path.name}" for path in (NOTEBOOKS / "solutions").iterdir()
        if (NOTEBOOKS / "exercises" / path.name).is_file()
        and path.read_bytes() == (NOTEBOOKS / "exercises" / path.name).read_bytes()
    }
    assert shown | unchanged == {f"solutions/{path.name}" for path in (NOTEBOOKS / "solutions").iterdir() if path.is_file()}


def test_load_only_fills_the_cell_as_the_sentence_says() -> None:
    """In IPython, '%load' replaces the cell's text with the file and defines nothing; running that text does."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell()
    try:
        shell.run_cell(f"%load {NOTEBOOKS / 'solutions' / 'upper_case.py'}", store_history=False)
        assert "UpperCaseHandler" not in shell.user_ns
        text = shell.rl_next_input
        assert text.startswith("# %load ") and "class UpperCaseHandler" in text
        shell.run_cell(text, store_history=False).raise_error()
        assert "UpperCaseHandler" in shell.user_ns
    finally:
        InteractiveShell.clear_instance()


@pytest.mark.parametrize("path", sorted({path for _, path, _ in load_cells()}))
def test_exercise_file_runs_and_defines_its_names(path: str) -> None:
    """Every loaded file runs on its own and defines what the notebook uses next."""
    namespace = runpy.run_path(str(NOTEBOOKS / path))
    for name in DEFINES[Path(path).name]:
        assert name in namespace, f"{path} does not define {name}"


def test_every_exercise_has_a_solution() -> None:
    """exercises/X.py and solutions/X.py come in pairs."""
    exercises = {path.name for path in (NOTEBOOKS / "exercises").glob("*.py")}
    solutions = {path.name for path in (NOTEBOOKS / "solutions").glob("*.py")}
    assert exercises == solutions
    assert exercises <= set(DEFINES)


def solution(name: str) -> dict[str, object]:
    return runpy.run_path(str(NOTEBOOKS / "solutions" / name))


def test_free_port_solution_stops_its_server(capsys: pytest.CaptureFixture[str]) -> None:
    """The solution starts a server on a free port and stops it again."""
    before = set(wstutorial.running_servers())
    solution("free_port.py")
    assert set(wstutorial.running_servers()) == before
    assert "hello.html" in capsys.readouterr().out


def test_sessions_use_their_own_port() -> None:
    """The root conftest gives the notebooks a free port, never the shared 8888."""
    assert os.environ["WSTUTORIAL_PORT"] != "8888"
    assert wstutorial.address.default_port() == int(os.environ["WSTUTORIAL_PORT"])


def test_hello_server_explains_the_protocol_with_a_diagram() -> None:
    """Notebook 01 has the Mermaid sequence diagram (upgrade, open, messages, close) and the handler."""
    notebook = nbformat.read(NOTEBOOKS / "01-hello-server.ipynb", as_version=4)
    markdown = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    assert "```mermaid\nsequenceDiagram" in markdown
    for step in ("Upgrade: websocket", "101 Switching Protocols", "close frame"):
        assert step in markdown
    assert "class MyHandler(wstutorial.TutorialHandler)" in code
    assert 'start_server(handlers={"/ws": MyHandler})' in code
    assert "print(" not in code.split("class MyHandler", 1)[1].split("server =", 1)[0]


def test_relay_solution_passes_its_check() -> None:
    """relay() passes on what is published on a real Redis; the starting point does not."""
    from wstutorial.services.redisserver import start_redis
    from wstutorial.teaching.exercises import check_relay

    with start_redis() as redis_server:
        passed = asyncio.run(check_relay(solution("relay.py")["relay"], redis_server.url))
        stub = runpy.run_path(str(NOTEBOOKS / "exercises" / "relay.py"))["relay"]
        not_yet = asyncio.run(check_relay(stub, redis_server.url))
    assert passed, str(passed)
    assert str(not_yet).startswith("Not yet: your relay returned before subscribing")


def test_members_only_solution_passes_its_check() -> None:
    """MembersOnlyHandler lets a signed cookie in and refuses the rest; the starting point does not pass."""
    from wstutorial.teaching.exercises import check_members_only

    passed = check_members_only(solution("members_only.py")["MembersOnlyHandler"])
    assert passed, str(passed)
    stub = runpy.run_path(str(NOTEBOOKS / "exercises" / "members_only.py"))["MembersOnlyHandler"]
    assert str(check_members_only(stub)).startswith("Not yet: a logged-in ada got 'Hello None'")
