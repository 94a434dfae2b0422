"""The classroom exercise (notebook 06): the check passes with the solution, fails with the stub."""

from __future__ import annotations

import runpy
from pathlib import Path

from wstutorial.teaching.exercises import CheckResult, check_mini_chat

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def load(folder: str) -> type:
    """MiniChatHandler as the notebook's '%load <folder>/mini_chat.py' cell defines it."""
    return runpy.run_path(str(NOTEBOOKS / folder / "mini_chat.py"))["MiniChatHandler"]


def test_solution_passes() -> None:
    """The solution sends each message to everyone with the name, and forgets who left."""
    result = check_mini_chat(load("solutions"))
    assert isinstance(result, CheckResult) and result.passed, result.message
    assert str(result).startswith("Passed: your handler ")


def test_starting_point_fails() -> None:
    """The empty starting point fails with a sentence, not a traceback."""
    result = check_mini_chat(load("exercises"))
    assert not result.passed and str(result).startswith("Not yet: Bob did not receive Ada's message")


def test_forgetting_the_name_or_the_leaver_is_explained() -> None:
    """Two typical mistakes get their own hint."""
    solution = load("solutions")

    class NoName(solution):  # type: ignore[misc,valid-type]
        def on_message(self, message):  # type: ignore[no-untyped-def]
            for client in self.room:
                client.write_message(message)

    NoName.room = set()
    result = check_mini_chat(NoName)
    assert not result.passed and "self.get_argument('name')" in result.message

    class KeepsLeavers(solution):  # type: ignore[misc,valid-type]
        def on_close(self):  # type: ignore[no-untyped-def]
            pass

    KeepsLeavers.room = set()
    result = check_mini_chat(KeepsLeavers)
    assert not result.passed and "on_close" in result.message


def test_not_a_handler_class() -> None:
    """Something else than a handler class is named."""
    assert "expected a handler class" in check_mini_chat("MiniChatHandler").message
