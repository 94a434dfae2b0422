"""Starting and stopping a real program (services/local.py): finding it, waiting for its port, stopping it for sure, its folder."""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from helpers import free_port
from wstutorial.services import ServiceError, ServiceMissing
from wstutorial.services.local import LocalService, OnePerKey, find_program, start_process, stop_process, wait_for_port

PYTHON = Path(sys.executable).name


def test_missing_program_says_how_to_install() -> None:
    """A program that is not installed is named, with the install command."""
    with pytest.raises(ServiceMissing, match="no-such-server-wstutorial is not installed.*apt-get install x"):
        find_program("no-such-server-wstutorial", "sudo apt-get install x")


def test_a_program_off_the_path_is_found_in_the_extra_folders(tmp_path: Path) -> None:
    """As nginx in /usr/sbin: a program in one of extra_dirs (not on PATH) is found there, by its full path."""
    program = tmp_path / "wstutorial-test-program"
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    with pytest.raises(ServiceMissing):
        find_program(program.name, "install it", extra_dirs=())
    assert find_program(program.name, "install it", extra_dirs=("/nonexistent", str(tmp_path))) == str(program)


def test_waiting_for_a_port_says_why_nothing_listens(tmp_path: Path) -> None:
    """A program that exits first: its name, exit code, the address and its log's end; one that never listens: the address and the time."""
    folder = tempfile.TemporaryDirectory(dir=tmp_path)
    port = free_port()
    failing = start_process([sys.executable, "-c", "print('bad setting on line 1'); raise SystemExit(3)"], folder, "failing.log")
    with pytest.raises(ServiceError) as exited:
        wait_for_port("127.0.0.1", port, failing, 30, Path(folder.name) / "failing.log")
    assert str(exited.value) == (
        f"{PYTHON} exited with code 3 before listening on 127.0.0.1:{port}; its log ends with:\nbad setting on line 1"
    )
    silent = start_process([sys.executable, "-c", "import time; time.sleep(60)"], folder, "silent.log")
    try:
        with pytest.raises(ServiceError, match=rf"^nothing listens on 127\.0\.0\.1:{port} after 0\.3 s"):
            wait_for_port("127.0.0.1", port, silent, 0.3, None)
        assert silent.poll() is None  # waiting gave up; ending the program is the caller's choice
    finally:
        stop_process(silent)
        folder.cleanup()


def test_stop_process_kills_a_program_that_ignores_terminate() -> None:
    """A program that ignores SIGTERM is killed once ``timeout`` has passed; a program already ended is left as it is."""
    stubborn = subprocess.Popen(
        [sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert stubborn.stdout is not None and stubborn.stdout.readline() == "ready\n"
        stop_process(stubborn, timeout=0.5)
        assert stubborn.returncode == -signal.SIGKILL
        stop_process(stubborn)  # ended: nothing to do, no error
        assert stubborn.returncode == -signal.SIGKILL
    finally:
        if stubborn.poll() is None:
            stubborn.kill()
            stubborn.wait()
        assert stubborn.stdout is not None
        stubborn.stdout.close()


def test_one_per_key_forgets_only_the_one_it_keeps() -> None:
    """forget(key, old) after put(key, new) keeps new: a stopped old service must not drop its successor."""
    started: OnePerKey[str] = OnePerKey()
    started.put(6379, "old")
    started.put(6379, "new")
    started.forget(6379, "old")
    assert started.get(6379) == "new"
    started.forget(6379, "new")
    assert started.get(6379) is None and started.values() == []
    started.put(0, "a")
    assert started.pop(0) == "a" and started.pop(0) is None


def test_a_local_service_stops_and_removes_its_folder() -> None:
    """``with`` stops the program and removes its folder; stop again is fine; the repr says running, then stopped."""
    folder = tempfile.TemporaryDirectory(prefix="wstutorial-test-")
    process = start_process([sys.executable, "-c", "import time; time.sleep(60)"], folder, "service.log")
    port = free_port()
    with LocalService(process, folder, "127.0.0.1", port) as service:
        assert service.running and (service.folder / "service.log").is_file()
        assert repr(service) == f"<LocalService 127.0.0.1:{port} running>"
    assert process.poll() is not None and not service.running
    assert not service.folder.exists()
    service.stop()  # twice is fine
    assert repr(service) == f"<LocalService 127.0.0.1:{port} stopped>"
