"""Starting a real program (redis-server, nginx) for a notebook or a test, and stopping it.

The program runs as a child process of this Python process, listens on a free
port of 127.0.0.1 only, keeps its files in a temporary folder, and is stopped
(and its folder removed) by ``stop()``, by ``with``, or at exit.

``OnePerKey`` remembers what this process started, one per key, so that a
re-run notebook cell finds what the run before started (and stops or reuses
it) instead of leaving it running until the kernel ends; ``teaching.programs``
uses it too.
"""

from __future__ import annotations

import atexit
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Generic, Hashable, Sequence, TypeVar

__all__ = [
    "ServiceError", "ServiceMissing", "LocalService", "OnePerKey", "find_program", "stop_process",
    "wait_for_port",
]

T = TypeVar("T")


class ServiceError(RuntimeError):
    """The program could not be started; the message says why and what to do."""


class ServiceMissing(ServiceError):
    """The program is not installed; the message says how to install it."""

    def __init__(self, program: str, install: str) -> None:
        self.program = program
        super().__init__(f"{program} is not installed (not found on PATH); install it: {install}")


def find_program(program: str, install: str, extra_dirs: Sequence[str] = ("/usr/sbin", "/usr/local/sbin")) -> str:
    """The full path of ``program``; Debian puts nginx in /usr/sbin, often not on a user's PATH."""
    found = shutil.which(program)
    for folder in extra_dirs:
        found = found or shutil.which(program, path=folder)
    if found is None:
        raise ServiceMissing(program, install)
    return found


def wait_for_port(host: str, port: int, process: subprocess.Popen[bytes], timeout: float, log: Path | None) -> None:
    """Return once ``host:port`` accepts connections; raise if the process ends or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise ServiceError(
                f"{_program_name(process)} exited with code {process.returncode} before listening "
                f"on {host}:{port}{_tail(log)}"
            )
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise ServiceError(f"nothing listens on {host}:{port} after {timeout} s{_tail(log)}") from None
            time.sleep(0.05)


def _program_name(process: subprocess.Popen[bytes]) -> str:
    args = process.args
    first = args[0] if isinstance(args, (list, tuple)) else args
    return Path(str(first)).name


def _tail(log: Path | None) -> str:
    if log is None or not log.is_file():
        return ""
    lines = log.read_text(errors="replace").strip().splitlines()[-5:]
    return ("; its log ends with:\n" + "\n".join(lines)) if lines else ""


def stop_process(process: "subprocess.Popen[bytes] | subprocess.Popen[str]", timeout: float = 5.0) -> None:
    """End ``process`` politely (terminate), then for sure (kill) if it has not ended within ``timeout`` s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)


class OnePerKey(Generic[T]):
    """What this process started, one per key (thread-safe): a re-run cell finds the one before.

    ``put(key, new)`` keeps ``new`` (the caller stops the one before, which
    ``pop`` hands back); ``forget(key, item)`` drops ``item`` only if it is
    still the one kept (a stopped old one must not drop its successor).
    """

    def __init__(self) -> None:
        self._items: dict[Hashable, T] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> T | None:
        with self._lock:
            return self._items.get(key)

    def pop(self, key: Hashable) -> T | None:
        with self._lock:
            return self._items.pop(key, None)

    def put(self, key: Hashable, item: T) -> None:
        with self._lock:
            self._items[key] = item

    def forget(self, key: Hashable, item: T) -> None:
        with self._lock:
            if self._items.get(key) is item:
                del self._items[key]

    def values(self) -> list[T]:
        with self._lock:
            return list(self._items.values())


class LocalService:
    """A started program: its process, its folder, its address."""

    name = "service"

    def __init__(self, process: subprocess.Popen[bytes], folder: tempfile.TemporaryDirectory[str], host: str, port: int) -> None:
        self.process = process
        self._folder = folder
        self.folder = Path(folder.name)
        self.host = host
        self.port = port
        # What a re-run cell did about the one started before: shown by repr.
        self.note = ""
        atexit.register(self.stop)

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the program (politely first) and remove its folder; safe to call twice."""
        stop_process(self.process, timeout)
        self._folder.cleanup()
        atexit.unregister(self.stop)

    def __enter__(self) -> "LocalService":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        note = f" ({self.note})" if self.note else ""
        return f"<{type(self).__name__} {self.host}:{self.port} {'running' if self.running else 'stopped'}{note}>"


def start_process(args: list[str], folder: tempfile.TemporaryDirectory[str], log_name: str) -> subprocess.Popen[bytes]:
    """Run ``args`` with its output in a log file of ``folder`` (a pipe nobody reads would fill up)."""
    log = Path(folder.name) / log_name
    with log.open("wb") as out:
        return subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, cwd=folder.name)
