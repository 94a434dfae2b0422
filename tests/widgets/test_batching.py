"""UpdateBatcher: updates from any thread, applied in bounded batches on one loop."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from helpers import wait_until
from wstutorial.widgets.batching import UpdateBatcher


class Recorder:
    """Collects what the batcher applies, with the thread and time of each batch."""

    def __init__(self) -> None:
        self.batches: list[tuple[list[int], int]] = []
        self.threads: list[threading.Thread] = []
        self.times: list[float] = []
        self.changed = asyncio.Event() if _has_loop() else None

    def __call__(self, items: list[int], dropped: int) -> None:
        self.batches.append((items, dropped))
        self.threads.append(threading.current_thread())
        self.times.append(time.monotonic())
        if self.changed is not None:
            self.changed.set()

    @property
    def items(self) -> list[int]:
        return [item for items, _ in self.batches for item in items]


def _has_loop() -> bool:
    try:
        asyncio.get_running_loop()
        return True
    except RuntimeError:
        return False




def test_without_loop_flush_applies_in_order() -> None:
    """With no running loop nothing is scheduled; flush() applies everything, oldest first."""
    recorder = Recorder()
    batcher: UpdateBatcher[int] = UpdateBatcher(recorder)
    assert batcher.loop is None
    for n in range(5):
        batcher.put(n)
    assert recorder.batches == []
    assert batcher.pending == 5
    assert batcher.flush() == 5
    assert recorder.batches == [([0, 1, 2, 3, 4], 0)]
    assert batcher.flush() == 0
    assert len(recorder.batches) == 1, "an empty flush must not call apply"


def test_bounded_drops_oldest_and_counts() -> None:
    """Past maxlen the oldest items go, and the next batch says how many."""
    recorder = Recorder()
    batcher: UpdateBatcher[int] = UpdateBatcher(recorder, maxlen=4)
    for n in range(10):
        batcher.put(n)
    assert batcher.pending == 4
    batcher.flush()
    assert recorder.batches == [([6, 7, 8, 9], 6)]
    assert (batcher.received, batcher.dropped) == (10, 6)
    batcher.put(10)
    batcher.flush()
    assert recorder.batches[-1] == ([10], 0), "the dropped count restarts after each batch"


def test_bad_arguments_are_named() -> None:
    """A bad interval or maxlen raises ValueError naming the value."""
    with pytest.raises(ValueError, match="maxlen.*0"):
        UpdateBatcher(lambda items, dropped: None, maxlen=0)
    with pytest.raises(ValueError, match="interval.*-1"):
        UpdateBatcher(lambda items, dropped: None, interval=-1)


def test_items_from_another_thread_are_applied_on_the_loop_thread() -> None:
    """Items put by a worker thread arrive, all and in order, in the loop's own thread."""

    async def main() -> None:
        recorder = Recorder()
        batcher: UpdateBatcher[int] = UpdateBatcher(recorder, interval=0.05, maxlen=100_000)
        assert batcher.loop is asyncio.get_running_loop()
        worker = threading.Thread(target=lambda: [batcher.put(n) for n in range(5000)])
        worker.start()
        await wait_until(lambda: len(recorder.items) == 5000)
        worker.join()
        assert recorder.items == list(range(5000))
        assert set(recorder.threads) == {threading.current_thread()}
        assert all(dropped == 0 for _, dropped in recorder.batches)

    asyncio.run(main())


def test_batches_are_spaced_by_the_interval() -> None:
    """However fast items come, two batches are at least ``interval`` apart (so about 10/s)."""

    async def main() -> None:
        recorder = Recorder()
        interval = 0.05
        batcher: UpdateBatcher[int] = UpdateBatcher(recorder, interval=interval)
        stop = threading.Event()

        def produce() -> None:
            n = 0
            while not stop.is_set():
                batcher.put(n)
                n += 1
                time.sleep(0.0005)

        worker = threading.Thread(target=produce)
        worker.start()
        try:
            await wait_until(lambda: len(recorder.batches) >= 5)
        finally:
            stop.set()
            worker.join()
        gaps = [b - a for a, b in zip(recorder.times, recorder.times[1:], strict=False)]
        # Lower bound only (asyncio timers may fire a clock tick early): a busy
        # machine makes gaps longer, never shorter.
        resolution = max(time.get_clock_info("monotonic").resolution, 0.002)
        assert min(gaps) >= interval - resolution, gaps
        assert sum(len(items) for items, _ in recorder.batches) > len(recorder.batches)

    asyncio.run(main())


def test_a_failing_apply_does_not_stop_later_batches(caplog: pytest.LogCaptureFixture) -> None:
    """An exception in apply is logged; the next batch still comes."""
    calls: list[list[int]] = []

    def apply(items: list[int], dropped: int) -> None:
        calls.append(items)
        if len(calls) == 1:
            raise RuntimeError("broken display")

    batcher: UpdateBatcher[int] = UpdateBatcher(apply)
    batcher.put(1)
    batcher.flush()
    batcher.put(2)
    batcher.flush()
    assert calls == [[1], [2]]
    assert "applying a batch" in caplog.text


def test_close_forgets_and_ignores() -> None:
    """After close(), waiting and later items are never applied."""
    recorder = Recorder()
    batcher: UpdateBatcher[int] = UpdateBatcher(recorder)
    batcher.put(1)
    batcher.close()
    batcher.put(2)
    assert batcher.flush() == 0
    assert recorder.batches == []


def test_loop_closed_before_put_does_not_raise() -> None:
    """A batcher whose loop has ended accepts put() quietly (a server thread must never fail)."""
    loop = asyncio.new_event_loop()
    loop.close()
    recorder = Recorder()
    batcher: UpdateBatcher[int] = UpdateBatcher(recorder, loop=loop)
    batcher.put(1)
    batcher.put(2)
    batcher.flush()
    assert recorder.items == [1, 2]
