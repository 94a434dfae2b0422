"""The lesson's clock: minutes of reading and of exercises on the core path, from the notebooks themselves.

The teacher's lesson plan (``docs/teaching.md``) is written from these
figures, and a test keeps its table in step with the notebooks::

    python -m wstutorial.teaching.lesson_clock notebooks/0[1-46]*.ipynb

How the minutes are made (each rate is stated, so a teacher can redo the
sums with their own class's):

- **reading**: the core path's words (Markdown, as
  :mod:`.core_path` counts them) at :data:`READING_WPM` words a minute:
  reading to learn, code in between, often in a second language;
- **an exercise** (a section whose heading says "Exercise"): reading its
  text and its starting point (:data:`CODE_LINES_PER_MINUTE`), thinking
  (:data:`THINK_MINUTES`), writing what the solution adds to the starting
  point (its characters, not counting spaces, at
  :data:`CODE_CHARS_PER_MINUTE`), and :data:`CHECK_RUNS` runs of the check
  (the untouched start, one typical wrong answer, the right one), each its
  measured seconds (:data:`CHECK_SECONDS`, from walking every exercise in
  JupyterLab in Chromium) and a message to read, plus :data:`FIX_MINUTES`
  to mend the wrong answer;
- **running the cells**: the core path's code cells at :data:`CELL_SECONDS` each
  (run, look at what came out).

These are estimates built from measured parts, not a stopwatch on a class:
after a class, the board's export (first try and first pass per student and
exercise) says how long the exercises really took.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import re
import sys
from pathlib import Path
from typing import Any, Iterator

from .core_path import DEEPER, count_notebook

__all__ = [
    "READING_WPM", "CODE_CHARS_PER_MINUTE", "CODE_LINES_PER_MINUTE", "THINK_MINUTES", "CHECK_RUNS", "FIX_MINUTES",
    "CELL_SECONDS", "CHECK_SECONDS", "ExerciseClock", "NotebookClock", "notebook_clock", "main",
]  # fmt: skip

READING_WPM = 150
CODE_LINES_PER_MINUTE = 10  # reading a starting point: a line every six seconds
CODE_CHARS_PER_MINUTE = 60  # writing new code, looking back at the cells above: a character a second
THINK_MINUTES = 2.0
CHECK_RUNS = 3
FIX_MINUTES = 0.5
MESSAGE_WORDS = 30  # a check's "Not yet: ..." sentence
CELL_SECONDS = 15  # run a cell of the core path and look at what it shows

# Seconds one run of each check took when walked in JupyterLab in Chromium (the slowest of the
# untouched start, the wrong answers and the solution; 2026-12-07, load average 5-17 on 2 cores).
CHECK_SECONDS: dict[str, float] = {
    "free_port": 1.0,
    "upper_case": 3.8,  # the untouched start waits 3 s for an answer
    "echo": 3.0,
    "send_on_open": 10.0,  # a server of its own, the page in a frame, 5 s for a message
    "hello_app": 13.8,  # runs the program; a program that never listens is given 10 s
    "count_clients": 4.6,
    "stream_time": 4.0,
    "origin_accepted": 2.0,
    "reconnect": 20.0,  # stops the server under the page, 5 s of refusals, waits for it to come back
    "mini_chat": 4.1,
    "ping": 2.0,
}
DEFAULT_CHECK_SECONDS = 5.0

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_CHECK = re.compile(r"\bcheck_([a-z][a-z0-9_]*)\s*\(")
# A starting point or a solution named in the section: %load exercises/echo_roundtrip.py, my-pages/send_on_open.html, ...
_FILE = re.compile(r"\b(?:exercises|solutions|my-pages|my-program)/([a-z][a-z0-9_]*)\.(?:py|html)\b")
_EXERCISE = re.compile(r"\bexercise\b", re.IGNORECASE)


@dataclasses.dataclass(frozen=True)
class ExerciseClock:
    """One exercise: where it is, whether it is on the core path, and its minutes."""

    notebook: str
    title: str
    name: str  # the check's name: check_<name>
    core: bool
    words: int  # of its section (the task, the solution's sentence)
    start_lines: int  # of the starting point(s)
    written: int  # characters the solution adds (spaces left out)

    @property
    def minutes(self) -> float:
        check = CHECK_SECONDS.get(self.name, DEFAULT_CHECK_SECONDS)
        return (
            self.words / READING_WPM
            + self.start_lines / CODE_LINES_PER_MINUTE
            + THINK_MINUTES
            + self.written / CODE_CHARS_PER_MINUTE
            + CHECK_RUNS * (check / 60 + MESSAGE_WORDS / READING_WPM)
            + FIX_MINUTES
        )


@dataclasses.dataclass(frozen=True)
class NotebookClock:
    """One notebook's core path: reading, running its cells, its exercises."""

    name: str
    core_words: int
    core_code_cells: int
    exercises: tuple[ExerciseClock, ...]

    @property
    def reading_minutes(self) -> float:
        """The core path's words, but for those of its exercises (read as part of each exercise)."""
        exercise_words = sum(exercise.words for exercise in self.exercises if exercise.core)
        return max(0, self.core_words - exercise_words) / READING_WPM

    @property
    def cell_minutes(self) -> float:
        core_exercise_cells = 2 * sum(1 for exercise in self.exercises if exercise.core)  # counted with the exercise
        return max(0, self.core_code_cells - core_exercise_cells) * CELL_SECONDS / 60

    @property
    def exercise_minutes(self) -> float:
        return sum(exercise.minutes for exercise in self.exercises if exercise.core)

    @property
    def minutes(self) -> float:
        return self.reading_minutes + self.cell_minutes + self.exercise_minutes


