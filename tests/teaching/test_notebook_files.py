"""The student's copy of the notebooks: first copy, updates, and a student's changes kept.

``lab FOLDER`` writes only inside FOLDER: never through a symbolic link,
always whole files (issue 24, item 7).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import ROOT
from wstutorial.teaching.notebook_files import (
    MANIFEST,
    notebooks_source,
    sync_notebooks,
    tutorial_files,
)


def tutorial(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_every_notebook_exercise_and_solution_is_copied_but_not_test_files() -> None:
    names = {str(path) for path in tutorial_files(notebooks_source())}
    expected = {p.relative_to(ROOT / "notebooks").as_posix() for p in (ROOT / "notebooks").rglob("*") if p.is_file()}
    skipped = (".ipynb_checkpoints", "__pycache__", "my-pages/", "my-program/")
    expected = {name for name in expected if not any(part in name for part in skipped)}
    assert names == expected - {"sanitize.cfg"}
    assert "00-setup-check.ipynb" in names and "exercises/upper_case.py" in names and "solutions/upper_case.py" in names


def test_first_run_copies_and_second_run_changes_nothing(tmp_path: Path) -> None:
    source = tutorial(tmp_path / "v1", {"01.ipynb": "one", "exercises/a.py": "a", "sanitize.cfg": "x"})
    student = tmp_path / "student"
    first = sync_notebooks(student, source, "0.1.0")
    assert sorted(first.copied) == ["01.ipynb", "exercises/a.py"]
    assert (student / "exercises" / "a.py").read_text() == "a" and not (student / "sanitize.cfg").exists()
    assert first.lines() == [f"Copied 2 tutorial file(s) into {student}."]
    manifest = json.loads((student / MANIFEST).read_text())
    assert manifest["tutorial_version"] == "0.1.0" and set(manifest["files"]) == {"01.ipynb", "exercises/a.py"}
    again = sync_notebooks(student, source, "0.1.0")
    assert again.copied == again.updated == again.kept == []
    assert again.lines() == [f"The tutorial's files in {student} are up to date."]
    assert sorted(again.unchanged) == ["01.ipynb", "exercises/a.py"]


def test_someones_own_pages_are_never_copied(tmp_path: Path) -> None:
    """my-pages/ (notebook 03's copies, edited by whoever ran it in this checkout) is theirs, not the tutorial's."""
    source = tutorial(
        tmp_path / "checkout",
        {"03.ipynb": "three", "exercises/reconnect.html": "start", "my-pages/reconnect.html": "the teacher's answer"},
    )
    assert [str(path) for path in tutorial_files(source)] == ["03.ipynb", "exercises/reconnect.html"]
    student = tmp_path / "student"
    report = sync_notebooks(student, source, "0.1.0")
    assert sorted(report.copied) == ["03.ipynb", "exercises/reconnect.html"]
    assert not (student / "my-pages").exists()
    assert "my-pages/reconnect.html" not in json.loads((student / MANIFEST).read_text())["files"]


def test_a_changed_file_stays_and_the_newer_version_goes_beside_it(tmp_path: Path) -> None:
    student = tmp_path / "student"
    sync_notebooks(student, tutorial(tmp_path / "v1", {"01.ipynb": "one", "02.ipynb": "two"}), "0.1.0")
    (student / "01.ipynb").write_text("one, with my answer")
    # Same tutorial version: the student's change is kept, nothing is added.
    same = sync_notebooks(student, tmp_path / "v1", "0.1.0")
    assert same.kept == [("01.ipynb", "")]
    assert same.lines() == ["Kept your changes in: 01.ipynb.", f"The tutorial's files in {student} are up to date."]
    v2 = tutorial(tmp_path / "v2", {"01.ipynb": "one v2", "02.ipynb": "two v2", "03.ipynb": "three"})
    report = sync_notebooks(student, v2, "0.2.0")
    assert (student / "01.ipynb").read_text() == "one, with my answer"
    assert (student / "01 (tutorial 0.2.0).ipynb").read_text() == "one v2"
    assert (student / "02.ipynb").read_text() == "two v2"  # not changed by the student: updated
    assert report.updated == ["02.ipynb"] and report.copied == ["03.ipynb"]
    assert "Kept your changed 01.ipynb; the newer tutorial version is beside it: 01 (tutorial 0.2.0).ipynb" in report.lines()
    # Once more: the side copy is reused, not multiplied.
    sync_notebooks(student, v2, "0.2.0")
    assert sorted(p.name for p in student.iterdir() if not p.name.startswith(".")) == [
        "01 (tutorial 0.2.0).ipynb", "01.ipynb", "02.ipynb", "03.ipynb",
    ]


def test_a_side_copy_the_student_edited_is_kept_too(tmp_path: Path) -> None:
    student = tmp_path / "student"
    sync_notebooks(student, tutorial(tmp_path / "v1", {"01.ipynb": "one"}), "0.1.0")
    (student / "01.ipynb").write_text("mine")
    v2 = tutorial(tmp_path / "v2", {"01.ipynb": "one v2"})
    sync_notebooks(student, v2, "0.2.0")
    (student / "01 (tutorial 0.2.0).ipynb").write_text("mine too")
    report = sync_notebooks(student, v2, "0.2.0")
    assert (student / "01 (tutorial 0.2.0).ipynb").read_text() == "mine too"
    assert report.kept == [("01.ipynb", "01 (tutorial 0.2.0, 2).ipynb")]
    assert (student / "01 (tutorial 0.2.0, 2).ipynb").read_text() == "one v2"


def test_no_manifest_means_existing_different_files_are_the_students(tmp_path: Path) -> None:
    student = tutorial(tmp_path / "student", {"01.ipynb": "written before the lab command", "02.ipynb": "two"})
    report = sync_notebooks(student, tutorial(tmp_path / "v1", {"01.ipynb": "one", "02.ipynb": "two"}), "0.1.0")
    assert (student / "01.ipynb").read_text() == "written before the lab command"
    assert report.kept == [("01.ipynb", "01 (tutorial 0.1.0).ipynb")] and report.unchanged == ["02.ipynb"]


def test_a_deleted_file_comes_back(tmp_path: Path) -> None:
    source = tutorial(tmp_path / "v1", {"01.ipynb": "one"})
    student = tmp_path / "student"
    sync_notebooks(student, source, "0.1.0")
    (student / "01.ipynb").unlink()
    assert sync_notebooks(student, source, "0.1.0").copied == ["01.ipynb"]


def test_a_file_where_the_folder_should_be_is_a_sentence(tmp_path: Path) -> None:
    (tmp_path / "notes").write_text("x")
    with pytest.raises(NotADirectoryError, match="is a file, not a folder"):
        sync_notebooks(tmp_path / "notes", tutorial(tmp_path / "v1", {"01.ipynb": "one"}), "0.1.0")








# A tutorial of one notebook and one exercise, for the tests of links.
SMALL_TUTORIAL = {"01.ipynb": "one", "exercises/a.py": "a"}


@pytest.mark.parametrize("link", ["01.ipynb", "exercises", MANIFEST])
def test_a_link_in_the_folder_is_refused_and_nothing_lands_outside(tmp_path: Path, link: str) -> None:
    """A dangling link named like a notebook, a linked exercises/, a linked manifest: a sentence, nothing written anywhere."""
    source = tutorial(tmp_path / "source", SMALL_TUTORIAL)
    student = tmp_path / "student"
    student.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (student / link).symlink_to(elsewhere / ("dir" if link == "exercises" else "file"), target_is_directory=link == "exercises")
    if link == "exercises":
        (elsewhere / "dir").mkdir()
    with pytest.raises(OSError, match="symbolic link .* never writes through a link"):  # LinkRefused
        sync_notebooks(student, source, "1.0")
    assert [path.name for path in elsewhere.rglob("*")] == (["dir"] if link == "exercises" else [])
    assert sorted(path.name for path in student.iterdir()) == [link]  # nothing else written either


def test_a_link_named_like_the_old_temporary_manifest_is_never_written_through(tmp_path: Path) -> None:
    """``.wstutorial-manifest.json.new`` linked elsewhere: the manifest goes through a fresh temporary file instead."""
    source = tutorial(tmp_path / "source", SMALL_TUTORIAL)
    student = tmp_path / "student"
    student.mkdir()
    (student / (MANIFEST + ".new")).symlink_to(tmp_path / "victim.txt")
    sync_notebooks(student, source, "1.0")
    assert not (tmp_path / "victim.txt").exists()
    assert json.loads((student / MANIFEST).read_text())["tutorial_version"] == "1.0"


def test_the_command_says_so_in_one_line(tmp_path: Path) -> None:
    """``python -m wstutorial lab FOLDER`` with a linked notebook: one line naming the link, exit 1, no traceback."""
    student = tmp_path / "student"
    student.mkdir()
    (student / "00-setup-check.ipynb").symlink_to(tmp_path / "victim.txt")
    result = subprocess.run(
        [sys.executable, "-m", "wstutorial", "lab", str(student), "--no-browser"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1
    assert "00-setup-check.ipynb is a symbolic link" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "victim.txt").exists()


def test_writes_are_whole_and_leave_no_temporary_files(tmp_path: Path) -> None:
    """Each file is written beside itself and renamed: the old bytes or the new, never half; the manifest too."""
    source = tutorial(tmp_path / "source", SMALL_TUTORIAL)
    student = tmp_path / "student"
    sync_notebooks(student, source, "1.0")
    assert (student / "01.ipynb").read_text() == "one"
    assert json.loads((student / MANIFEST).read_text())["tutorial_version"] == "1.0"
    leftovers = [path.name for path in student.rglob("*.tmp")] + [path.name for path in student.rglob("*.new")]
    assert leftovers == []
    from wstutorial.teaching.notebook_files import write_atomically

    target = student / "01.ipynb"
    before = target.stat().st_ino
    write_atomically(target, b"two")
    assert target.read_bytes() == b"two" and target.stat().st_ino != before  # a new file renamed over the old


def test_a_deeply_nested_manifest_is_a_damaged_one(tmp_path: Path) -> None:
    """A manifest nested 100,000 levels deep is read as damaged (every differing file is the student's), no traceback."""
    source = tutorial(tmp_path / "source", SMALL_TUTORIAL)
    student = tmp_path / "student"
    student.mkdir()
    (student / MANIFEST).write_text("[" * 100_000)
    report = sync_notebooks(student, source, "1.0")
    assert sorted(report.copied) == ["01.ipynb", "exercises/a.py"]
