"""The student's page folder and the browser checks' sentences when no browser comes (the browser runs are in tests/browser)."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest

import wstutorial
from helpers import ROOT
from wstutorial.teaching.page_exercises import PAGES, check_reconnect, check_send_on_open, student_pages

NOTEBOOKS = ROOT / "notebooks"


def test_student_pages_copies_only_what_is_missing(tmp_path: Path) -> None:
    """The starting points are copied once; a page the student edited is never overwritten."""
    folder = tmp_path / "my-pages"
    pages = student_pages(folder, NOTEBOOKS / "exercises")
    assert sorted(path.name for path in folder.iterdir()) == sorted(PAGES)
    (folder / "send_on_open.html").write_text("my own work")
    (folder / "reconnect.html").unlink()
    student_pages(folder, NOTEBOOKS / "exercises")
    assert (folder / "send_on_open.html").read_text() == "my own work"
    assert (folder / "reconnect.html").read_text() == (NOTEBOOKS / "exercises" / "reconnect.html").read_text()
    assert str(pages).startswith("Your pages: my-pages/send_on_open.html, my-pages/reconnect.html.")


def test_every_page_exercise_has_a_solution() -> None:
    """exercises/X.html and solutions/X.html come in pairs."""
    for name in PAGES:
        assert (NOTEBOOKS / "exercises" / name).is_file() and (NOTEBOOKS / "solutions" / name).is_file()


def test_server_serves_the_student_folder_at_my(tmp_path: Path) -> None:
    """start_server(student_dir=...) serves the folder's pages at /my/, uncached."""
    (tmp_path / "page.html").write_text("<p>mine</p>")
    with wstutorial.start_server(port=0, student_dir=tmp_path) as server:
        with urllib.request.urlopen(server.page_url("my/page.html"), timeout=10) as response:
            assert response.read() == b"<p>mine</p>"
            assert response.headers["Cache-Control"] == "no-store"


def test_student_dir_must_be_a_folder(tmp_path: Path) -> None:
    """A student_dir that is not a folder is refused with a sentence naming it."""
    with pytest.raises(ValueError, match="student_dir must be a folder of pages, 'nowhere' is not one"):
        wstutorial.start_server(port=0, student_dir="nowhere")


def test_a_page_that_never_connects_gets_a_sentence(tmp_path: Path) -> None:
    """Nobody opens the page (no browser): Not yet, with where to look."""
    student_pages(tmp_path, NOTEBOOKS / "exercises")
    shown: list[str] = []
    result = check_send_on_open(tmp_path, show=shown.append, connect_timeout=0.5)
    assert str(result).startswith("Not yet: your page did not connect within 0.5 s. Is it shown above?")
    assert shown and shown[0].endswith("/my/send_on_open.html")
    result = check_reconnect(tmp_path, show=shown.append, connect_timeout=0.5)
    assert not result.passed and "did not connect" in str(result)


def test_a_missing_page_is_a_sentence(tmp_path: Path) -> None:
    """Checking before student_pages() says which cell to run."""
    result = check_send_on_open(tmp_path, show=lambda url: None)
    assert str(result) == f"Not yet: there is no {tmp_path / 'send_on_open.html'}: run the cell with student_pages() first (it copies the starting points)"