def _lines(cells: list[dict[str, Any]]) -> Iterator[tuple[int, str, bool]]:
    """(cell index, line, may it be a heading) for every line of every cell; code lines are never headings."""
    for index, cell in enumerate(cells):
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else str(source)
        fenced = False
        for line in text.splitlines():
            if cell.get("cell_type") == "markdown" and _FENCE.match(line):
                fenced = not fenced
            yield index, line, cell.get("cell_type") == "markdown" and not fenced


def _written(start: str, solution: str) -> int:
    """Characters (spaces left out) the solution has that the starting point has not."""
    matcher = difflib.SequenceMatcher(None, start, solution, autojunk=False)
    return sum(
        len("".join(solution[j1:j2].split())) for tag, _, _, j1, j2 in matcher.get_opcodes() if tag in ("replace", "insert")
    )


def _files(folder: Path, name: str) -> list[Path]:
    return sorted(path for path in folder.glob(f"{name}.*") if path.suffix in (".py", ".html"))


def _exercises(path: Path, cells: list[dict[str, Any]]) -> list[ExerciseClock]:
    """Every section whose heading says Exercise: its words, code cells' checks, starting points and solutions."""
    found: list[ExerciseClock] = []
    open_headings: list[tuple[int, bool]] = []
    current: dict[str, Any] | None = None

    def close() -> None:
        if current is None or not current["names"]:
            return
        name = current["names"][0]
        stem = current["files"][0] if current["files"] else name
        starts = _files(path.parent / "exercises", stem)
        solutions = {p.name: p for p in _files(path.parent / "solutions", stem)}
        start_lines = sum(len(p.read_text(encoding="utf-8").splitlines()) for p in starts)
        written = sum(
            _written(p.read_text(encoding="utf-8"), solutions[p.name].read_text(encoding="utf-8"))
            for p in starts if p.name in solutions
        )
        found.append(ExerciseClock(path.name, current["title"], name, current["core"], current["words"], start_lines, written))

    for _, line, may_be_heading in _lines(cells):
        heading = _HEADING.match(line) if may_be_heading else None
        if heading:
            level = len(heading.group(1))
            while open_headings and open_headings[-1][0] >= level:
                open_headings.pop()
            title = heading.group(2)
            open_headings.append((level, title.startswith(DEEPER)))
            if current is not None and level <= current["level"]:
                close()
                current = None
            if current is None and _EXERCISE.search(title):
                deeper = any(deeper for _, deeper in open_headings)
                current = {"title": title, "level": level, "core": not deeper, "words": 0, "names": [], "files": []}
        if current is not None:
            if may_be_heading:
                current["words"] += len(re.sub(r"^#{1,6}\s", "", line).split())
            for name in _CHECK.findall(line) if not may_be_heading else ():
                if name not in current["names"]:
                    current["names"].append(name)
            for stem in _FILE.findall(line):
                if stem not in current["files"]:
                    current["files"].append(stem)
    close()
    return found


def notebook_clock(path: str | Path) -> NotebookClock:
    """The clock of one notebook: its core path's words and code cells, and its exercises."""
    path = Path(path)
    cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    count = count_notebook(path)
    return NotebookClock(path.name, count.core_words, count.core_code_cells, tuple(_exercises(path, cells)))


def table(clocks: list[NotebookClock]) -> str:
    """The lesson plan's table: per notebook, minutes of reading, cells and exercises on the core path."""
    rows = [
        "| notebook | core words | reading | cells | exercises on the core path | in all |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for clock in clocks:
        exercises = "; ".join(
            f"{exercise.name} {exercise.minutes:.0f} min" for exercise in clock.exercises if exercise.core
        ) or "none"
        rows.append(
            f"| `{clock.name}` | {clock.core_words:,} | {clock.reading_minutes:.0f} min | {clock.cell_minutes:.0f} min "
            f"| {exercises} | {clock.minutes:.0f} min |"
        )
    total = sum(clock.minutes for clock in clocks)
    reading = sum(clock.reading_minutes for clock in clocks)
    exercising = sum(clock.exercise_minutes for clock in clocks)
    rows.append(f"| all | {sum(c.core_words for c in clocks):,} | {reading:.0f} min | "
                f"{sum(c.cell_minutes for c in clocks):.0f} min | {exercising:.0f} min | {total:.0f} min |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    """Print the table for the notebooks given, then each exercise (deeper ones too) with its parts."""
    paths = argv if argv is not None else sys.argv[1:]
    if not paths:
        print("usage: python -m wstutorial.teaching.lesson_clock NOTEBOOK.ipynb ...", file=sys.stderr)
        return 2
    clocks = [notebook_clock(path) for path in paths]
    print(table(clocks))
    print()
    for clock in clocks:
        for exercise in clock.exercises:
            where = "core" if exercise.core else "deeper"
            print(
                f"{clock.name}: {exercise.title} (check_{exercise.name}, {where}): {exercise.minutes:.1f} min = "
                f"{exercise.words} words, {exercise.start_lines} lines to read, {exercise.written} characters to write, "
                f"{CHECK_RUNS} checks of {CHECK_SECONDS.get(exercise.name, DEFAULT_CHECK_SECONDS):g} s"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
