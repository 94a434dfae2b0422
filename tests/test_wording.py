"""count() and a_or_an(): a number and its noun, a noun and its article, in the sentences the learner reads."""

from __future__ import annotations

import pytest

from wstutorial.wording import a_or_an, count


@pytest.mark.parametrize(
    ("number", "expected"),
    [(1, "1 line"), (2, "2 lines"), (0, "0 lines"), (30, "30 lines")],
)
def test_one_is_singular_every_other_number_plural(number: int, expected: str) -> None:
    """Only exactly 1 takes the singular; 0 and many get an added s."""
    assert count(number, "line") == expected


def test_an_irregular_plural_is_used_as_given() -> None:
    """A plural passed in replaces the added s, and the singular stays as it is."""
    assert count(4, "process", "processes") == "4 processes"
    assert count(1, "process", "processes") == "1 process"
    assert count(2, "child", "children") == "2 children"


@pytest.mark.parametrize(("word", "expected"), [("list", "a list"), ("Event", "an Event"), ("OrderedDict", "an OrderedDict"), ("object", "an object")])
def test_the_article_follows_the_first_letter(word: str, expected: str) -> None:
    """'an' before a vowel, whatever its case; 'a' otherwise."""
    assert a_or_an(word) == expected
