"""Who hears about self-check results: a registry of reporters.

Every :class:`~wstutorial.teaching.exercises.CheckResult` that a
``check_<exercise>`` function makes is handed to :func:`report`. With no
reporter registered (the usual case) that is all: nothing is stored or sent.
A student's notebook that has joined the classroom under their name
(``ChatState(..., report_progress=True)``) registers one while it is in the
room, and the result goes to the teacher's progress board.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Protocol

logger = logging.getLogger("wstutorial")

__all__ = ["MAX_REASON_LENGTH", "Progress", "Reporter", "add_reporter", "exercise_name", "report"]

# The board shows one line per result: a long reason is cut (with "...").
MAX_REASON_LENGTH = 300
# How far up the stack report() looks for the check_* function (its callers are a few frames away).
_MAX_FRAMES = 12


class _Result(Protocol):
    @property
    def passed(self) -> bool: ...

    @property
    def message(self) -> str: ...


@dataclasses.dataclass(frozen=True)
class Progress:
    """One self-check result: which exercise, passed or not yet, and the one-line reason."""

    exercise: str
    passed: bool
    reason: str


Reporter = Callable[[Progress], None]

_reporters: list[Reporter] = []
_lock = threading.Lock()


def add_reporter(reporter: Reporter) -> Callable[[], None]:
    """Call ``reporter(progress)`` for every check result from now on; returns a function that removes it."""
    with _lock:
        _reporters.append(reporter)

    def remove() -> None:
        with _lock:
            if reporter in _reporters:
                _reporters.remove(reporter)

    return remove


def exercise_name(depth: int = 1) -> str:
    """The exercise a result belongs to: the name of the nearest ``check_<exercise>`` function calling us ('' if none).

    The checks are named for their exercise (``check_mini_chat`` for
    ``exercises/mini_chat.py``), so a new check is reported without registering it.
    """
    frame: FrameType | None = sys._getframe(depth)
    for _ in range(_MAX_FRAMES):
        if frame is None:
            break
        name = frame.f_code.co_name
        if name.startswith("check_") and str(frame.f_globals.get("__name__", "")).startswith("wstutorial."):
            return name[len("check_"):]
        frame = frame.f_back
    return ""


def report(result: _Result) -> None:
    """Hand ``result`` to every reporter (called when a check makes its result). Never raises."""
    with _lock:
        reporters = list(_reporters)
    if not reporters:
        return
    exercise = exercise_name(2)
    if not exercise:
        return  # a CheckResult made outside a check (tests, examples): not an exercise result
    reason = str(result.message)
    if len(reason) > MAX_REASON_LENGTH:
        reason = reason[: MAX_REASON_LENGTH - 3] + "..."
    progress = Progress(exercise, bool(result.passed), reason)
    for reporter in reporters:
        try:
            reporter(progress)
        except Exception:  # a broken reporter must never turn a check into a traceback
            logger.exception("progress reporter %r failed", reporter)
