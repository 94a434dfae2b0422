"""python -m wstutorial notes: the teacher's notes, shipped with the package, whole or one section."""

from __future__ import annotations

import subprocess
import sys

import pytest

from helpers import ROOT
from wstutorial.tools.notes import notes_file, notes_text, section, sections


def test_the_notes_are_docs_teaching_md_in_a_checkout() -> None:
    """In a checkout the package reads docs/teaching.md (the wheel carries it as wstutorial/docs/teaching.md)."""
    assert notes_file() == ROOT / "docs" / "teaching.md"
    assert notes_text().startswith("# Teaching it in class")


def test_a_section_by_a_word_of_its_title() -> None:
    """'plan' is the lesson plan; a word no title has, or several have, names the titles there are."""
    text = notes_text()
    assert section(text, "plan").startswith("## Lesson plan (90 minutes)")
    assert "lesson plan (90 minutes)" in sections(text)
    with pytest.raises(KeyError) as caught:
        section(text, "zebra")
    assert caught.value.args[0].startswith("no section of the teacher's notes has 'zebra' in its title; the sections are: 'before class'")


def test_the_command_prints_the_notes_or_a_section() -> None:
    """The whole notes, one section, a bad section (exit 2 with the titles)."""
    command = [sys.executable, "-m", "wstutorial", "notes"]
    whole = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert whole.returncode == 0 and whole.stdout == notes_text()
    one = subprocess.run([*command, "fails"], capture_output=True, text=True, timeout=60)
    assert one.returncode == 0 and one.stdout.startswith("## When something fails") and "## During class" not in one.stdout
    bad = subprocess.run([*command, "zebra"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "the sections are:" in bad.stderr
