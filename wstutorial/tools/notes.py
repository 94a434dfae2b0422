"""The teacher's notes (``docs/teaching.md``), shipped inside the package.

``python -m wstutorial notes`` prints them; ``notes --path`` says where the
file is (to open it in an editor or a Markdown viewer). A teacher who
installed the package from the wheelhouse or PyPI has no checkout, so the
wheel carries the file as ``wstutorial/docs/teaching.md``; in a checkout it
is ``docs/teaching.md`` at the top of the repository.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..packaged import packaged_file

__all__ = ["notes_file", "notes_text", "section", "sections"]

NOTES_NAME = "teaching.md"


def notes_file() -> Path:
    """Where the teacher's notes are: inside the installed package, or ``docs/`` in a checkout."""
    return packaged_file(f"docs/{NOTES_NAME}", "the teacher's notes")


def notes_text() -> str:
    """The whole notes, as Markdown."""
    return notes_file().read_text(encoding="utf-8")


def sections(text: str) -> dict[str, str]:
    """The notes' ``## `` sections by title (lower case), each with its heading; the text before the first is ``""``."""
    parts = re.split(r"(?m)^(?=## )", text)
    found: dict[str, str] = {}
    for part in parts:
        title = part.splitlines()[0][3:].strip().lower() if part.startswith("## ") else ""
        found[title] = part
    return found


def section(text: str, wanted: str) -> str:
    """The one section whose title contains ``wanted`` (case does not matter); ``KeyError`` names the titles there are."""
    matches = [body for title, body in sections(text).items() if title and wanted.strip().lower() in title]
    if len(matches) != 1:
        titles = ", ".join(repr(title) for title in sections(text) if title)
        what = "no" if not matches else "more than one"
        raise KeyError(f"{what} section of the teacher's notes has {wanted!r} in its title; the sections are: {titles}")
    return matches[0]
