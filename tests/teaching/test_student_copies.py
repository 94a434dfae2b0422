"""The student's copies of notebook 03's starting points (the pages' and the program's own tests use them too)."""

from __future__ import annotations

from pathlib import Path

import pytest

from wstutorial.teaching.student_copies import StudentCopies, copy_starting_points


def test_copies_are_made_once_and_never_overwritten(tmp_path: Path) -> None:
    source = tmp_path / "exercises"
    source.mkdir()
    (source / "a.html").write_text("start a")
    (source / "b.py").write_text("start b")
    folder = copy_starting_points(tmp_path / "mine", source, ("a.html", "b.py"), "starting files")
    (folder / "a.html").write_text("the student's work")
    (folder / "b.py").unlink()
    assert copy_starting_points(folder, source, ("a.html", "b.py"), "starting files") == folder
    assert (folder / "a.html").read_text() == "the student's work"
    assert (folder / "b.py").read_text() == "start b"
    assert StudentCopies(folder, ("a.html", "b.py")).files() == "mine/a.html, mine/b.py"


def test_a_missing_starting_point_names_itself_and_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text("start a")
    with pytest.raises(FileNotFoundError) as raised:
        copy_starting_points(tmp_path / "mine", tmp_path, ("a.html", "gone.html"), "starting pages")
    assert str(raised.value) == (
        f"the starting pages ['gone.html'] are not in {tmp_path.resolve()}; run this from the notebooks folder"
    )
    assert not (tmp_path / "mine").exists()  # nothing half-copied
