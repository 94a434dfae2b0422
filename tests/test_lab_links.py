"""``lab FOLDER`` writes only inside FOLDER: never through a symbolic link, always whole files (issue 24, item 7)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from wstutorial.teaching.notebook_files import MANIFEST, sync_notebooks


def tutorial(folder: Path) -> Path:
    for name, text in {"01.ipynb": "one", "exercises/a.py": "a"}.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.mark.parametrize("link", ["01.ipynb", "exercises", MANIFEST])
def test_a_link_in_the_folder_is_refused_and_nothing_lands_outside(tmp_path: Path, link: str) -> None:
    """A dangling link named like a notebook, a linked exercises/, a linked manifest: a sentence, nothing written anywhere."""
    source = tutorial(tmp_path / "source")
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
    source = tutorial(tmp_path / "source")
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
    source = tutorial(tmp_path / "source")
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
    source = tutorial(tmp_path / "source")
    student = tmp_path / "student"
    student.mkdir()
    (student / MANIFEST).write_text("[" * 100_000)
    report = sync_notebooks(student, source, "1.0")
    assert sorted(report.copied) == ["01.ipynb", "exercises/a.py"]
