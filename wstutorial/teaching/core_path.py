"""The core path through the notebooks: what a 90-minute class needs, and what is "deeper".

The marking is visible to students: a Markdown heading whose title starts
with ``Deeper:`` (``## Deeper: DNS rebinding``, ``### Deeper: exercise ...``)
opens a section that a class may skip; it ends at the next heading of the same
or a higher level (fewer ``#``). Everything else is on the core path.

:func:`count_notebook` counts the words a student reads (Markdown cells only:
code is run rather than read) and the code cells, on the core path and in all;
the teacher's lesson plan (``docs/teaching.md``) and the README's table of
notebooks are written from these counts::

    python -m wstutorial.teaching.core_path notebooks/*.ipynb
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from pathlib import Path
from typing import Any, Iterator

__all__ = ["DEEPER", "PathCount", "count_notebook", "count_cells", "deeper_titles", "main"]

# A heading's title starts with this word to mark its section as deeper.
DEEPER = "Deeper:"

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING_MARK = re.compile(r"^#{1,6}\s")  # the '##' of a heading is no word


@dataclasses.dataclass(frozen=True)
class PathCount:
    """Words (Markdown) and code cells of one notebook: on the core path, and in all."""

    name: str
    core_words: int
    all_words: int
    core_code_cells: int
    all_code_cells: int

    @property
    def deeper_words(self) -> int:
        return self.all_words - self.core_words

    def __str__(self) -> str:
        return (
            f"{self.name}: {self.core_words} of {self.all_words} words on the core path, "
            f"{self.core_code_cells} of {self.all_code_cells} code cells"
        )


def _source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


class _Headings:
    """The open headings above the current line: each with its level and whether it is deeper."""

    def __init__(self) -> None:
        self._open: list[tuple[int, bool]] = []

    def read(self, line: str) -> None:
        heading = _HEADING.match(line)
        if heading:
            level = len(heading.group(1))
            while self._open and self._open[-1][0] >= level:
                self._open.pop()
            self._open.append((level, heading.group(2).startswith(DEEPER)))

    @property
    def deeper(self) -> bool:
        return any(deeper for _, deeper in self._open)


def _markdown_lines(cell: dict[str, Any]) -> Iterator[tuple[str, bool]]:
    """Each line of a Markdown cell, and whether it is a heading line (not inside a fenced code block)."""
    fenced = False
    for line in _source(cell).splitlines():
        if _FENCE.match(line):
            fenced = not fenced
            yield line, False
        else:
            yield line, not fenced


def count_cells(name: str, cells: list[dict[str, Any]]) -> PathCount:
    """Count ``cells`` (a notebook's ``cells`` list, as in its JSON) for the notebook ``name``.

    A code cell counts where it stands: deeper when a deeper heading above it is still open.
    """
    headings = _Headings()
    core_words = all_words = core_cells = all_cells = 0
    for cell in cells:
        if cell.get("cell_type") == "markdown":
            for line, may_be_heading in _markdown_lines(cell):
                if may_be_heading:
                    headings.read(line)
                words = len(_HEADING_MARK.sub("", line).split()) if may_be_heading else len(line.split())
                all_words += words
                core_words += 0 if headings.deeper else words
        elif cell.get("cell_type") == "code":
            all_cells += 1
            core_cells += 0 if headings.deeper else 1
    return PathCount(name, core_words, all_words, core_cells, all_cells)


def count_notebook(path: str | Path) -> PathCount:
    """Words and code cells of the notebook at ``path``, on the core path and in all."""
    path = Path(path)
    notebook = json.loads(path.read_text(encoding="utf-8"))
    return count_cells(path.name, notebook.get("cells", []))


def deeper_titles(path: str | Path) -> list[str]:
    """The titles of the notebook's deeper sections, in order (``Deeper:`` left off)."""
    notebook = json.loads(Path(path).read_text(encoding="utf-8"))
    titles = []
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "markdown":
            for line, may_be_heading in _markdown_lines(cell):
                heading = _HEADING.match(line) if may_be_heading else None
                if heading and heading.group(2).startswith(DEEPER):
                    titles.append(heading.group(2)[len(DEEPER):].strip())
    return titles


def main(argv: list[str] | None = None) -> int:
    """Print one line per notebook given, then the totals."""
    paths = argv if argv is not None else sys.argv[1:]
    if not paths:
        print("usage: python -m wstutorial.teaching.core_path NOTEBOOK.ipynb ...", file=sys.stderr)
        return 2
    counts = [count_notebook(path) for path in paths]
    for count in counts:
        print(count)
    core = sum(count.core_words for count in counts)
    total = sum(count.all_words for count in counts)
    print(f"all {len(counts)} notebooks: {core} of {total} words on the core path")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
