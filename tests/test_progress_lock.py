"""Two notebooks open at once: their kernels update the one local progress file without losing a result.

Real processes (the kernels), each recording its own results into the same
file at the same moment; and a lock held by a hung kernel, which must not
hang a check.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import filelock
import pytest

from wstutorial.student import progress

KERNELS = 2
EACH = 20  # KERNELS * EACH == MAX_KEPT: every result must be kept

# One kernel: says "ready", waits for "go" (all start together), records EACH results of its own.
KERNEL = """
import sys
from wstutorial.student import progress
kernel = sys.argv[1]
print("ready", flush=True)
sys.stdin.readline()
for number in range(int(sys.argv[2])):
    progress._keep(progress.Progress(f"kernel{kernel}_{number}", True, "ok"), "")
print("done", flush=True)
"""


def test_kernels_recording_at_once_lose_no_result(tmp_path: Path) -> None:
    assert KERNELS * EACH <= progress.MAX_KEPT
    path = tmp_path / "progress.json"
    env = {**os.environ, "WSTUTORIAL_PROGRESS_FILE": str(path)}
    kernels = [
        subprocess.Popen([sys.executable, "-c", KERNEL, str(k), str(EACH)], env=env, text=True,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for k in range(KERNELS)
    ]  # fmt: skip
    try:
        for kernel in kernels:
            assert kernel.stdout is not None and kernel.stdout.readline().strip() == "ready"
        for kernel in kernels:
            assert kernel.stdin is not None
            kernel.stdin.write("go\n")
            kernel.stdin.flush()
        outputs = [kernel.communicate(timeout=60) for kernel in kernels]
    finally:
        for kernel in kernels:
            kernel.kill()
    for kernel, (out, err) in zip(kernels, outputs, strict=True):
        assert kernel.returncode == 0 and out.strip() == "done" and err == "", err
    kept = json.loads(path.read_text(encoding="utf-8"))["results"]
    expected = {f"kernel{k}_{n}" for k in range(KERNELS) for n in range(EACH)}
    assert expected - set(kept) == set(), "results lost by concurrent updates"


def test_a_lock_held_by_a_hung_kernel_does_not_hang_a_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "progress.json"
    monkeypatch.setenv("WSTUTORIAL_PROGRESS_FILE", str(path))
    monkeypatch.setattr(progress, "LOCK_TIMEOUT", 0.2)
    # Another process holds the lock and never lets go (until the test ends).
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, filelock\nlock = filelock.FileLock(sys.argv[1])\nlock.acquire()\n"
         "print('held', flush=True)\nsys.stdin.readline()\n", str(path) + ".lock"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(filelock.Timeout):  # the lock really is held
            filelock.FileLock(str(path) + ".lock", timeout=0).acquire()
        progress._keep(progress.Progress("upper_case", True, "ok"), "")
    finally:
        holder.kill()
        holder.wait(timeout=10)
    assert "upper_case" in json.loads(path.read_text(encoding="utf-8"))["results"]
    assert "held for more than 0.2 s by another kernel" in caplog.text
