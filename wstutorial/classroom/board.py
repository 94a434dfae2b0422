"""The teacher's progress board: who joined, when each was last active, and each one's self-check results.

A student has a row from the moment they join the room (a notebook or
``chat.html``), keyed by their name as the room compares names (``name_key``:
``Ada``, ``ada`` and ``Аda`` with a Cyrillic А are one student). The row
belongs to the student who made it: the room gives them a *rejoin secret* in
its welcome, their notebook (``student/progress.py``) or browser keeps it,
and a later join under that name must bring it back. So someone who takes an
absent student's name cannot post results in their row; the teacher may
release a name (a student on another computer) from the teacher's page.

A student's notebook sends one JSON message per self-check result::

    {"type": "progress", "exercise": "mini_chat", "passed": true, "reason": "your handler sent ..."}

The board keeps the newest result per student and exercise, for the
exercises of the lesson only (``wstutorial.curriculum``): a made-up name gets
a notice and is not stored. A result may carry ``"at"``, when the check ran
by the student's clock; it is never later than the server's clock, and a
result sent on joining (``progress_batch``) never replaces a newer one.
Rows are never evicted: only a join makes one, and joins are limited per
address. Like the chat, everything is data: the teacher's page shows it with
``textContent``. ``store.py`` keeps the board in SQLite.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
import time
from typing import Any, Callable, Iterable

from ..chatrules import NameRejected, name_key
from ..curriculum import EXERCISES, Exercise
from ..messages import MessageType

__all__ = [
    "MAX_STUDENTS",
    "ProgressBoard",
    "Result",
    "Student",
    "hash_secret",
]

# Rows are made by joins only (limited per address); a lecture hall with
# workers has thousands of students, each row a few hundred bytes.
MAX_STUDENTS = 20_000


def hash_secret(secret: str) -> str:
    """What the board keeps of a rejoin secret: its SHA-256, so that a copied data file rejoins no one."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclasses.dataclass
class Result:
    """A student's newest result of one exercise."""

    passed: bool
    reason: str
    at: float  # when the check ran (the student's clock, never later than the server's)
    first: float  # when the board got this student's first result of this exercise (server's clock)
    passed_at: float | None = None  # when the board got their first pass of it; None: not passed yet


@dataclasses.dataclass
class Student:
    """One row of the board."""

    key: str  # name_key(name): how the room compares names
    name: str
    secret_hash: str  # '' : anyone may join under this name (released, or a rehearsal's simulated student)
    joined: float
    active: float  # the last time they joined, left or sent something (server's clock)
    results: dict[str, Result] = dataclasses.field(default_factory=dict)
    present: bool = False  # in the room now (not kept in the store)


