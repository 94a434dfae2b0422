"""Notebook 03's browser exercises, done in a real Chromium with the solution pages and the starting points."""

from __future__ import annotations

import queue
import shutil
import threading
from pathlib import Path
from typing import Callable

import pytest
from playwright.sync_api import Page

from wstutorial.teaching.exercises import CheckResult
from wstutorial.teaching.page_exercises import check_reconnect, check_send_on_open

from .conftest import ROOT

NOTEBOOKS = ROOT / "notebooks"


def my_pages(tmp_path: Path, kind: str) -> Path:
    """A student folder holding the exercise pages from ``kind`` ('exercises' or 'solutions')."""
    folder = tmp_path / "my-pages"
    folder.mkdir()
    for name in ("send_on_open.html", "reconnect.html"):
        shutil.copyfile(NOTEBOOKS / kind / name, folder / name)
    return folder


def run_check(page: Page, check: Callable[..., CheckResult], **options: object) -> CheckResult:
    """Run ``check`` in a thread; open the page it shows in Chromium, as the notebook's frame would."""
    urls: queue.Queue[str] = queue.Queue()
    results: list[CheckResult] = []
    thread = threading.Thread(target=lambda: results.append(check(show=urls.put, **options)), daemon=True)
    thread.start()
    page.goto(urls.get(timeout=20))
    thread.join(60)
    assert results, "the check did not finish within 60 s"
    return results[0]


@pytest.mark.timeout(120)
def test_send_on_open_solution_passes(page: Page, tmp_path: Path) -> None:
    """The solution page sends as soon as it opens: Passed, naming the message."""
    result = run_check(page, check_send_on_open, folder=my_pages(tmp_path, "solutions"))
    assert result.passed, str(result)
    assert str(result) == "Passed: your page connected and sent 'hello from my page' as soon as the socket opened."


@pytest.mark.timeout(120)
def test_send_on_open_starting_point_is_told_what_to_add(page: Page, tmp_path: Path) -> None:
    """The starting page connects but sends nothing: the sentence says so and names ws.send."""
    result = run_check(page, check_send_on_open, folder=my_pages(tmp_path, "exercises"), send_timeout=2.0)
    assert str(result).startswith("Not yet: your page connected but sent nothing within 2 s: call ws.send(")


@pytest.mark.timeout(120)
def test_reconnect_solution_backs_off_and_comes_back(page: Page, tmp_path: Path) -> None:
    """The solution page retries 0.5 s, 1 s, 2 s while the server is down and reconnects: Passed."""
    result = run_check(page, check_reconnect, folder=my_pages(tmp_path, "solutions"))
    assert result.passed, str(result)
    assert "reconnected when it came back" in str(result)


@pytest.mark.timeout(120)
def test_reconnect_starting_point_never_tries_again(page: Page, tmp_path: Path) -> None:
    """The starting page gives up after the close: the sentence names setTimeout."""
    result = run_check(page, check_reconnect, folder=my_pages(tmp_path, "exercises"), downtime=2.0, back_timeout=2.0)
    assert str(result) == (
        "Not yet: after the server went away your page never tried again: "
        "in the close event's listener, call setTimeout(connect, delay)"
    )
