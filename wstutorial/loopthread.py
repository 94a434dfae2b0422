"""An asyncio event loop in its own daemon thread.

A Jupyter kernel already runs a loop on its main thread, so ``asyncio.run`` or
``IOLoop.start`` in a cell fails. The server (and the blocking client) run
their own loop in a thread instead; other threads reach it only through
``call_soon_threadsafe`` (which ``run_coroutine_threadsafe`` uses).
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from typing import Any, Awaitable, Callable, Coroutine, TypeVar

__all__ = ["LoopThread"]

T = TypeVar("T")


class LoopThread:
    """Runs an asyncio loop in a daemon thread until :meth:`stop`."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self, timeout: float = 10.0) -> None:
        """Start the thread and return once its loop runs."""
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError(f"the {self.name} thread did not start within {timeout} s")

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise RuntimeError(f"the {self.name} thread is not started")
        return self._loop

    @property
    def thread(self) -> threading.Thread:
        return self._thread

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def in_thread(self) -> bool:
        """True when called from this loop's own thread."""
        return threading.current_thread() is self._thread

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = 10.0) -> T:
        """Run ``coroutine`` on the loop and wait for its result (from another thread)."""
        if self.in_thread():
            coroutine.close()
            raise RuntimeError(f"run() called from the {self.name} thread itself would wait forever")
        future = asyncio.run_coroutine_threadsafe(coroutine, self._running_loop(coroutine))
        try:
            return future.result(timeout)
        except TimeoutError:
            if future.done():  # the coroutine itself raised TimeoutError
                raise
            future.cancel()
            raise TimeoutError(f"the {self.name} thread did not answer within {timeout} s") from None

    def call(self, function: Callable[..., Any], *args: Any) -> None:
        """Schedule ``function(*args)`` on the loop; returns at once."""
        self.loop.call_soon_threadsafe(function, *args)

    def submit(self, awaitable: Awaitable[T]) -> "asyncio.Future[T]":
        """Schedule a coroutine; returns a ``concurrent.futures.Future`` without waiting."""
        return asyncio.run_coroutine_threadsafe(awaitable, self._running_loop(awaitable))  # type: ignore[arg-type,return-value]

    def _running_loop(self, awaitable: Awaitable[Any]) -> asyncio.AbstractEventLoop:
        """The loop while it runs; else ``awaitable`` is closed (no "never awaited" warning later) and the error says why."""
        loop = self._loop
        if loop is not None and loop.is_running():
            return loop
        if inspect.iscoroutine(awaitable):
            awaitable.close()
        if loop is None:
            raise RuntimeError(f"the {self.name} thread is not started: call start() first")
        raise RuntimeError(f"the {self.name} thread has stopped: nothing runs on it any more; start a new one")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the loop, cancel what still runs on it, and join the thread."""
        if self._loop is not None and self._thread.is_alive():
            try:
                self._loop.call_soon_threadsafe(self._loop.stop)
            except RuntimeError:  # loop already closed
                pass
        if self._thread.is_alive() and not self.in_thread():
            self._thread.join(timeout)
            if self._thread.is_alive():
                raise TimeoutError(f"the {self.name} thread did not end within {timeout} s")

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        loop.call_soon(self._ready.set)
        try:
            loop.run_forever()
        finally:
            # What asyncio.run does on exit: cancel leftovers so nothing warns
            # "Task was destroyed but it is pending".
            pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            asyncio.set_event_loop(None)
            loop.close()
