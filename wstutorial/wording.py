"""Small helpers for sentences the learner reads."""

from __future__ import annotations

__all__ = ["count"]


def count(number: int, noun: str, plural: str | None = None) -> str:
    """``count(1, "line")`` → ``"1 line"``, ``count(2, "line")`` → ``"2 lines"``."""
    return f"{number} {noun if number == 1 else (plural or noun + 's')}"
