"""Run a tutorial program (a Python file) as a process of its own and follow what it prints.

The notebooks' servers run in a thread of the kernel; the standalone programs
in ``notebooks/programs/`` run the way they would from a terminal
(``python hello_server.py 8888``), each in a process of its own, started with
the kernel's Python. Their printed lines are kept and passed on as they come;
running the same file again replaces the old process; every process ends
with the kernel (at exit, and when the kernel is killed: the process also
ends when its standard input, a pipe from the kernel, closes).

Nothing here is Unix-only: no fork, no shell, ``pathlib`` paths.

    >>> program = run_program("programs/hello_server.py", 8888, port=8888)
    >>> ProgramView(program)          # in a notebook: its lines, live (wstutorial.widgets)
    >>> program.wait_for("listening")
    >>> program.stop()
"""

from __future__ import annotations

import atexit
import collections
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable

from ..services.local import OnePerKey, stop_process

__all__ = [
    "Program",
    "ProgramError",
    "port_in_use",
    "run_program",
    "running_programs",
    "stop_all_programs",
]

# Runs the file as ``__main__`` (as ``python file.py`` would) after starting a
# thread that ends the process once its standard input closes: the kernel
# holds the other end, so even a killed kernel takes its programs along.
# (os.read, not sys.stdin: a daemon thread blocked in a buffered reader
# aborts the interpreter's shutdown.)
_LAUNCHER = """\
import os, runpy, sys, threading
def _watch():
    while os.read(0, 512):
        pass
    os._exit(0)
threading.Thread(target=_watch, daemon=True).start()
sys.argv = sys.argv[1:]
sys.path[0] = os.path.dirname(os.path.abspath(sys.argv[0]))
runpy.run_path(sys.argv[0], run_name="__main__")
"""

# What the operating system says when a port is taken (Linux/macOS, Windows).
_IN_USE = ("address already in use", "only one usage of each socket address", "errno 98", "errno 48", "10048")

MAX_LINES = 10_000

Listener = Callable[["str | None"], None]


class ProgramError(RuntimeError):
    """A program could not start, or ended before printing what was awaited; ``str()`` says why."""


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        return probe.connect_ex((host, port)) == 0


