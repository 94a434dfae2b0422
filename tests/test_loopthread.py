"""LoopThread: an asyncio loop in its own daemon thread, reached from other threads, stopped without leftovers."""

from __future__ import annotations

import asyncio
import gc
import threading
import warnings
from typing import Iterator

import pytest

from helpers import poll_until
from wstutorial.loopthread import LoopThread


@pytest.fixture
def loop_thread() -> Iterator[LoopThread]:
    """A started LoopThread named 'test-loop', stopped after the test."""
    running = LoopThread("test-loop")
    running.start()
    try:
        yield running
    finally:
        running.stop()


def test_run_returns_the_result_computed_on_the_loops_own_thread(loop_thread: LoopThread) -> None:
    """run() waits for the coroutine's value; the coroutine ran on the named daemon thread, not the caller's."""

    async def where() -> tuple[str, bool, bool]:
        return threading.current_thread().name, loop_thread.in_thread(), asyncio.get_running_loop() is loop_thread.loop

    assert loop_thread.run(where()) == ("test-loop", True, True)
    assert not loop_thread.in_thread() and loop_thread.thread.daemon and loop_thread.is_alive()


def test_the_loop_before_start_is_an_error_naming_the_thread() -> None:
    """Reaching the loop of a thread not started (call, or the loop itself) says which thread, instead of failing on None."""
    idle = LoopThread("idle-loop")
    with pytest.raises(RuntimeError, match="^the idle-loop thread is not started$"):
        idle.call(print, "never")
    with pytest.raises(RuntimeError, match="^the idle-loop thread is not started$"):
        assert idle.loop is None


def test_run_and_submit_on_a_thread_not_running_say_so_and_leave_no_coroutine_unawaited() -> None:
    """Before start() and after stop(), run() and submit() name the thread and what to do; the coroutine is closed."""

    async def nothing() -> None:
        pass

    idle = LoopThread("idle-loop")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a coroutine never awaited would warn when collected
        with pytest.raises(RuntimeError, match="^the idle-loop thread is not started: call start\\(\\) first$"):
            idle.run(nothing())
        idle.start()
        idle.stop()
        with pytest.raises(RuntimeError, match="^the idle-loop thread has stopped: nothing runs on it any more; start a new one$"):
            idle.submit(nothing())
        coroutine = nothing()
        with pytest.raises(RuntimeError):
            idle.run(coroutine)
        assert coroutine.cr_frame is None  # closed, so no "never awaited" warning later
        gc.collect()


def test_run_from_the_loops_own_thread_refuses_instead_of_waiting_forever(loop_thread: LoopThread) -> None:
    """run() called on the loop's thread raises at once, and closes the coroutine so no 'never awaited' warning follows."""
    outcome: list[BaseException] = []
    done = threading.Event()

    async def nothing() -> None:
        pass

    def from_inside() -> None:
        try:
            loop_thread.run(nothing())
        except RuntimeError as error:
            outcome.append(error)
        finally:
            done.set()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loop_thread.call(from_inside)
        assert done.wait(5)
    assert [str(error) for error in outcome] == ["run() called from the test-loop thread itself would wait forever"]
    assert [str(warning.message) for warning in caught] == []
    assert loop_thread.run(asyncio.sleep(0, "still serving")) == "still serving"


def test_run_that_times_out_names_the_thread_and_cancels_the_coroutine(loop_thread: LoopThread) -> None:
    """No answer within the timeout: TimeoutError naming the thread and the wait, and the coroutine is cancelled."""
    cancelled = threading.Event()

    async def forever() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with pytest.raises(TimeoutError, match=r"^the test-loop thread did not answer within 0\.2 s$"):
        loop_thread.run(forever(), timeout=0.2)
    assert cancelled.wait(5)


def test_a_timeout_raised_by_the_coroutine_itself_is_passed_on_unchanged(loop_thread: LoopThread) -> None:
    """The coroutine's own TimeoutError keeps its message: it is not mistaken for the thread not answering."""

    async def gives_up() -> None:
        raise TimeoutError("the sensor did not answer")

    with pytest.raises(TimeoutError, match="^the sensor did not answer$"):
        loop_thread.run(gives_up(), timeout=5)


def test_stop_cancels_what_still_runs_and_ends_the_thread() -> None:
    """stop() cancels a submitted coroutine (its cleanup runs), joins the thread and closes the loop; twice is fine."""
    running = LoopThread("stopping-loop")
    running.start()
    started = threading.Event()
    cleaned_up = threading.Event()

    async def waits() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            cleaned_up.set()

    future = running.submit(waits())
    assert started.wait(5)
    loop = running.loop
    running.stop(timeout=5)
    assert cleaned_up.is_set() and not running.is_alive() and loop.is_closed()
    poll_until(future.done, timeout=5)
    assert future.cancelled()
    running.stop()
