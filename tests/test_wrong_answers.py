"""Every exercise's check, walked through its table of wrong answers (tests/wrong_answers.py), for real.

Each row's code runs as a notebook cell would (compiled from text, its lines
known to ``linecache`` as IPython does), the check runs against a real
server, and the sentence must be exactly the row's: "Not yet: ..." naming
what to change, never an exception's text or an object's repr, and no
warning may outlive the check (a missing ``await`` is said, not warned
about later). Each solution file passes.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import linecache
import runpy
import warnings
from typing import Any, Callable, Iterator

import pytest

import wstutorial
from wrong_answers import ANSWERS, EXERCISES, NOTEBOOKS, Answer, pattern, starting_point
from wstutorial.address import free_port
from wstutorial.teaching.client_exercises import check_echo, check_origin_accepted, check_ping
from wstutorial.teaching.exercises import (
    check_count_clients,
    check_free_port,
    check_members_only,
    check_mini_chat,
    check_relay,
    check_stream_time,
    check_upper_case,
)
from wstutorial.teaching.protocol_exercises import check_add_type, check_backoff
from wstutorial.teaching.selfcheck import CheckResult

_cells = itertools.count(1)


def run_cell(code: str, namespace: dict[str, Any]) -> None:
    """Run ``code`` as IPython runs a cell: compiled under a file name of its own, its lines in linecache."""
    filename = f"/tmp/ipykernel_test/cell-{next(_cells)}.py"
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    exec(compile(code, filename, "exec"), namespace)  # noqa: S102 - the student's cell, as the kernel runs it


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    from wstutorial.services.redisserver import start_redis

    with start_redis() as server:
        yield server.url


def check_free_port_cell(code: str) -> CheckResult:
    """Notebook 00: the console's server runs (section 2), then the student's cell, then the check."""
    console = wstutorial.start_server()
    try:
        namespace: dict[str, Any] = {"server": console}
        run_cell(code.format(console_port=console.port, fixed_port=free_port()), namespace)
        return check_free_port(namespace["extra"], console)
    finally:
        for running in list(wstutorial.running_servers()):
            running.stop()


# exercise -> (the name the cell defines, how to run the check on it)
CHECKS: dict[str, tuple[str, Callable[..., CheckResult]]] = {
    "upper_case": ("UpperCaseHandler", check_upper_case),
    "echo_roundtrip": ("ask", lambda ask: asyncio.run(check_echo(ask))),
    "origin_accepted": ("origin_accepted", lambda function: asyncio.run(check_origin_accepted(function))),
    "stream_time": ("StreamTimeHandler", check_stream_time),
    "count_clients": ("CountClientsHandler", check_count_clients),
    "ping_pong": ("ping", check_ping),
    "mini_chat": ("MiniChatHandler", check_mini_chat),
    "add_type": ("AddHandler", check_add_type),
    "backoff_delay": ("delay", check_backoff),
    "members_only": ("MembersOnlyHandler", check_members_only),
}


def run_answer(exercise: str, code: str, redis: Callable[[], str]) -> CheckResult:
    # As in the notebook: the exercise's cell starts with the line that loaded it (lines count from there).
    code = f"# %load exercises/{exercise}.py\n{code}"
    if exercise == "free_port":
        return check_free_port_cell(code)
    namespace: dict[str, Any] = {"__name__": "__main__"}
    run_cell(code, namespace)
    if exercise == "relay":
        return asyncio.run(check_relay(namespace["relay"], redis()))
    name, check = CHECKS[exercise]
    return check(namespace[name])


# What a check's sentence never holds: an exception's text, an object's repr, a traceback.
FORBIDDEN = ("Traceback", " object at 0x", "<bound method", "<function ", "Exception in callback", "the check stopped",
             "(the server recorded", "can't send non-None", "was never awaited")


@pytest.mark.parametrize("answer", ANSWERS, ids=lambda answer: answer.id)
def test_a_wrong_answer_gets_what_to_change(answer: Answer, request: pytest.FixtureRequest) -> None:
    """The row's answer gets exactly its sentence: Not yet, what to change, no exception text, no lasting warning."""
    code = answer.code if answer.code is not None else starting_point(answer.exercise)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run_answer(answer.exercise, code, lambda: request.getfixturevalue("redis_url"))
        gc.collect()  # a coroutine left behind would warn now, in the student's next cell
    shown = str(result)
    assert not result.passed and shown.startswith("Not yet: "), shown
    assert pattern(answer.says).fullmatch(shown), f"\nexpected: {answer.says}\n     got: {shown}"
    assert not any(word in shown for word in FORBIDDEN), shown
    lasting = [str(warning.message) for warning in caught if issubclass(warning.category, RuntimeWarning)]
    assert not lasting, f"warnings outlived the check: {lasting}"


@pytest.mark.parametrize("exercise", EXERCISES)
def test_the_table_has_the_starting_point_and_three_mistakes(exercise: str) -> None:
    """Each exercise's table: the untouched starting point and at least three wrong answers."""
    rows = [answer for answer in ANSWERS if answer.exercise == exercise]
    assert sum(answer.code is None for answer in rows) == 1
    assert len(rows) >= 4, f"{exercise} has only {len(rows) - 1} wrong answers"


# Exercises whose table lives beside their own check's tests: the standalone
# program (notebook 04) runs as a process of its own, with its page.
TABLES_ELSEWHERE = {"hello_app": "tests/teaching/test_program_exercises.py (WRONG_ANSWERS)"}


def test_every_python_exercise_has_a_table() -> None:
    """No exercise file without its table of wrong answers (here, or where TABLES_ELSEWHERE says, with three or more)."""
    assert set(EXERCISES) | set(TABLES_ELSEWHERE) == {path.stem for path in (NOTEBOOKS / "exercises").glob("*.py")}
    from teaching.test_program_exercises import WRONG_ANSWERS

    assert any("untouched" in row[0] for row in WRONG_ANSWERS) and len(WRONG_ANSWERS) >= 4


@pytest.mark.parametrize("exercise", EXERCISES)
def test_the_solution_passes(exercise: str, request: pytest.FixtureRequest) -> None:
    """The solution file passes its check, with a sentence saying what was right and no warning."""
    code = (NOTEBOOKS / "solutions" / f"{exercise}.py").read_text(encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run_answer(exercise, code, lambda: request.getfixturevalue("redis_url"))
        gc.collect()
    assert result.passed, str(result)
    assert str(result).startswith("Passed: ") and "\n" not in str(result)
    assert not [warning for warning in caught if issubclass(warning.category, RuntimeWarning)]


def test_a_correct_run_after_a_missing_await_shows_no_warning() -> None:
    """The 'coroutine was never awaited' of a wrong answer does not stick to the next, correct run."""
    wrong = next(answer for answer in ANSWERS if answer.kind == "no await before connect" and answer.exercise == "echo_roundtrip")
    assert wrong.code is not None
    namespace: dict[str, Any] = {}
    run_cell(wrong.code, namespace)
    asyncio.run(check_echo(namespace["ask"]))
    right = runpy.run_path(str(NOTEBOOKS / "solutions" / "echo_roundtrip.py"))["ask"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        passed = asyncio.run(check_echo(right))
        gc.collect()
    assert passed, str(passed)
    assert not caught, [str(warning.message) for warning in caught]
