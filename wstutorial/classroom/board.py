"""The teacher's progress board: each student's self-check results, by exercise.

A student's notebook that joined the room sends one JSON message per
self-check result (see ``teaching/progress.py``)::

    {"type": "progress", "exercise": "mini_chat", "passed": true, "reason": "your handler sent ..."}

The room keeps the newest result per student and exercise here and sends it
to the teacher's page only (other students do not see it). Like the chat,
everything is data: the page shows it with ``textContent``.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["ProgressBoard", "parse_progress", "MAX_EXERCISES", "MAX_STUDENTS", "MAX_EXERCISE_LENGTH", "MAX_REASON_LENGTH"]

# Bounds so that a student's loop cannot grow the teacher's page without end:
# the tutorial has about ten exercises, a class about thirty students.
MAX_EXERCISES = 40
MAX_STUDENTS = 200
MAX_EXERCISE_LENGTH = 40
MAX_REASON_LENGTH = 300

_EXERCISE = re.compile(r"[a-z][a-z0-9_]*\Z")


def parse_progress(data: dict[str, Any]) -> dict[str, Any]:
    """Check a ``progress`` message; return ``{"type": "progress", "exercise", "passed", "reason"}`` or raise ``ValueError``."""
    exercise, passed, reason = data.get("exercise"), data.get("passed"), data.get("reason", "")
    if not isinstance(exercise, str) or not _EXERCISE.match(exercise) or len(exercise) > MAX_EXERCISE_LENGTH:
        raise ValueError(
            f"a progress message needs an exercise name such as 'mini_chat' (lower case, digits, _; "
            f"at most {MAX_EXERCISE_LENGTH} characters), got {str(exercise)[:60]!r}"
        )
    if not isinstance(passed, bool):
        raise ValueError(f"a progress message's 'passed' must be true or false, got {passed!r:.40}")
    if not isinstance(reason, str) or len(reason) > MAX_REASON_LENGTH:
        size = len(reason) if isinstance(reason, str) else type(reason).__name__
        raise ValueError(f"a progress message's 'reason' is text of at most {MAX_REASON_LENGTH} characters, got {size}")
    return {"type": "progress", "exercise": exercise, "passed": passed, "reason": reason}


class ProgressBoard:
    """The newest result per student and exercise; a student who left keeps their row."""

    def __init__(self) -> None:
        self.exercises: list[str] = []  # in the order first reported: roughly the order of the lesson
        self.rows: dict[str, dict[str, dict[str, Any]]] = {}

    def record(self, name: str, exercise: str, passed: bool, reason: str) -> str | None:
        """Store a result; returns why it was not stored (too many exercises), or None."""
        if exercise not in self.exercises:
            if len(self.exercises) >= MAX_EXERCISES:
                return f"the board has room for {MAX_EXERCISES} exercises; {exercise!r} is not shown"
            self.exercises.append(exercise)
        row = self.rows.get(name)
        if row is None:
            if len(self.rows) >= MAX_STUDENTS:
                del self.rows[next(iter(self.rows))]  # the row that was added first goes
            row = self.rows[name] = {}
        row[exercise] = {"passed": passed, "reason": reason}
        return None

    def snapshot(self) -> dict[str, Any]:
        """The whole board, as the teacher's page receives it on connecting."""
        return {
            "type": "board",
            "exercises": list(self.exercises),
            "students": {name: dict(row) for name, row in sorted(self.rows.items(), key=lambda item: item[0].casefold())},
        }
