"""``python -m wstutorial lab [FOLDER]``: the student's notebooks in JupyterLab, with one command.

Copies the notebooks into ``FOLDER`` (see :mod:`.notebook_files`), starts
JupyterLab there as a child process (``sys.executable -m jupyterlab``, so the
same Python that has wstutorial), on a free loopback port with a fresh token,
waits until it answers and prints the one address to open, with
``00-setup-check.ipynb``. Works the same on Windows, macOS and Linux: no
shell, no POSIX signals; Ctrl-C stops JupyterLab and its kernels.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable

from .commands import pip_install_command
from .notebook_files import sync_notebooks

__all__ = ["DEFAULT_FOLDER", "LAB_PORT", "FIRST_NOTEBOOK", "LOG_NAME", "LabError", "jupyterlab_missing", "run_lab"]

DEFAULT_FOLDER = "wstutorial-notebooks"
# JupyterLab's own default, 8888, is the tutorial server's port: start looking at 8890.
LAB_PORT = 8890
FIRST_NOTEBOOK = "00-setup-check.ipynb"
LOG_NAME = ".wstutorial-jupyterlab.log"


class LabError(Exception):
    """JupyterLab cannot be started; the message says why and what to do."""


def jupyterlab_missing() -> str | None:
    """A sentence when JupyterLab or the kernel is not installed in this Python, else None."""
    missing = [name for name in ("jupyterlab", "ipykernel") if importlib.util.find_spec(name) is None]
    if not missing:
        return None
    return (
        f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not installed for this Python ({sys.executable}): "
        "the lean 'wstutorial' package has the server and client only. "
        f"Install the notebook part with: {pip_install_command('wstutorial[notebook]')}"
    )


def _port_is_free(port: int, host: str) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
        return True


def choose_port(host: str = "127.0.0.1", first: int = LAB_PORT, tries: int = 20) -> int:
    """``first`` or the next free port after it; else any free port."""
    for port in range(first, first + tries):
        if _port_is_free(port, host):
            return port
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def lab_arguments(folder: Path, port: int, open_browser: bool, host: str = "127.0.0.1") -> list[str]:
    """The JupyterLab command line (the token goes through the environment, not the process list)."""
    command = [
        sys.executable, "-m", "jupyterlab",
        f"--ServerApp.ip={host}",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={folder}",
        f"--ServerApp.open_browser={open_browser}",
        # One Ctrl-C stops it (no "Shutdown this Jupyter server (y/[n])?" prompt).
        "--ServerApp.answer_yes=True",
    ]
    # Containers and cloud machines often log in as root, which JupyterLab refuses unless told.
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--ServerApp.allow_root=True")
    command.append(FIRST_NOTEBOOK)
    return command


def _answers(url: str, token: str) -> bool:
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, OSError):
        return False


def _log_tail(path: Path, chars: int = 3000) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[-chars:]
    except OSError:
        return ""


def stop_process(process: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    """Stop JupyterLab: wait for it to handle the Ctrl-C it got too, then terminate, then kill.

    In a terminal, Ctrl-C reaches JupyterLab as well (on Windows too: every
    process of the console gets it); terminate() covers the other cases.
    """
    for action in (None, process.terminate, process.kill):
        if action is not None:
            action()
        try:
            process.wait(grace)
            return
        except subprocess.TimeoutExpired:
            continue


def wait_until_exit(process: subprocess.Popen[bytes], poll: float = 0.5) -> int:
    """Wait with a timeout, in steps: a plain wait() is not interrupted by Ctrl-C on Windows."""
    while True:
        try:
            return process.wait(poll)
        except subprocess.TimeoutExpired:
            continue


def start_lab(
    folder: Path, open_browser: bool, startup_timeout: float = 180.0, out: Callable[[str], None] = print
) -> tuple[subprocess.Popen[bytes], str]:
    """Start JupyterLab in ``folder``; return the process and the address to open once it answers."""
    log_path = folder / LOG_NAME
    for attempt in range(3):  # another program may take the chosen port before JupyterLab does
        port = choose_port()
        token = secrets.token_hex(24)
        env = dict(os.environ, JUPYTER_TOKEN=token, PYTHONUNBUFFERED="1")
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                lab_arguments(folder, port, open_browser), cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + startup_timeout
        try:
            while process.poll() is None and time.monotonic() < deadline:
                if _answers(f"{base}/api/status", token):
                    return process, f"{base}/lab/tree/{FIRST_NOTEBOOK}?token={token}"
                time.sleep(0.3)
        except BaseException:  # Ctrl-C while it starts: do not leave it running
            stop_process(process, grace=5)
            raise
        if process.poll() is None:
            stop_process(process, grace=5)
            raise LabError(
                f"JupyterLab did not answer within {startup_timeout:.0f} s; its log ({log_path}) ends with:\n"
                + _log_tail(log_path)
            )
        if "already in use" not in _log_tail(log_path) or attempt == 2:
            raise LabError(
                f"JupyterLab stopped at once (exit code {process.returncode}); its log ({log_path}) ends with:\n"
                + _log_tail(log_path)
            )
        out(f"Port {port} was taken just now; trying another.")
    raise AssertionError("unreachable")


def run_lab(folder: Path | str = DEFAULT_FOLDER, open_browser: bool = True, out: Callable[[str], None] = print) -> int:
    """Copy or update the notebooks in ``folder``, then run JupyterLab there until Ctrl-C; the exit code."""
    problem = jupyterlab_missing()
    if problem:
        raise LabError(problem)
    folder = Path(folder).expanduser().resolve()
    report = sync_notebooks(folder)
    for line in report.lines():
        out(line)
    out("Starting JupyterLab (the first start can take half a minute)...")
    process, url = start_lab(folder, open_browser, out=out)
    try:
        out("")
        out("Open the tutorial at this address (JupyterLab is running in this folder):")
        out(f"    {url}")
        out("")
        out(f"Press Ctrl-C to stop JupyterLab (its log: {folder / LOG_NAME}).")
        sys.stdout.flush()
        code = wait_until_exit(process)
    except KeyboardInterrupt:
        out("Stopping JupyterLab...")
        stop_process(process)
        code = 0
    if code:
        out(f"JupyterLab stopped with exit code {code}; its log ({folder / LOG_NAME}) ends with:")
        out(_log_tail(folder / LOG_NAME))
        return 1
    out("JupyterLab stopped.")
    return 0
