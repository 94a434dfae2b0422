"""Self-check results reach the registered reporters (and nobody else), named by their exercise.

The local progress file, with real processes (the kernels): two notebooks
open at once record into it at the same moment without losing a result,
and a lock held by a hung kernel does not hang a check.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import filelock
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


KERNELS = 2


EACH = 20  # KERNELS * EACH == MAX_KEPT: every result must be kept


# One kernel: says "ready", waits for "go" (all start together), records EACH results of its own.
KERNEL = """
import sys
from wstutorial.student import progress
kernel = sys.argv[1]
print("ready", flush=True)
sys.stdin.readline()
for number in range(int(sys.argv[2])):
    progress._keep(progress.Progress(f"kernel{kernel}_{number}", True, "ok"), "")
print("done", flush=True)
"""


def test_kernels_recording_at_once_lose_no_result(tmp_path: Path) -> None:
    assert KERNELS * EACH <= progress.MAX_KEPT
    path = tmp_path / "progress.json"
    env = {**os.environ, "WSTUTORIAL_PROGRESS_FILE": str(path)}
    kernels = [
        subprocess.Popen([sys.executable, "-c", KERNEL, str(k), str(EACH)], env=env, text=True,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for k in range(KERNELS)
    ]  # fmt: skip
    try:
        for kernel in kernels:
            assert kernel.stdout is not None and kernel.stdout.readline().strip() == "ready"
        for kernel in kernels:
            assert kernel.stdin is not None
            kernel.stdin.write("go\n")
            kernel.stdin.flush()
        outputs = [kernel.communicate(timeout=60) for kernel in kernels]
    finally:
        for kernel in kernels:
            kernel.kill()
    for kernel, (out, err) in zip(kernels, outputs, strict=True):
        assert kernel.returncode == 0 and out.strip() == "done" and err == "", err
    kept = json.loads(path.read_text(encoding="utf-8"))["results"]
    expected = {f"kernel{k}_{n}" for k in range(KERNELS) for n in range(EACH)}
    assert expected - set(kept) == set(), "results lost by concurrent updates"


def test_a_lock_held_by_a_hung_kernel_does_not_hang_a_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "progress.json"
    monkeypatch.setenv("WSTUTORIAL_PROGRESS_FILE", str(path))
    monkeypatch.setattr(progress, "LOCK_TIMEOUT", 0.2)
    # Another process holds the lock and never lets go (until the test ends).
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, filelock\nlock = filelock.FileLock(sys.argv[1])\nlock.acquire()\n"
         "print('held', flush=True)\nsys.stdin.readline()\n", str(path) + ".lock"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(filelock.Timeout):  # the lock really is held
            filelock.FileLock(str(path) + ".lock", timeout=0).acquire()
        progress._keep(progress.Progress("upper_case", True, "ok"), "")
    finally:
        holder.kill()
        holder.wait(timeout=10)
    assert "upper_case" in json.loads(path.read_text(encoding="utf-8"))["results"]
    assert "held for more than 0.2 s by another kernel" in caplog.text
