"""What every check shares: its one-sentence result, describe(), and run_check turning anything the student's code does into a sentence.

The student's code here is compiled from text under a cell's file name with
its lines in ``linecache``, as IPython runs a notebook cell.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import linecache
import warnings
from typing import Any

import pytest

from wstutorial.teaching.selfcheck import CheckResult, NotYet, describe, run_check, run_check_async

_cells = itertools.count(1)


def cell(code: str) -> dict[str, Any]:
    """Run ``code`` as a notebook cell (its own file name, its lines in linecache); return its names."""
    filename = f"/tmp/ipykernel_selfcheck/cell-{next(_cells)}.py"
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    namespace: dict[str, Any] = {}
    exec(compile(code, filename, "exec"), namespace)  # noqa: S102 - the student's cell, as the kernel runs it
    return namespace


def test_a_result_is_its_sentence_and_its_truth() -> None:
    """str and repr are 'Passed: ...' or 'Not yet: ...'; bool is whether it passed."""
    passed, failed = CheckResult(True, "your handler answers"), CheckResult(False, "send text")
    assert (bool(passed), str(passed), repr(passed)) == (True, "Passed: your handler answers", "Passed: your handler answers")
    assert (bool(failed), str(failed), repr(failed)) == (False, "Not yet: send text", "Not yet: send text")


class Sensor:
    pass


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "None"),
        (False, "False"),
        (3, "the number 3"),
        (2.5, "the number 2.5"),
        ("HELLO", "'HELLO'"),
        ("x" * 61, repr("x" * 57) + "..."),
        (b"\x81hi", "bytes b'\\x81hi'"),
        (bytes(41), f"bytes {bytes(40)!r}..."),
        (Ellipsis, "... (the starting point's placeholder)"),
        (Sensor, "the class Sensor"),
        (len, "the function len itself (not called)"),
        ([1, 2], "a list of 2"),
        ({"a": 1}, "a dict of 1"),
        (Sensor(), "a Sensor object"),
        (collections.OrderedDict(), "an OrderedDict of 0"),
        (asyncio.Event(), "an Event object"),
    ],
)
def test_describe_shows_text_and_numbers_as_written_and_anything_else_by_its_kind(value: object, shown: str) -> None:
    """Never an object's repr (no addresses): text quoted and cut at 60, bytes at 40, other values named by kind."""
    assert describe(value) == shown


def test_describe_names_an_unawaited_call_without_a_warning_later() -> None:
    """A coroutine is shown as the call that lacks its await (a method by its owner in lower case)."""
    sensor = cell("class Sensor:\n    async def read(self):\n        return 1\n")["Sensor"]()
    coroutine = sensor.read()
    try:
        assert describe(coroutine) == "a coroutine (sensor.read(...) without await)"
    finally:
        coroutine.close()


def test_an_exception_in_the_students_code_is_its_kind_function_line_and_fix() -> None:
    """Not the exception's text: the student's function, the line it stopped at (number and code), and the usual fix."""
    average = cell("def average(numbers):\n    total = sum(numbers)\n    return total / len(numbers)\n")["average"]
    result = run_check(lambda: f"the average is {average([])}")
    assert str(result) == (
        "Not yet: your average stopped with ZeroDivisionError at line 3 (return total / len(numbers)): "
        "that line divides by zero"
    )
    parse = cell("def parse(text):\n    raise LookupError('secret internals ' + text)\n")["parse"]
    result = run_check(lambda: parse("x"))
    assert str(result) == (
        "Not yet: your parse stopped with LookupError at line 2 (raise LookupError('secret internals ' + text)): "
        "correct that line, run its cell again, then the check"
    )


def test_not_yet_passes_and_explain_give_the_sentence() -> None:
    """NotYet's sentence is the result; a body that returns passes; explain() may name a better cause, even after a pass."""
    def refuse() -> str:
        raise NotYet("send the answer as text")

    assert str(run_check(refuse)) == "Not yet: send the answer as text"
    assert str(run_check(lambda: "the server answered")) == "Passed: the server answered"
    seen: list[object] = []

    def explain(failure: BaseException | None) -> str | None:
        seen.append(failure)
        return "the class keeps the timer" if failure is None else None

    assert str(run_check(lambda: "the server answered", explain)) == "Not yet: the class keeps the timer"
    assert str(run_check(refuse, explain)) == "Not yet: send the answer as text"
    assert seen[0] is None and isinstance(seen[1], NotYet)


def test_a_missing_await_is_the_sentence_and_no_warning_escapes() -> None:
    """A coroutine made and dropped in the check's run wins over a pass, and Python's 'never awaited' warning is kept in."""
    ask = cell("async def ask(question):\n    return 42\n")["ask"]

    def body() -> str:
        ask("the answer")  # the student's code, missing its await
        return "the answer came"

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run_check(body)
    assert str(result) == "Not yet: you called ask(...) without await, so it never ran: write await ask(...)"
    assert [str(warning.message) for warning in caught] == []


def test_other_warnings_of_the_students_code_pass_through() -> None:
    """Only 'never awaited' is caught: any other warning is shown as it would have been, and the check passes."""
    old = cell("import warnings\ndef old():\n    warnings.warn('old() is deprecated', DeprecationWarning)\n    return 'ok'\n")["old"]
    with pytest.warns(DeprecationWarning, match="old\\(\\) is deprecated"):
        result = run_check(lambda: f"old() returned {old()}")
    assert str(result) == "Passed: old() returned ok"


def test_run_check_async_says_what_cannot_be_awaited_and_what_was_not() -> None:
    """Awaiting a plain value points to a missing await where it was made; a method called without await is named."""
    names = cell(
        "import asyncio\n"
        "class Client:\n"
        "    async def send(self, text):\n"
        "        await asyncio.sleep(0)\n"
        "async def greet(client):\n"
        "    client.send('hello')\n"
        "    size = len('hello')\n"
        "    await size\n"
    )
    greet, client = names["greet"], names["Client"]()

    async def body() -> str:
        await greet(client)
        return "greeted"

    result = asyncio.run(run_check_async(body))
    assert str(result) == "Not yet: you called client.send(...) without await, so it never ran: write await client.send(...)"
    result = asyncio.run(run_check_async(lambda: greet(None)))  # None.send: an AttributeError before the await
    assert str(result) == (
        "Not yet: your greet stopped with AttributeError at line 6 (client.send('hello')): "
        "a name after a dot on that line does not exist (a typo, or an attribute never set)"
    )
    awaits = cell("async def count():\n    size = len('hello')\n    return await size\n")["count"]
    result = asyncio.run(run_check_async(awaits))
    assert str(result) == (
        "Not yet: your count stopped with TypeError at line 3 (return await size): "
        "a value on that line cannot be awaited; is an await missing where it was made?"
    )
