"""The tutorial's exercises, in the order of the lesson: what the teacher's board knows.

Each exercise is named as its check is (``check_mini_chat`` checks
``mini_chat``), belongs to one notebook, and is either on the core path of a
90-minute class or homework (``docs/teaching.md``'s plan). The classroom's
board shows the core exercises as columns in this order and the homework
apart; it stores results of these exercises only, so a student's message
cannot invent columns. ``tests/test_curriculum.py`` checks that every
``check_*`` of ``wstutorial.teaching`` is listed here: a new exercise is
added here too.
"""

from __future__ import annotations

import dataclasses

__all__ = ["Exercise", "EXERCISES", "core", "homework", "known"]


@dataclasses.dataclass(frozen=True)
class Exercise:
    """One exercise: its check's name, its notebook's number, and whether a class does it together."""

    name: str
    notebook: str
    core: bool


EXERCISES: tuple[Exercise, ...] = (
    Exercise("free_port", "00", core=False),  # the set-up check, done before class
    Exercise("upper_case", "01", core=True),
    Exercise("echo", "02", core=True),
    Exercise("send_on_open", "03", core=True),
    Exercise("reconnect", "03", core=False),
    Exercise("origin_accepted", "03", core=False),
    # 03's own program (Tornado alone, its page from the same origin): 23 minutes by docs/teaching.md's
    # clock, too many for the 90-minute plan, which gives it as homework; the two-session plan does it in class.
    Exercise("hello_app", "03", core=False),
    Exercise("stream_time", "04", core=False),
    Exercise("count_clients", "04", core=True),
    Exercise("ping", "05", core=False),
    Exercise("mini_chat", "06", core=True),
    Exercise("add_type", "07", core=False),
    Exercise("backoff", "07", core=False),
    Exercise("members_only", "08", core=False),
    Exercise("relay", "09", core=False),
)


def core(exercises: tuple[Exercise, ...] = EXERCISES) -> list[str]:
    """The names of the core path's exercises, in lesson order."""
    return [exercise.name for exercise in exercises if exercise.core]


def homework(exercises: tuple[Exercise, ...] = EXERCISES) -> list[str]:
    """The names of the homework exercises, in lesson order."""
    return [exercise.name for exercise in exercises if not exercise.core]


def known(name: str, exercises: tuple[Exercise, ...] = EXERCISES) -> bool:
    """True for the name of one of ``exercises``."""
    return any(exercise.name == name for exercise in exercises)
