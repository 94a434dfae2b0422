"""Small helpers for sentences the learner reads."""

from __future__ import annotations

__all__ = ["count", "a_or_an"]


def count(number: int, noun: str, plural: str | None = None) -> str:
    """``count(1, "line")`` → ``"1 line"``, ``count(2, "line")`` → ``"2 lines"``."""
    return f"{number} {noun if number == 1 else (plural or noun + 's')}"


def a_or_an(word: str) -> str:
    """``word`` after its indefinite article, by its first letter: ``"a list"``, ``"an OrderedDict"``."""
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"
