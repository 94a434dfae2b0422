"""Self-check results reach the registered reporters (and nobody else), named by their exercise."""

from __future__ import annotations

from typing import Iterator

import pytest

from wstutorial import TutorialHandler
from wstutorial.student import progress
from wstutorial.teaching.exercises import CheckResult, check_upper_case


class Shouter(TutorialHandler):
    def on_message(self, message: str | bytes) -> None:
        self.write_message(str(message).upper())


@pytest.fixture
def heard() -> Iterator[list[progress.Progress]]:
    results: list[progress.Progress] = []
    remove = progress.add_reporter(results.append)
    try:
        yield results
    finally:
        remove()


def test_a_check_result_is_reported_under_its_exercise(heard: list[progress.Progress]) -> None:
    """check_upper_case's result reaches the reporter as exercise 'upper_case', with its sentence."""
    result = check_upper_case(Shouter)
    assert result.passed
    assert heard == [progress.Progress("upper_case", True, result.message)]


def test_a_failed_check_is_reported_as_not_yet(heard: list[progress.Progress]) -> None:
    """A class that is no handler: reported as not passed, with the same sentence the student sees."""
    result = check_upper_case(42)
    assert [(p.exercise, p.passed, p.reason) for p in heard] == [("upper_case", False, result.message)]


def test_results_made_outside_a_check_are_not_reported(heard: list[progress.Progress]) -> None:
    """A CheckResult built by hand (tests, examples) belongs to no exercise."""
    CheckResult(True, "made by hand")
    assert heard == []


def test_without_a_reporter_nothing_happens_and_removing_works() -> None:
    """No reporter: a check runs as before; a removed reporter hears nothing more."""
    heard: list[progress.Progress] = []
    remove = progress.add_reporter(heard.append)
    remove()
    remove()  # twice is harmless
    assert check_upper_case(Shouter).passed
    assert heard == []


def test_a_broken_reporter_breaks_nothing(heard: list[progress.Progress]) -> None:
    """A reporter that raises cannot turn a check into a traceback; only the package's check_* functions count."""

    def broken(result: progress.Progress) -> None:
        raise RuntimeError("display gone")

    remove = progress.add_reporter(broken)
    try:

        def check_long_one() -> CheckResult:  # named like a check, defined in a test module
            return CheckResult(False, "x" * 1000)

        check_long_one()
        assert check_upper_case(Shouter).passed
    finally:
        remove()
    assert [p.exercise for p in heard] == ["upper_case"]  # check_long_one is not the package's: not an exercise


def test_reason_length_is_bounded() -> None:
    """The board shows one line: report() cuts a longer reason to MAX_REASON_LENGTH, ending in '...'."""
    heard: list[progress.Progress] = []
    remove = progress.add_reporter(heard.append)

    class Long:
        passed = False
        message = "y" * 1000

    try:
        # Called as a check in the package would: from a check_* function of a wstutorial module.
        exec(
            "def check_long_reason(report, result):\n    report(result)\n",
            namespace := {"__name__": "wstutorial.teaching.fake"},
        )
        namespace["check_long_reason"](_via_post_init(progress.report), Long())
    finally:
        remove()
    assert len(heard) == 1 and heard[0].exercise == "long_reason"
    assert len(heard[0].reason) == progress.MAX_REASON_LENGTH and heard[0].reason.endswith("...")


def _via_post_init(report):  # type: ignore[no-untyped-def]
    """report() looks two frames up for the check, as from CheckResult.__post_init__."""

    def __post_init__(result):  # type: ignore[no-untyped-def]
        report(result)

    return __post_init__


def test_an_awaited_check_is_reported_under_its_exercise(heard: list[progress.Progress]) -> None:
    """Checks of async code (``await check_echo(ask)``) are found through the awaiting coroutine's frame."""
    import asyncio

    import wstutorial
    from wstutorial.teaching.client_exercises import check_echo

    async def ask(url: str, text: str) -> str:
        async with await wstutorial.connect(url) as client:
            await client.send(text)
            return str(await client.receive(timeout=5))

    result = asyncio.run(check_echo(ask))
    assert result.passed, result
    assert [(p.exercise, p.passed) for p in heard] == [("echo", True)]