class ProgressBoard:
    """Rows of students, by key; each row's newest result per exercise of the lesson.

    ``exercises``: the lesson's exercises (``wstutorial.curriculum``; a test
    may pass others). ``clock``: seconds since 1970 (injectable for tests).
    ``dirty`` holds the keys of rows changed since the store last saved them.
    """

    def __init__(self, exercises: Iterable[Exercise] = EXERCISES, clock: Callable[[], float] = time.time) -> None:
        self.exercises: tuple[Exercise, ...] = tuple(exercises)
        self._known = {exercise.name for exercise in self.exercises}
        self.students: dict[str, Student] = {}
        self.clock = clock
        self.current = ""  # the exercise the teacher marked as the class's current one ('' : the page decides)
        self.current_since = 0.0
        self.dirty: set[str] = set()
        self.changes = 0  # counts every change: the store saves when it moved

    # -- rows ------------------------------------------------------------------------------------

    def find(self, name: str) -> Student | None:
        """The row of ``name`` (compared as the room compares names), or None."""
        return self.students.get(name_key(name))

    def admit(self, name: str, secret: str = "", *, bound: bool = True) -> tuple[Student, str]:
        """Let ``name`` in: its row (made now if new) and a new rejoin secret ('' when the row already has one).

        A row that has a secret admits only a join that brings it:
        :class:`NameRejected` otherwise. ``bound=False`` (a rehearsal's
        simulated students) makes or uses a row without a secret.
        """
        key = name_key(name)
        now = self.clock()
        student = self.students.get(key)
        issued = ""
        if student is None:
            if len(self.students) >= MAX_STUDENTS:
                raise NameRejected(f"the board is full ({MAX_STUDENTS} students); ask the teacher")
            issued = secrets.token_urlsafe(18) if bound else ""
            student = self.students[key] = Student(key, name, hash_secret(issued) if issued else "", now, now)
        elif student.secret_hash:
            if not secret or not hmac.compare_digest(hash_secret(secret), student.secret_hash):
                # A close reason holds 123 bytes: short, and the notebook adds a name to use instead.
                raise NameRejected(f"name {student.name!r} is taken in this class; if it is yours, ask the teacher to release it")
        elif bound:  # released by the teacher: whoever joins now owns it
            issued = secrets.token_urlsafe(18)
            student.secret_hash, student.name = hash_secret(issued), name
        student.active = now
        self._changed(key)
        return student, issued

    def release(self, key: str) -> bool:
        """Forget a row's secret (the teacher's choice): the next join under its name owns it. False if unknown."""
        student = self.students.get(key)
        if student is None:
            return False
        student.secret_hash = ""
        self._changed(key)
        return True

    def set_present(self, key: str, present: bool) -> None:
        student = self.students.get(key)
        if student is not None:
            student.present = present
            student.active = self.clock()
            self._changed(key)

    def touch(self, key: str) -> float | None:
        """Note activity of a row now; returns the time (None for an unknown key)."""
        student = self.students.get(key)
        if student is None:
            return None
        student.active = self.clock()
        self._changed(key)
        return student.active

    # -- results -----------------------------------------------------------------------------------

    def record(
        self, key: str, exercise: str, passed: bool, reason: str, at: float | None = None, *, earlier: bool = False
    ) -> str | None:
        """Store a result in row ``key``; returns why it was not stored (a sentence), or None.

        ``at``: when the check ran (default: now; never later than now).
        ``earlier``: a result sent on joining, which never replaces a result
        of the same exercise that is at least as new.
        """
        if exercise not in self._known:
            return self.unknown(exercise)
        student = self.students.get(key)
        if student is None:
            return "join the room first: the board keeps results of students in the room"
        now = self.clock()
        at = now if at is None else min(float(at), now)
        known = student.results.get(exercise)
        if earlier and known is not None and known.at >= at:
            return "the board has a newer result"
        if known is None:
            known = student.results[exercise] = Result(passed, reason, at, first=now)
        else:
            known.passed, known.reason, known.at = passed, reason, at
        if passed and known.passed_at is None:
            known.passed_at = now
        student.active = now
        self._changed(key)
        return None

    def knows(self, exercise: str) -> bool:
        """True for an exercise of the lesson."""
        return exercise in self._known

    def unknown(self, exercise: str) -> str:
        """The notice for a result of an exercise the lesson does not have."""
        names = ", ".join(sorted(self._known))
        return f"{exercise[:40]!r} is not one of the tutorial's exercises, so the board did not keep it (it keeps: {names})"

    def set_current(self, exercise: str) -> str | None:
        """Mark ``exercise`` as the class's current one ('' : let the page decide); returns why not, or None."""
        if exercise and exercise not in self._known:
            return self.unknown(exercise)
        self.current, self.current_since = exercise, self.clock()
        self.changes += 1
        return None

    def _changed(self, key: str) -> None:
        self.dirty.add(key)
        self.changes += 1

    # -- what the teacher's page receives ----------------------------------------------------------

    def exercises_message(self) -> list[dict[str, Any]]:
        return [{"name": e.name, "notebook": e.notebook, "core": e.core} for e in self.exercises]

    @staticmethod
    def result_message(key: str, exercise: str, result: Result) -> dict[str, Any]:
        return {
            "type": MessageType.PROGRESS, "key": key, "exercise": exercise, "passed": result.passed, "reason": result.reason,
            "at": result.at, "first": result.first, "passed_at": result.passed_at,
        }  # fmt: skip

    @staticmethod
    def student_message(student: Student) -> dict[str, Any]:
        """A row without its results (``{"type": "student", ...}``): on joining, leaving, a release."""
        return {
            "type": MessageType.STUDENT, "key": student.key, "name": student.name, "present": student.present,
            "joined": student.joined, "active": student.active, "bound": bool(student.secret_hash),
        }  # fmt: skip

    def snapshot(self) -> dict[str, Any]:
        """The whole board, as the teacher's page receives it on connecting. Lists, never objects keyed by names."""
        students = []
        for student in sorted(self.students.values(), key=lambda s: s.name.casefold()):
            row = self.student_message(student)
            del row["type"]
            row["results"] = [
                {k: v for k, v in self.result_message(student.key, exercise, result).items() if k not in ("type", "key")}
                for exercise, result in student.results.items()
            ]
            students.append(row)
        return {
            "type": MessageType.BOARD, "now": self.clock(), "exercises": self.exercises_message(),
            "current": self.current, "current_since": self.current_since, "students": students,
        }  # fmt: skip

    def rows(self) -> list[tuple[str, str, bool | None, str, float | None]]:
        """One (student, exercise, passed, reason, at) per result, students by name, exercises in lesson order.

        A student without results has one row with exercise '' and passed None (the CSV export).
        """
        order = {exercise.name: number for number, exercise in enumerate(self.exercises)}
        lines: list[tuple[str, str, bool | None, str, float | None]] = []
        for student in sorted(self.students.values(), key=lambda s: s.name.casefold()):
            if not student.results:
                lines.append((student.name, "", None, "", None))
            for exercise in sorted(student.results, key=lambda name: order.get(name, len(order))):
                result = student.results[exercise]
                lines.append((student.name, exercise, result.passed, result.reason, result.at))
        return lines
