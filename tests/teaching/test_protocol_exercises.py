"""Notebook 07's checks beyond the table of wrong answers (tests/wrong_answers.py)."""

from __future__ import annotations

from typing import Any

import pytest

from wstutorial import JsonHandler
from wstutorial.teaching.protocol_exercises import check_add_type, check_backoff


class NoReply(JsonHandler):
    fields = {**JsonHandler.fields, "add": {"numbers": list}}

    def handle_add(self, message: dict[str, Any]) -> None:
        sum(message["numbers"])


@pytest.mark.parametrize(
    "handler, sentence",
    [
        (NoReply, 'no answer within 3 s to {"type": "add", "numbers": [1, 2, 3.5]}: return the reply from handle_add'),
        ("AddHandler", "expected a handler class such as AddHandler, got 'AddHandler'"),
        (JsonHandler, 'AddHandler.fields has no "add" type yet'),
    ],
)
def test_add_type_mistakes_get_sentences(handler: object, sentence: str) -> None:
    result = check_add_type(handler)
    assert not result.passed and str(result).startswith("Not yet: ")
    assert sentence in result.message, result.message


@pytest.mark.parametrize(
    "delay, sentence",
    [
        (lambda attempt, initial, maximum: -1.0, "returned -1.000, outside 0 to 1"),
        (lambda attempt, initial, maximum: "1", "delay returned '1', not a number of seconds"),
        ("delay", "expected the function delay, got 'delay'"),
    ],
)
def test_backoff_mistakes_get_sentences(delay: Any, sentence: str) -> None:
    result = check_backoff(delay)
    assert not result.passed
    assert sentence in result.message, result.message
