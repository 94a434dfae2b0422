"""Nothing POSIX-only on the student's path, and the Windows code paths that can run on Linux."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from helpers import ROOT
from portability import notebook_sources, posix_only_uses, student_path_files


def test_student_path_has_no_posix_only_code() -> None:
    """The package and everything under notebooks/ (modules, exercises, notebook cells) run on Windows."""
    files = student_path_files(ROOT)
    assert any(path.suffix == ".ipynb" for path in files) and any(path.name == "cli.py" for path in files)
    problems: list[str] = []
    for path in files:
        if path.suffix == ".ipynb":
            for name, source in notebook_sources(path):
                problems += posix_only_uses(source, name)
        else:
            problems += posix_only_uses(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    assert not problems, "POSIX-only code outside a platform check:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    "source, what",
    [
        ("import os\nos.fork()", "os.fork"),
        ("import os\nos.setsid()", "os.setsid"),
        ("import os\nos.kill(pid, 15)", "os.kill"),
        ("loop.add_signal_handler(2, stop)", "add_signal_handler"),
        ("import signal\nsignal.signal(signal.SIGHUP, f)", "SIGHUP"),
        ("import signal\np.send_signal(signal.SIGKILL)", "SIGKILL"),
        ("from signal import SIGUSR1", "SIGUSR1"),
        ("import fcntl", "fcntl"),
        ("import termios, sys", "termios"),
        ("from pwd import getpwuid", "pwd"),
        ("subprocess.run('ls', shell=True)", "shell=True"),
        ("subprocess.Popen(cmd, preexec_fn=f)", "preexec_fn"),
        ("subprocess.Popen(cmd, start_new_session=True)", "start_new_session"),
        ("subprocess.run(['bash', 'scripts/x.sh'])", "bash"),
        ("print('fix: bash scripts/setup-env.sh')", "bash"),
        ("path = '/tmp/notebooks'", "/tmp"),
        ("open('/dev/null')", "/dev/"),
        ("multiprocessing.get_context('fork')", "fork"),
        ("await asyncio.sleep(0)\nasyncio.get_running_loop().add_signal_handler(2, f)", "add_signal_handler"),
        ("if x.name == 'a':\n    os.fork()", "os.fork"),  # .name alone is no platform check
        ("def _tables():\n    return open('/proc/net/tcp').read()", "/proc/"),  # no platform in the name
    ],
)
def test_check_finds_posix_only_code(source: str, what: str) -> None:
    (problem,) = posix_only_uses(source)
    assert what in problem


@pytest.mark.parametrize(
    "source",
    [
        "import sys, os\nif sys.platform != 'win32':\n    os.setsid()",
        "import os\nif os.name == 'posix':\n    import fcntl\nelse:\n    import msvcrt",
        "import os\nif hasattr(os, 'geteuid') and os.geteuid() == 0:\n    pass",
        "import signal\nbreak_ = signal.SIGBREAK if hasattr(signal, 'SIGBREAK') else None",
        "try:\n    import termios\nexcept ImportError:\n    termios = None",
        "import platform\nif platform.system() == 'Linux':\n    open('/proc/self/status')",
        "def f():\n    '''Works without /tmp and without bash.'''\n    return tempfile.gettempdir()",
        "import signal\nsignal.signal(signal.SIGINT, f)\nsignal.signal(signal.SIGTERM, f)",
        "subprocess.run([sys.executable, '-m', 'jupyterlab'])",
        "def _tables_linux():\n    return open('/proc/net/tcp').read()",
    ],
)
def test_check_accepts_portable_or_guarded_code(source: str) -> None:
    assert posix_only_uses(source) == []


def test_notebook_magics_and_shell_escapes_are_read(tmp_path: Path) -> None:
    notebook = tmp_path / "n.ipynb"
    notebook.write_text(
        '{"cells": [{"cell_type": "code", "source": ["%load_ext x\\n", "!bash run.sh\\n", "x = await f()"]},'
        ' {"cell_type": "markdown", "source": ["!bash in text"]}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}',
        encoding="utf-8",
    )
    problems = [p for name, source in notebook_sources(notebook) for p in posix_only_uses(source, name)]
    assert problems == ["n.ipynb[cell 0]:2: bash/sh command 'bash run.sh' (no bash on Windows; use Python)"]


def test_ctrl_break_stops_the_server_where_windows_has_it() -> None:
    """Windows' Ctrl-Break (signal.SIGBREAK) stops serve cleanly: run here with SIGBREAK standing in as SIGUSR1."""
    stand_in = signal.SIGUSR1
    script = (
        "import signal, sys\n"
        f"signal.SIGBREAK = {int(stand_in)}  # what Windows has; Linux has no SIGBREAK\n"
        "from wstutorial.cli import main\n"
        "sys.exit(main(['serve', '--port', '0']))\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    try:
        assert process.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            assert line, f"serve ended early: {lines}"
            lines.append(line)
            if "Press Ctrl-C" in line:
                break
        (ws_line,) = [line for line in lines if "WebSockets:" in line]
        url = ws_line.split()[1]
        with connect(url) as websocket:
            assert websocket.recv(timeout=5) == "Hello World"
            process.send_signal(stand_in)
            with pytest.raises(ConnectionClosed) as closed:
                websocket.recv(timeout=10)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
    assert process.returncode == 0, err
    assert "1 WebSocket client(s) closed with 1001" in out and "Traceback" not in err


def test_without_geteuid_lab_does_not_ask_for_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Windows has no os.geteuid: the lab command line is built without it."""
    from wstutorial.teaching.lab import lab_arguments

    monkeypatch.delattr(os, "geteuid")
    command = lab_arguments(tmp_path, 8890, open_browser=False)
    assert command[:3] == [sys.executable, "-m", "jupyterlab"]
    assert "--ServerApp.allow_root=True" not in command
    assert f"--ServerApp.root_dir={tmp_path}" in command
    assert "--LabApp.default_url=/lab/tree/00-setup-check.ipynb" in command


def test_without_the_resource_module_the_connection_limit_is_windows_select_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Windows has no 'resource' module (no ulimit -n): the default limit is select()'s 512, less the reserve."""
    from wstutorial.server import limits

    assert limits.max_connections_for_file_limit() >= 16  # here: from the file limit
    monkeypatch.setattr(limits, "resource", None)
    assert limits.max_connections_for_file_limit() == 512 - limits.FILES_KEPT_FREE
    script = (
        "import sys\n"
        "sys.modules['resource'] = None  # as on Windows: import resource raises ImportError\n"
        "import wstutorial\n"
        "from wstutorial.server import limits\n"
        "server = wstutorial.start_server(port=0)\n"
        "print(limits.max_connections_for_file_limit(), server.port > 0)\n"
        "server.stop()\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(512 - limits.FILES_KEPT_FREE), "True"]


def test_a_message_the_windows_code_page_cannot_show_does_not_stop_the_server() -> None:
    """Windows output redirected to a file uses a code page (cp1252): an emoji is printed escaped, no crash."""
    process = subprocess.Popen(
        [sys.executable, "-m", "wstutorial", "serve", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="cp1252",
        env=dict(os.environ, PYTHONIOENCODING="cp1252", PYTHONUNBUFFERED="1"),
    )
    try:
        assert process.stdout is not None
        lines: list[str] = []
        while not lines or "Press Ctrl-C" not in lines[-1]:
            line = process.stdout.readline()
            assert line, f"serve ended early: {lines}"
            lines.append(line)
        (ws_line,) = [line for line in lines if "WebSockets:" in line]
        with connect(ws_line.split()[1]) as websocket:
            assert websocket.recv(timeout=5) == "Hello World"
            websocket.send("snowman \u2603 and \U0001f600")
            websocket.send("after it")
            line = ""
            while "message received after it" not in line:
                line = process.stdout.readline()
                assert line, "serve ended after the emoji"
                lines.append(line)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert "message received snowman \\u2603 and \\U0001f600" in "".join(lines)
    assert "Traceback" not in err and "closed with 1001" in out
