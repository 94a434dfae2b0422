"""The lesson's clock: minutes of reading and exercises from the notebooks, and the plan in docs/teaching.md that uses them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from helpers import ROOT
from wstutorial.teaching import lesson_clock
from wstutorial.teaching.lesson_clock import ExerciseClock, main, notebook_clock, table

NOTEBOOKS = sorted((ROOT / "notebooks").glob("0*.ipynb"))
NOTES = (ROOT / "docs" / "teaching.md").read_text(encoding="utf-8")


def test_an_exercise_costs_its_reading_thinking_writing_and_checks() -> None:
    """The sum, part by part, at the stated rates."""
    exercise = ExerciseClock("x.ipynb", "Exercise: x", "upper_case", True, words=150, start_lines=10, written=60)
    check = lesson_clock.CHECK_SECONDS["upper_case"]
    expected = 1 + 1 + lesson_clock.THINK_MINUTES + 1 + 3 * (check / 60 + lesson_clock.MESSAGE_WORDS / 150) + lesson_clock.FIX_MINUTES
    assert exercise.minutes == pytest.approx(expected)


def test_exercise_sections_their_files_and_the_deeper_ones(tmp_path: Path) -> None:
    """A section whose heading says Exercise: its words, the check it calls, the starting point and solution it names."""
    (tmp_path / "exercises").mkdir()
    (tmp_path / "solutions").mkdir()
    (tmp_path / "exercises" / "echo_roundtrip.py").write_text("def ask():\n    ...\n")
    (tmp_path / "solutions" / "echo_roundtrip.py").write_text("def ask():\n    return 42\n")
    cells = [
        {"cell_type": "markdown", "source": "# T\n\n## 1. Core\n\none two"},
        {"cell_type": "code", "source": "x = 1"},
        {"cell_type": "markdown", "source": "## Exercise: ask\n\nthree four five"},
        {"cell_type": "code", "source": "# %load exercises/echo_roundtrip.py\n"},
        {"cell_type": "code", "source": "await check_echo(ask)"},
        {"cell_type": "markdown", "source": "## Deeper: exercise: more\n\nsix"},
        {"cell_type": "code", "source": "check_ping(ping)"},
        {"cell_type": "markdown", "source": "## Summary\n\nseven"},
    ]
    path = tmp_path / "02-x.ipynb"
    path.write_text(json.dumps({"cells": cells}))
    clock = notebook_clock(path)
    core, deeper = clock.exercises
    assert (core.name, core.core, core.words, core.start_lines, core.written) == ("echo", True, 5, 2, 8)
    assert (deeper.name, deeper.core) == ("ping", False)
    assert clock.core_words == 5 + 5 + 2  # "T 1. Core one two", the exercise, "Summary seven"
    assert clock.reading_minutes == pytest.approx((clock.core_words - 5) / lesson_clock.READING_WPM)


def test_the_notes_table_is_the_clock_of_the_notebooks_as_they_are() -> None:
    """docs/teaching.md's table (between its markers) within a minute or 10 % of what the notebooks give now."""
    written = NOTES.split("<!-- lesson clock: begin -->")[1].split("<!-- lesson clock: end -->")[0]
    shown = {row[0]: int(row[1]) for row in re.findall(r"^\| `([^`]+)` \|.*\| (\d+) min \|$", written, re.MULTILINE)}
    now = {clock.name: clock.minutes for clock in map(notebook_clock, NOTEBOOKS)}
    assert set(shown) == set(now), "the table lists other notebooks than notebooks/ has"
    off = {name: (shown[name], round(now[name])) for name in now if abs(shown[name] - now[name]) > max(1.0, 0.1 * now[name])}
    assert off == {}, (
        f"the notebooks changed the lesson's clock {off} (shown, now): put this table in docs/teaching.md and check "
        f"the lesson plan's minutes against it:\n{table([notebook_clock(path) for path in NOTEBOOKS])}"
    )


def test_the_plans_parts_follow_each_other_to_the_end_of_the_class() -> None:
    """The 90-minute plan: each part starts where the one before ended, and the last ends at 1:30."""
    plan = NOTES.split("## Lesson plan (90 minutes)")[1].split("\n## ")[0]
    parts = re.findall(r"^\| (\d):(\d\d) \| [^|]*?\((\d+) min", plan, re.MULTILINE)
    assert len(parts) >= 8
    clock = 0
    for hours, minutes, length in parts:
        assert int(hours) * 60 + int(minutes) == clock, f"a part starts at {hours}:{minutes}, the one before ended at {clock} min"
        clock += int(length)
    assert clock == 90


def test_the_command_prints_the_table_and_each_exercise(capsys: pytest.CaptureFixture[str]) -> None:
    """python -m wstutorial.teaching.lesson_clock NOTEBOOK...: the table, then one line per exercise with its parts."""
    assert main([str(path) for path in NOTEBOOKS[1:3]]) == 0
    out = capsys.readouterr().out
    assert "| `01-hello-server.ipynb` |" in out and "check_upper_case, core" in out and "characters to write" in out
    assert main([]) == 2
