"""Notebook 03's standalone program, in a real Chromium: its own page connects; the same page from disk is refused.

The program is the solution, ``notebooks/solutions/hello_app.py``: plain
Tornado, run as its own process. What the check of notebook 03 does with an
HTTP fetch and a handshake carrying the page's Origin, a browser does here
for real; and the page opened as a file (``Origin: null``) meets plain
Tornado's 403. (In JupyterLab, a passing check shows the page connected
under it: tests/browser/test_notebooks.py.)
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Iterator

import pytest
from playwright.sync_api import Page, expect

from wstutorial.address import free_port
from wstutorial.teaching.programs import Program, run_program

from .conftest import ROOT

SOLUTION = ROOT / "notebooks" / "solutions"
GREEN = "rgb(0, 255, 0)"


@pytest.fixture
def program(tmp_path: Path) -> Iterator[tuple[Program, int]]:
    """The solution program and its page, copied into a folder of their own, running on a free port."""
    for name in ("hello_app.py", "hello_app.html"):
        shutil.copyfile(SOLUTION / name, tmp_path / name)
    port = free_port()
    running = run_program(tmp_path / "hello_app.py", port, port=port)
    running.wait_for("listening")
    try:
        yield running, port
    finally:
        running.stop()


def test_the_programs_own_page_connects(page: Page, program: tuple[Program, int]) -> None:
    """http://localhost:PORT/: the page's WebSocket opens (green), greets, and what the page sends is printed."""
    running, port = program
    page.goto(f"http://localhost:{port}/")
    expect(page.locator("#status")).to_have_text("open")
    assert page.locator("#status").evaluate("s => getComputedStyle(s).backgroundColor") == GREEN
    expect(page.locator("#log > li")).to_have_text(["message received: Hello World"])
    page.locator("#say button").click()
    running.wait_for("message received hi from my page")
    assert "new connection" in running.output


def test_the_same_page_from_disk_is_refused_with_403(page: Page, program: tuple[Program, int], tmp_path: Path) -> None:
    """The page opened as a file sends Origin: null; plain Tornado answers 403, the page sees 1006."""
    running, port = program
    # From disk the page has no host of its own: point it at the program, as a student would by hand.
    page_file = tmp_path / "from-disk.html"
    page_file.write_text(
        (SOLUTION / "hello_app.html").read_text().replace(
            '(location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws"', f'"ws://localhost:{port}/ws"'
        ),
        encoding="utf-8",
    )
    page.goto(page_file.as_uri())
    expect(page.locator("#status")).to_have_text("closed, code 1006")
    running.wait_for("403 GET /ws")
    assert "new connection" not in running.output
