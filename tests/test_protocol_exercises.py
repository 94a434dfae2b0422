"""Notebook 07's self-checks: each solution passes, each starting point and each usual mistake gets a sentence."""

from __future__ import annotations

import random
import runpy
from pathlib import Path
from typing import Any

import pytest

from wstutorial import JsonHandler
from wstutorial.server.jsonproto import ProtocolError
from wstutorial.teaching.protocol_exercises import check_add_type, check_backoff

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def load(folder: str, name: str, attribute: str) -> Any:
    return runpy.run_path(str(NOTEBOOKS / folder / name))[attribute]


def test_add_type_solution_passes() -> None:
    result = check_add_type(load("solutions", "add_type.py", "AddHandler"))
    assert result.passed, result.message


def test_add_type_starting_point_says_what_to_add() -> None:
    result = check_add_type(load("exercises", "add_type.py", "AddHandler"))
    assert str(result) == 'Not yet: AddHandler.fields has no "add" type yet: add "add": {"numbers": list} to it'


class NoMethod(JsonHandler):
    fields = {**JsonHandler.fields, "add": {"numbers": list}}


class Unchecked(NoMethod):
    def handle_add(self, message: dict[str, Any]) -> dict[str, Any]:
        return {"type": "sum", "value": sum(message["numbers"])}


class CountsTrue(NoMethod):
    def handle_add(self, message: dict[str, Any]) -> dict[str, Any]:
        if not all(isinstance(item, (int, float)) for item in message["numbers"]):
            raise ProtocolError("numbers only")
        return {"type": "sum", "value": sum(message["numbers"])}


class Replaced(JsonHandler):
    fields = {"add": {"numbers": list}}  # the other types are gone


class NoReply(NoMethod):
    def handle_add(self, message: dict[str, Any]) -> None:
        sum(message["numbers"])


@pytest.mark.parametrize(
    "handler, sentence",
    [
        (NoMethod, "has no handle_add method"),
        (Unchecked, 'made handle_add fail with an exception instead of a clear error: raise ProtocolError("...")'),
        (Unchecked, "TypeError"),  # what the server recorded, for the learner
        (CountsTrue, "true is not a number in JSON"),
        (Replaced, "lost the types count, echo, ping: keep them with fields = {**JsonHandler.fields"),
        (NoReply, 'no answer within 3 s to {"type": "add", "numbers": [1, 2, 3.5]}: return the reply from handle_add'),
        ("AddHandler", "expected a class defined as 'class AddHandler(JsonHandler):'"),
    ],
)
def test_add_type_mistakes_get_sentences(handler: object, sentence: str) -> None:
    result = check_add_type(handler)
    assert not result.passed
    assert str(result).startswith("Not yet: ")
    assert sentence in result.message


def test_backoff_solution_passes() -> None:
    result = check_backoff(load("solutions", "backoff_delay.py", "delay"))
    assert result.passed, result.message


def test_backoff_starting_point_says_return() -> None:
    result = check_backoff(load("exercises", "backoff_delay.py", "delay"))
    assert str(result) == "Not yet: delay returned None: return the number of seconds to wait"


@pytest.mark.parametrize(
    "delay, sentence",
    [
        (lambda attempt, initial, maximum: min(maximum, initial * 2 ** (attempt - 1)), "returned 1 every time: add jitter"),
        (lambda attempt, initial, maximum: random.uniform(0, initial * 2 ** (attempt - 1)), "delay(10, 1, 30) returned"),
        (lambda attempt, initial, maximum: random.uniform(0, min(maximum, initial * 2**attempt)), "outside 0 to 1"),
        (lambda attempt, initial, maximum: random.uniform(0, 0.1), "spread them over the whole range"),
        (lambda attempt: 1.0, "delay raised TypeError"),
        ("delay", "expected the function delay"),
    ],
)
def test_backoff_mistakes_get_sentences(delay: Any, sentence: str) -> None:
    result = check_backoff(delay)
    assert not result.passed
    assert sentence in result.message
