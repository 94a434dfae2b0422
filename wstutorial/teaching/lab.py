"""``python -m wstutorial lab [FOLDER]``: the tutorial's notebooks in JupyterLab, with one command.

Two ways, one launcher:

- the student's (default): copy the notebooks shipped in the package into
  ``FOLDER`` (see :mod:`.notebook_files`; a file the student changed is never
  overwritten), then serve that folder;
- ``--in-place``: serve ``FOLDER`` as it is, nothing copied (a checkout's
  ``notebooks/``; ``scripts/tutorial.sh`` does this).

Either way JupyterLab runs as a child process (``sys.executable -m
jupyterlab``, the same Python that has wstutorial) on a loopback port with a
token; every address of it opens ``00-setup-check.ipynb`` (not the Launcher);
its settings come from ``lab_settings/overrides.json`` next to this module (no
"official Jupyter news?" question, no update check, no date column cutting the
notebooks' names) and its first layout from ``lab_first_layout.json`` (a file
browser wide enough for those names). JupyterLab's own log goes to a file, so
that the last line printed is the one address to open. Works the same on
Windows, macOS and Linux: no shell, no POSIX-only signals; Ctrl-C stops
JupyterLab and its kernels.

Environment: ``WSTUTORIAL_LAB_PORT`` (a fixed port; default 8890 or the next
free one, since the tutorial's own server uses 8888), ``JUPYTER_TOKEN``
(default: a new random one), ``WSTUTORIAL_LAB_LOG`` and
``WSTUTORIAL_LAB_WORKSPACES`` (where the log and JupyterLab's layouts go).
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Callable

from ..address import nearby_free_port
from .commands import pip_install_command
from .notebook_files import refuse_links, sync_notebooks, write_atomically

__all__ = [
    "DEFAULT_FOLDER", "LAB_PORT", "FIRST_NOTEBOOK", "LOG_NAME", "SETTINGS_DIR", "FIRST_LAYOUT",
    "LabError", "LabPlaces", "jupyterlab_missing", "lab_places", "run_lab",
]

DEFAULT_FOLDER = "wstutorial-notebooks"
# JupyterLab's own default, 8888, is the tutorial server's port: start looking at 8890.
LAB_PORT = 8890
FIRST_NOTEBOOK = "00-setup-check.ipynb"
LOG_NAME = ".wstutorial-jupyterlab.log"
WORKSPACES_NAME = ".wstutorial-lab-workspaces"
# JupyterLab's settings overrides (its app_settings_dir) and first layout, shipped in the package.
SETTINGS_DIR = Path(__file__).resolve().parent / "lab_settings"
FIRST_LAYOUT = Path(__file__).resolve().parent / "lab_first_layout.json"
# jupyterlab_server's file name for the workspace called "default", the one /lab/tree/... uses.
DEFAULT_WORKSPACE_FILE = "default-37a8.jupyterlab-workspace"
# After Ctrl-C, which JupyterLab gets too: time for it to stop its kernels before it is terminated.
INTERRUPT_GRACE = 5.0
TERMINATE_GRACE = 30.0


class LabError(Exception):
    """JupyterLab cannot be started; the message says why and what to do."""


class _Terminated(KeyboardInterrupt):
    """Stopped from outside (SIGTERM): JupyterLab did not get it, so it is terminated at once."""


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


@dataclass(frozen=True)
class LabPlaces:
    """Where JupyterLab serves from, writes its log and keeps its layouts."""

    folder: Path
    log: Path
    workspaces: Path


def lab_places(folder: Path, in_place: bool) -> LabPlaces:
    """The student's folder keeps the log and layouts (hidden); served in place, this Python's environment does.

    In place (a checkout's notebooks/) nothing is written next to the notebooks,
    which are the tutorial's sources (and ship in the wheel).
    """
    state = Path(sys.prefix) if in_place else folder
    log = os.environ.get("WSTUTORIAL_LAB_LOG") or state / ("jupyterlab.log" if in_place else LOG_NAME)
    workspaces = os.environ.get("WSTUTORIAL_LAB_WORKSPACES") or state / (
        "lab-workspaces" if in_place else WORKSPACES_NAME
    )
    return LabPlaces(folder, Path(log), Path(workspaces))


def prepare_workspaces(folder: Path) -> Path:
    """JupyterLab's workspaces folder, starting with the tutorial's first layout (the student's own layout then replaces it)."""
    folder.mkdir(parents=True, exist_ok=True)
    refuse_links(folder, [DEFAULT_WORKSPACE_FILE])
    default = folder / DEFAULT_WORKSPACE_FILE
    if not default.exists():
        write_atomically(default, FIRST_LAYOUT.read_bytes())
    return folder


def choose_port(host: str = "127.0.0.1", first: int = LAB_PORT, tries: int = 20) -> int:
    """``first`` or one of the ``tries`` ports after it that is free; else any free port."""
    return nearby_free_port(first, host, tries)


def wanted_port() -> int | None:
    """WSTUTORIAL_LAB_PORT, when set: the one port to use."""
    wanted = os.environ.get("WSTUTORIAL_LAB_PORT", "").strip()
    if not wanted:
        return None
    if not wanted.isdigit() or not 0 < int(wanted) < 65536:
        raise LabError(f"WSTUTORIAL_LAB_PORT must be a port number from 1 to 65535, got {wanted!r}; set it right or unset it")
    return int(wanted)


def lab_arguments(
    folder: Path, port: int, open_browser: bool, host: str = "127.0.0.1", workspaces: Path | None = None
) -> list[str]:
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
        # Every address of this JupyterLab opens the first notebook, not the Launcher.
        f"--LabApp.default_url=/lab/tree/{FIRST_NOTEBOOK}",
        f"--LabApp.app_settings_dir={SETTINGS_DIR}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if workspaces is not None:
        command.append(f"--LabApp.workspaces_dir={workspaces}")
    # Containers and cloud machines often log in as root, which JupyterLab refuses unless told.
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--ServerApp.allow_root=True")
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


def stop_process(process: subprocess.Popen[bytes], grace: float = INTERRUPT_GRACE) -> None:
    """Stop JupyterLab: wait ``grace`` for it to handle the Ctrl-C it got too, then terminate, then kill.

    In a terminal, Ctrl-C reaches JupyterLab as well (on Windows too: every
    process of the console gets it); terminate() covers the other cases, and
    JupyterLab stops its kernels on it (on POSIX) before it exits.
    """
    for action, wait in ((None, grace), (process.terminate, TERMINATE_GRACE), (process.kill, None)):
        if action is not None:
            action()
        try:
            process.wait(wait)
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


def _terminated(signum: int, frame: FrameType | None) -> None:
    raise _Terminated


def start_lab(
    places: LabPlaces, open_browser: bool, startup_timeout: float = 180.0, out: Callable[[str], None] = print
) -> tuple[subprocess.Popen[bytes], str]:
    """Start JupyterLab in ``places.folder``; return the process and the address to open once it answers."""
    fixed_port = wanted_port()
    token = os.environ.get("JUPYTER_TOKEN") or secrets.token_hex(24)
    workspaces = prepare_workspaces(places.workspaces)
    places.log.parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(3):  # another program may take the chosen port before JupyterLab does
        port = fixed_port or choose_port()
        env = dict(os.environ, JUPYTER_TOKEN=token, PYTHONUNBUFFERED="1")
        with places.log.open("wb") as log:
            process = subprocess.Popen(
                lab_arguments(places.folder, port, open_browser, workspaces=workspaces),
                cwd=places.folder, env=env, stdout=log, stderr=subprocess.STDOUT,
            )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + startup_timeout
        try:
            while process.poll() is None and time.monotonic() < deadline:
                if _answers(f"{base}/api/status", token):
                    return process, f"{base}/lab/tree/{FIRST_NOTEBOOK}?token={token}"
                time.sleep(0.3)
        except BaseException:  # Ctrl-C while it starts: do not leave it running
            stop_process(process)
            raise
        if process.poll() is None:
            stop_process(process, grace=0)
            raise LabError(
                f"JupyterLab did not answer within {startup_timeout:.0f} s; its log ({places.log}) ends with:\n"
                + _log_tail(places.log)
            )
        if fixed_port or "already in use" not in _log_tail(places.log) or attempt == 2:
            raise LabError(
                f"JupyterLab stopped at once (exit code {process.returncode}); its log ({places.log}) ends with:\n"
                + _log_tail(places.log)
            )
        out(f"Port {port} was taken just now; trying another.")
    raise AssertionError("unreachable")


def run_lab(
    folder: Path | str = DEFAULT_FOLDER,
    open_browser: bool = True,
    out: Callable[[str], None] = print,
    in_place: bool = False,
) -> int:
    """Copy or update the notebooks in ``folder`` (or, ``in_place``, serve it as it is), then run JupyterLab there until Ctrl-C.

    The last line printed while it runs is the address to open. Returns the exit code.
    """
    problem = jupyterlab_missing()
    if problem:
        raise LabError(problem)
    folder = Path(folder).expanduser().resolve()
    if in_place:
        if not (folder / FIRST_NOTEBOOK).is_file():
            raise LabError(
                f"{folder} has no {FIRST_NOTEBOOK}: --in-place serves a folder of the tutorial's notebooks as it is "
                "(a checkout's notebooks/); leave --in-place out to get a copy of them in FOLDER"
            )
    else:
        for line in sync_notebooks(folder).lines():
            out(line)
    places = lab_places(folder, in_place)
    for written in (places.log, places.workspaces):
        if written.is_relative_to(folder):  # the student's folder: a link there must not carry the write elsewhere
            refuse_links(folder, [written.relative_to(folder).as_posix()])
    # Stopped from outside (a test, a service manager): stop JupyterLab and its kernels too.
    on_main_thread = threading.current_thread() is threading.main_thread()
    before = signal.signal(signal.SIGTERM, _terminated) if on_main_thread else None
    try:
        return _run(places, open_browser, out)
    finally:
        if before is not None:
            signal.signal(signal.SIGTERM, before)


def _run(places: LabPlaces, open_browser: bool, out: Callable[[str], None]) -> int:
    out("Starting JupyterLab (the first start can take half a minute)...")
    process, url = start_lab(places, open_browser, out=out)
    folder = places.folder
    try:
        out(f"JupyterLab is running in {folder} (its log: {places.log}); press Ctrl-C to stop it.")
        out("Open the tutorial at this address:")
        out(url)
        sys.stdout.flush()
        code = wait_until_exit(process)
    except KeyboardInterrupt as stop:
        out("Stopping JupyterLab...")
        stop_process(process, grace=0 if isinstance(stop, _Terminated) else INTERRUPT_GRACE)
        code = 0
    if code:
        out(f"JupyterLab stopped with exit code {code}; its log ({places.log}) ends with:")
        out(_log_tail(places.log))
        return 1
    out("JupyterLab stopped.")
    return 0
