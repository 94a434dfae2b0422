"""The teacher's progress board: each student's self-check results, by exercise.

A student's notebook that joined the room sends one JSON message per
self-check result (see ``student/progress.py``)::

    {"type": "progress", "exercise": "mini_chat", "passed": true, "reason": "your handler sent ..."}

The room keeps the newest result per student and exercise here and sends it
to the teacher's page only (other students do not see it). Like the chat,
everything is data: the page shows it with ``textContent``.

A result may carry ``"at"``: when the check ran, in seconds since 1970 by the
student's clock. A notebook that joins sends the results it kept from before
(``student/progress.py``) in one ``progress_batch`` message; an earlier
result never replaces a newer one of the same student and exercise.

With a board file (``classroom --board-file PATH``) the board is saved as JSON
(a temporary file, then replaced: a crash never leaves half a file) and read
back when the server starts again.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from ..chatrules import EXERCISE_NAME, parse_progress
from ..jsontext import loads

__all__ = [
    "BoardFileError",
    "ProgressBoard",
    "MAX_EXERCISES",
    "MAX_STUDENTS",
]

# Bounds so that a student's loop cannot grow the teacher's page without end:
# the tutorial has about ten exercises, a class about thirty students.
MAX_EXERCISES = 40
MAX_STUDENTS = 200
BOARD_FILE_VERSION = 1


class BoardFileError(Exception):
    """A board file that cannot be read or used; ``str()`` names it and says what to do."""


class ProgressBoard:
    """The newest result per student and exercise; a student who left keeps their row."""

    def __init__(self) -> None:
        self.exercises: list[str] = []  # in the order first reported: roughly the order of the lesson
        self.rows: dict[str, dict[str, dict[str, Any]]] = {}
        self.changes = 0  # counts every stored result: the board file is saved when it moved

    def record(self, name: str, exercise: str, passed: bool, reason: str, at: float | None = None, *, earlier: bool = False) -> str | None:
        """Store a result; returns why it was not stored, or None.

        ``at``: when the check ran (default: now). ``earlier``: a result sent
        on joining, which never replaces a result of the same exercise that
        is at least as new.
        """
        at = time.time() if at is None else at
        known = self.rows.get(name, {}).get(exercise)
        if earlier and known is not None and known.get("at", 0.0) >= at:
            return "the board has a newer result"
        if exercise not in self.exercises:
            if len(self.exercises) >= MAX_EXERCISES:
                return f"the board has room for {MAX_EXERCISES} exercises; {exercise!r} is not shown"
            self.exercises.append(exercise)
        row = self.rows.get(name)
        if row is None:
            if len(self.rows) >= MAX_STUDENTS:
                del self.rows[next(iter(self.rows))]  # the row that was added first goes
            row = self.rows[name] = {}
        row[exercise] = {"passed": passed, "reason": reason, "at": at}
        self.changes += 1
        return None

    def snapshot(self) -> dict[str, Any]:
        """The whole board, as the teacher's page receives it on connecting."""
        return {
            "type": "board",
            "exercises": list(self.exercises),
            "students": {
                name: {exercise: {"passed": cell["passed"], "reason": cell["reason"]} for exercise, cell in row.items()}
                for name, row in sorted(self.rows.items(), key=lambda item: item[0].casefold())
            },
        }

    # -- the board file --------------------------------------------------------------------------

    def save(self, path: Path | str) -> None:
        """Write the board to ``path`` as JSON: a temporary file beside it, then replaced (never half a file)."""
        target = Path(path)
        data = {"version": BOARD_FILE_VERSION, "exercises": self.exercises, "students": self.rows}
        fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                json.dump(data, file, ensure_ascii=False)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, target)  # atomic on POSIX and Windows (same folder, same drive)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: Path | str) -> "ProgressBoard":
        """The board saved in ``path`` (an empty one if there is no such file); :class:`BoardFileError` if unusable."""
        source = Path(path)
        board = cls()
        what_to_do = "move it away (or pass another --board-file) and start again; it was left as it is"
        try:
            text = source.read_text(encoding="utf-8")
        except FileNotFoundError:
            return board
        except (OSError, UnicodeDecodeError) as error:
            raise BoardFileError(f"cannot read the board file {str(source)!r} ({error}): {what_to_do}") from None
        try:
            data = loads(text)
            if not isinstance(data, dict) or data.get("version") != BOARD_FILE_VERSION:
                raise ValueError(f"not a version-{BOARD_FILE_VERSION} board")
            for exercise in list(data["exercises"])[:MAX_EXERCISES]:  # the columns in the order the class met them
                if isinstance(exercise, str) and EXERCISE_NAME.match(exercise) and exercise not in board.exercises:
                    board.exercises.append(exercise)
            for name, row in dict(data["students"]).items():
                for exercise, cell in dict(row).items():
                    checked = parse_progress({"exercise": exercise, **cell})
                    board.record(str(name), exercise, checked["passed"], checked["reason"], checked.get("at", 0.0))
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            raise BoardFileError(f"the board file {str(source)!r} is not a saved progress board ({error}): {what_to_do}") from None
        board.changes = 0
        return board
