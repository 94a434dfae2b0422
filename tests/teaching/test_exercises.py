"""The handler checks beyond the table of wrong answers (tests/wrong_answers.py): what is not a handler, a greeting."""

from __future__ import annotations

import pytest

from wstutorial import HelloHandler, TutorialHandler
from wstutorial.teaching.exercises import check_count_clients, check_stream_time, check_upper_case


@pytest.mark.parametrize("check", [check_upper_case, check_count_clients, check_stream_time])
@pytest.mark.parametrize(
    ("thing", "expected"),
    [
        ("UpperCaseHandler", "expected a handler class such as "),
        (int, "int is not a WebSocket handler of the right kind: define it as 'class "),
        (None, "expected a handler class such as "),
    ],
)
def test_not_a_handler(check, thing: object, expected: str) -> None:
    """Passing something that is not a handler class says so, and what to write."""
    result = check(thing)
    assert not result.passed and expected in result.message, result.message
    assert "(TutorialHandler):'" in result.message or "got" in result.message


def test_instance_instead_of_class() -> None:
    """An instance (not the class) is named."""

    class Fake(TutorialHandler):
        def __init__(self) -> None:  # an instance without a request
            pass

    result = check_upper_case(Fake())
    assert not result.passed and "pass the class itself (Fake)" in result.message


class Shouting(HelloHandler):
    """Says Hello World on open (allowed), then shouts: passes."""

    def on_message(self, message):
        self.write_message(message.upper())


def test_a_greeting_on_open_is_allowed() -> None:
    """A handler that greets with Hello World before shouting passes."""
    result = check_upper_case(Shouting)
    assert result.passed, str(result)
