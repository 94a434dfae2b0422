"""Notebook 03's browser exercises, in a real Chromium: the solution pages pass, each row of the pages' table gets its sentence."""

from __future__ import annotations

import queue
import shutil
import threading
from pathlib import Path
from typing import Callable

import pytest
from playwright.sync_api import Page

from wrong_answers import PAGE_ANSWERS, Answer, pattern, starting_point
from wstutorial.teaching.page_exercises import check_reconnect, check_send_on_open
from wstutorial.teaching.selfcheck import CheckResult

from .conftest import ROOT

NOTEBOOKS = ROOT / "notebooks"
CHECKS: dict[str, Callable[..., CheckResult]] = {"send_on_open": check_send_on_open, "reconnect": check_reconnect}


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
    assert str(result) == "Passed: your page connected and sent 'hello from my page' as soon as the socket opened."


@pytest.mark.timeout(120)
def test_reconnect_solution_backs_off_comes_back_and_starts_short_again(page: Page, tmp_path: Path) -> None:
    """The solution page retries 0.5 s, 1 s, 2 s while the server is down, reconnects, and starts from 0.5 s again: Passed."""
    result = run_check(page, check_reconnect, folder=my_pages(tmp_path, "solutions"))
    assert result.passed, str(result)
    assert "reconnected when it came back, and started from a short delay again" in str(result)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("answer", PAGE_ANSWERS, ids=lambda answer: answer.id)
def test_a_wrong_page_gets_what_to_change(page: Page, tmp_path: Path, answer: Answer) -> None:
    """Each row of the pages' table, as the page really runs in Chromium: exactly its sentence."""
    folder = tmp_path / "my-pages"
    folder.mkdir()
    name = f"{answer.exercise}.html"
    code = answer.code if answer.code is not None else starting_point(answer.exercise, ".html")
    (folder / name).write_text(code, encoding="utf-8")
    result = run_check(page, CHECKS[answer.exercise], folder=folder)
    assert pattern(answer.says).fullmatch(str(result)), f"\nexpected: {answer.says}\n     got: {result}"


def test_every_page_exercise_has_a_table() -> None:
    """Each page exercise: the untouched starting point and at least three wrong answers."""
    for exercise in CHECKS:
        rows = [answer for answer in PAGE_ANSWERS if answer.exercise == exercise]
        assert sum(answer.code is None for answer in rows) == 1 and len(rows) >= 4
    # hello_app.html is the standalone program's page (notebook 04), checked with its program.
    assert {path.stem for path in (NOTEBOOKS / "exercises").glob("*.html")} - {"hello_app"} == set(CHECKS)
