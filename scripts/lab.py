"""Start JupyterLab for the tutorial and print, as the last line, the one address to open.

Run by scripts/tutorial.sh with the tutorial's Python. JupyterLab serves
notebooks/ and every address of it lands in 00-setup-check.ipynb (not the
Launcher); its settings come from scripts/lab-settings/overrides.json (no
"official Jupyter news?" question, no update check, file names not cut by
a date column). JupyterLab's own log goes to a file, so that nothing follows
the address. Ctrl-C stops JupyterLab and its kernels.

Environment: WSTUTORIAL_LAB_PORT (default 8890, else a free port; the
tutorial's own server uses 8888), JUPYTER_TOKEN (default: a new random one),
WSTUTORIAL_LAB_LOG (default: jupyterlab.log in the environment's folder),
WSTUTORIAL_LAB_WORKSPACES (default: lab-workspaces there).
Further arguments go to ``jupyter lab`` (e.g. --no-browser).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from wstutorial.address import free_port

ROOT = Path(__file__).resolve().parent.parent
FIRST_NOTEBOOK = "00-setup-check.ipynb"
# The first layout of the tutorial's JupyterLab: a file browser wide enough for
# the notebooks' names (JupyterLab saves the student's own layout over it).
FIRST_LAYOUT = {
    "data": {
        "layout-restorer:data": {
            "main": {"dock": None},
            "left": {"collapsed": False, "visible": True, "current": "filebrowser", "widgets": ["filebrowser"]},
            "right": {"collapsed": True, "visible": True, "widgets": []},
            "relativeSizes": [0.28, 0.72, 0],
        }
    },
    "metadata": {"id": "default"},
}
PREFERRED_PORT = 8890  # JupyterLab's own default, 8888, is the tutorial server's port
START_TIMEOUT = 180.0


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def choose_port() -> int:
    wanted = os.environ.get("WSTUTORIAL_LAB_PORT", "").strip()
    if wanted:
        if not wanted.isdigit():
            sys.exit(f"error: WSTUTORIAL_LAB_PORT must be a port number, got {wanted!r}")
        return int(wanted)
    if port_is_free(PREFERRED_PORT):
        return PREFERRED_PORT
    return free_port()


def workspaces(folder: Path) -> Path:
    """JupyterLab's workspaces for the tutorial, starting with FIRST_LAYOUT."""
    folder.mkdir(parents=True, exist_ok=True)
    default = folder / "default-37a8.jupyterlab-workspace"  # jupyterlab_server's file name for "default"
    if not default.exists():
        default.write_text(json.dumps(FIRST_LAYOUT), encoding="utf-8")
    return folder


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(arguments: list[str]) -> int:
    signal.signal(signal.SIGTERM, _interrupted)  # stopped from outside: stop JupyterLab too
    port = choose_port()
    token = os.environ.get("JUPYTER_TOKEN") or secrets.token_hex(24)
    log_path = Path(os.environ.get("WSTUTORIAL_LAB_LOG") or Path(sys.prefix) / "jupyterlab.log")
    command = [
        sys.executable, "-m", "jupyter", "lab",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={ROOT / 'notebooks'}",
        # Every address of this JupyterLab opens the first notebook.
        f"--LabApp.default_url=/lab/tree/{FIRST_NOTEBOOK}",
        f"--LabApp.app_settings_dir={ROOT / 'scripts' / 'lab-settings'}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        f"--LabApp.workspaces_dir={workspaces(Path(os.environ.get('WSTUTORIAL_LAB_WORKSPACES') or Path(sys.prefix) / 'lab-workspaces'))}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # Containers and fresh cloud machines often log in as root; JupyterLab refuses that unless told.
        command.append("--ServerApp.allow_root=True")
    command += arguments
    # The token goes by environment, not on the command line, where `ps` would show it.
    environment = {**os.environ, "JUPYTER_TOKEN": token}
    with log_path.open("ab") as log:
        # Its own session: Ctrl-C reaches this script, which then stops JupyterLab
        # without JupyterLab's "Shutdown this Jupyter server (y/[n])?" question.
        process = subprocess.Popen(
            command, env=environment, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True
        )
    try:
        if not wait_until_ready(process, port, token, log_path):
            return process.returncode if process.returncode else 1
        url = f"http://127.0.0.1:{port}/lab/tree/{FIRST_NOTEBOOK}?token={token}"
        print(f"==> JupyterLab is running (its log: {log_path}); Ctrl-C stops it.")
        print("Open the tutorial at this address:")
        print(url, flush=True)
        return process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # JupyterLab shuts its kernels down, then exits
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    return 0


def wait_until_ready(process: subprocess.Popen[bytes], port: int, token: str, log_path: Path) -> bool:
    deadline = time.monotonic() + START_TIMEOUT
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/status", headers={"Authorization": f"token {token}"})
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_path.read_text(encoding="utf-8", errors="replace")[-3000:]
            print(tail, file=sys.stderr)
            print(f"error: JupyterLab stopped (exit code {process.returncode}); its log is above and in {log_path}", file=sys.stderr)
            return False
        try:
            with urllib.request.urlopen(request, timeout=5):
                return True
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    process.terminate()
    print(f"error: JupyterLab did not answer within {START_TIMEOUT:g} s; see {log_path}", file=sys.stderr)
    return False


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