class Program:
    """One run of a Python file in its own process: its output lines, its state, stop().

    Args:
        path: the Python file, e.g. ``"programs/hello_server.py"``.
        *args: its command-line arguments (``sys.argv[1:]``), e.g. a port.
        port: the port the program will listen on, if any: checked before
            starting, so a taken port gives a sentence instead of a traceback.
    """

    def __init__(self, path: str | os.PathLike[str], *args: object, port: int | None = None) -> None:
        self.path = Path(path).resolve()
        if not self.path.is_file():
            raise ProgramError(f"there is no program {str(path)!r} (looked for {self.path}); check the file name")
        self.args = [str(arg) for arg in args]
        self.port = port
        self.lines: collections.deque[str] = collections.deque(maxlen=MAX_LINES)
        self.problem = ""  # a sentence when the program could not start or failed
        self._condition = threading.Condition()
        self._listeners: list[Listener] = []
        self._process: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None
        self._ended = False

    # -- state ---------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def returncode(self) -> int | None:
        """The exit code once the program ended (negative: ended by a signal), else None."""
        return None if self._process is None else self._process.poll()

    @property
    def output(self) -> str:
        """Everything the program printed so far (its newest ``MAX_LINES`` lines)."""
        with self._condition:
            return "\n".join(self.lines)

    def follow(self, listener: Listener) -> tuple[list[str], Callable[[], None]]:
        """Call ``listener(line)`` for each new line (from a reader thread), ``listener(None)`` at the end.

        Returns the lines printed so far (none lost, none twice) and a
        function that stops following.
        """
        with self._condition:
            backlog = list(self.lines)
            self._listeners.append(listener)
            if self._ended:
                listener(None)

        def unsubscribe() -> None:
            with self._condition:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return backlog, unsubscribe

    # -- start, follow, stop ---------------------------------------------------------------

    def start(self) -> "Program":
        """Start the process (once); returns self. Raises :class:`ProgramError` with a sentence."""
        if self._process is not None:
            raise ProgramError(f"{self.name} was started already; make a new Program (or use run_program)")
        if self.port is not None and port_in_use(self.port):
            self.problem = _port_sentence(self.port)
            raise ProgramError(self.problem)
        env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONIOENCODING="utf-8")
        # A process group of its own: interrupting the kernel (Ctrl-C to its
        # group) must not interrupt the program too.
        extra: dict[str, object] = (
            {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}  # type: ignore[attr-defined]
            if sys.platform == "win32"
            else {"start_new_session": True}
        )
        self._process = subprocess.Popen(  # type: ignore[call-overload]
            [sys.executable, "-c", _LAUNCHER, str(self.path), *self.args],
            cwd=str(self.path.parent),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
            env=env,
            **extra,
        )
        self._reader = threading.Thread(target=self._read, name=f"wstutorial-program-{self.name}", daemon=True)
        self._reader.start()
        return self

    def _read(self) -> None:
        process = self._process
        assert process is not None and process.stdout is not None
        for raw in process.stdout:
            line = raw.rstrip("\r\n")
            with self._condition:
                self.lines.append(line)
                listeners = list(self._listeners)
                self._condition.notify_all()
            for listener in listeners:
                listener(line)
        code = process.wait()
        with self._condition:
            if code not in (0, None) and not self.problem and not self._stopping:
                self.problem = self._explain(code)
            self._ended = True
            listeners = list(self._listeners)
            self._condition.notify_all()
        for listener in listeners:
            listener(None)

    _stopping = False

    def _explain(self, code: int) -> str:
        text = "\n".join(self.lines).lower()
        if any(sign in text for sign in _IN_USE):
            return _port_sentence(self.port) if self.port is not None else (
                f"{self.name} could not listen: its port is in use by another program; "
                "stop that program or give this one another port"
            )
        last = next((line for line in reversed(self.lines) if line.strip()), "")
        return f"{self.name} ended with exit code {code}" + (f": {last.strip()}" if last else "")

    def wait_for(self, text: str, timeout: float = 10.0) -> str:
        """Block until the program prints a line containing ``text``; return that line.

        Raises :class:`ProgramError` if the program ends first, ``TimeoutError``
        if ``timeout`` seconds pass; both say what it printed last.
        """
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                for line in self.lines:
                    if text in line:
                        return line
                if self._ended:
                    raise ProgramError(
                        f"{self.name} ended before printing {text!r}"
                        + (f": {self.problem}" if self.problem else f"; it printed: {self._tail()}")
                    )
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{self.name} did not print {text!r} within {timeout:g} s; it printed: {self._tail()}")
                self._condition.wait(left)

    def _tail(self, count: int = 3) -> str:
        lines = list(self.lines)[-count:]
        return " | ".join(lines) if lines else "nothing"

    def stop(self, timeout: float = 5.0) -> int | None:
        """End the program (terminate, then kill if it does not end within ``timeout``); return its exit code."""
        process = self._process
        if process is None:
            return None
        self._stopping = True
        stop_process(process, timeout)
        if process.stdin is not None:
            process.stdin.close()
        if self._reader is not None:
            self._reader.join(timeout)
        _programs.forget(self.path, self)
        return process.returncode

    def __repr__(self) -> str:
        if self._process is None:
            state = "not started"
        elif self.running:
            state = f"running, pid {self._process.pid}"
        else:
            state = f"ended, exit code {self.returncode}"
        args = "".join(f" {arg}" for arg in self.args)
        return f"<Program {self.name}{args} ({state})>"


def _port_sentence(port: int) -> str:
    """Why a port is taken, as precisely as this kernel knows, and what to do."""
    for program in running_programs():
        if program.port == port and program.running:
            return (
                f"port {port} is in use by {program.name}, which this notebook started: "
                f"stop it first (its Stop button, or .stop()), or give this program another port"
            )
    from ..server.runner import running_servers  # only to name a server of this kernel

    for server in running_servers():
        if server.port == port:
            return (
                f"port {port} is in use by this notebook's tutorial server: "
                "call server.stop() first, or give this program another port"
            )
    return (
        f"port {port} is in use by another program (another notebook's kernel, or a program left running): "
        "shut down that notebook's kernel (Kernel > Shut Down Kernel) or give this program another port"
    )


# The program each file started last: running the file again replaces it.
_programs: OnePerKey[Program] = OnePerKey()


def run_program(path: str | os.PathLike[str], *args: object, port: int | None = None) -> Program:
    """Start ``path`` with ``args`` in a process of its own; return the running :class:`Program`.

    Running the same file again stops the previous process first (so a
    re-run notebook cell replaces it). ``port``: the port the program will
    listen on, checked first: when it is in use nothing starts, ``.problem``
    says why in one sentence (a ``ProgramView`` shows it) and ``wait_for``
    raises :class:`ProgramError` with it.
    """
    program = Program(path, *args, port=port)
    previous = _programs.pop(program.path)
    if previous is not None:
        previous.stop()
    try:
        program.start()
    except ProgramError:  # a port in use: .problem says so; wait_for raises it
        program._ended = True
        return program
    _programs.put(program.path, program)
    return program


def running_programs() -> list[Program]:
    """The programs started with :func:`run_program` that still run."""
    return [program for program in _programs.values() if program.running]


def stop_all_programs() -> None:
    """Stop every program started with :func:`run_program` (also done at exit)."""
    for program in _programs.values():
        program.stop()


atexit.register(stop_all_programs)
