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
from pathlib import Path
from typing import Callable, Iterator

import pytest
from playwright.sync_api import Page, expect

from .conftest import ROOT, artifact_dir, failed, save_artifacts
from .jupyterlab import RAISES_TAG, CellResult, JupyterLab, problems, run_all_cells

NOTEBOOKS = sorted(path.name for path in (ROOT / "notebooks").glob("*.ipynb"))
GREEN = "rgb(0, 255, 0)"


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterLab]:
    """JupyterLab serving a temporary copy of notebooks/ (the committed ones stay untouched)."""
    base = tmp_path_factory.mktemp("jupyterlab")
    root = base / "root"
    if (ROOT / "notebooks").is_dir():
        shutil.copytree(ROOT / "notebooks", root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    else:
        root.mkdir()
    home = base / "home"
    home.mkdir()
    running = JupyterLab(root=root, home=home)
    running.start()
    try:
        yield running
    finally:
        running.stop()


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
    """How many text fields of widgets have a green background."""
    return page.evaluate(
        """green => Array.from(document.querySelectorAll(".jp-OutputArea .widget-text input, .jp-OutputArea .widget-text"))
            .filter(element => getComputedStyle(element).backgroundColor === green).length""",
        GREEN,
    )


def check_client_notebook(page: Page, cells: list[CellResult]) -> None:
    """02: the ClientPanel's host/port/uri fields turn green and 'Hello World' shows."""
    page.wait_for_function(
        f"""() => Array.from(document.querySelectorAll(".jp-OutputArea .widget-text input"))
            .filter(input => getComputedStyle(input).backgroundColor === "{GREEN}").length >= 3""",
        timeout=30_000,
    )
    expect(page.locator(".jp-OutputArea").filter(has_text="Hello World").first).to_be_visible(timeout=30_000)


def check_server_notebook(page: Page, cells: list[CellResult]) -> None:
    """01: the ServerConsole shows 'new connection' once a client connected."""
    expect(page.locator(".jp-OutputArea").filter(has_text="new connection").first).to_be_visible(timeout=30_000)


NOTEBOOK_CHECKS: dict[str, Callable[[Page, list[CellResult]], None]] = {
    "01-hello-server.ipynb": check_server_notebook,
    "02-hello-client.ipynb": check_client_notebook,
}


@pytest.mark.timeout(600)
@pytest.mark.parametrize("name", NOTEBOOKS or ["(none)"])
def test_notebook_runs_in_jupyterlab(lab_page: Page, lab: JupyterLab, name: str) -> None:
    """Run All Cells: no traceback outside raises-exception cells, widgets display, notebook's own checks."""
    assert NOTEBOOKS, f"no notebooks found in {ROOT / 'notebooks'}"
    cells = run_all_cells(lab_page, lab, name)
    assert_clean(lab_page, name, cells)
    check = NOTEBOOK_CHECKS.get(name)
    if check is not None:
        check(lab_page, cells)


def test_every_checked_notebook_exists() -> None:
    """NOTEBOOK_CHECKS names only notebooks that exist (a rename must not silently drop a check)."""
    missing = sorted(set(NOTEBOOK_CHECKS) - set(NOTEBOOKS))
    assert not missing, f"NOTEBOOK_CHECKS names notebooks not in notebooks/: {missing}"


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
    """Self-test: a server, a client, a green Text widget, and a raising cell tagged raises-exception."""
    name = write_notebook(
        lab.root / "_harness" / "selftest.ipynb",
        [
            ("import ipywidgets\nimport wstutorial\nserver = wstutorial.start_server()  # port from $WSTUTORIAL_PORT", []),
            ("client = await wstutorial.connect(server.ws_url('/ws'))\ngreeting = await client.receive()", []),
            ("field = ipywidgets.Text(value=greeting, description='greeting')\nfield.style.background = '#00ff00'\nfield", []),
            ("raise ValueError('this cell is meant to raise')", [RAISES_TAG]),
            ("await client.close()\nserver.stop()\nprint('finished on port', server.port)", []),
        ],
    )
    cells = run_all_cells(lab_page, lab, name)
    assert_clean(lab_page, name, cells)
    assert "ValueError" in cells[3].errors[0]
    assert f"finished on port {lab.tutorial_port}" in cells[4].text
    field = lab_page.locator(".jp-OutputArea .widget-text input").first
    expect(field).to_have_value("Hello World")
    assert green_inputs(lab_page) >= 1


@pytest.mark.timeout(600)
def test_harness_reports_untagged_traceback(lab_page: Page, lab: JupyterLab) -> None:
    """Self-test: an untagged raising cell is reported, and so is a tagged cell that does not raise."""
    name = write_notebook(
        lab.root / "_harness" / "broken.ipynb",
        [
            ("1 / 0", []),
            ("print('never runs')", [RAISES_TAG]),
        ],
    )
    cells = run_all_cells(lab_page, lab, name)
    found = problems(lab_page, cells)
    assert any("ZeroDivisionError" in problem for problem in found), found
    assert any("cell 1" in problem and "did not run" in problem for problem in found), found
    assert any("cell 1" in problem and "raised nothing" in problem for problem in found), found
