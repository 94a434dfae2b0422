"""The teacher's default wheelhouse, made once per test session for the test files that need it.

``python -m wstutorial wheelhouse DIR`` with its defaults (every platform and
Python version a class may have), plus what the student's nbval run needs.
The first test file to ask makes it; the others, on any pytest-xdist worker,
wait on a file lock and take the same folder and output. ``scripts/test.sh``
starts it before the tests (``python tests/class_wheels.py FOLDER``, folder in
``$WSTUTORIAL_TEST_WHEELHOUSE``): it waits on the package registry, so it
downloads while the browser is installed and the first tests run. ``fake_wheel``
makes a small wheel with the requirements a test names.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from filelock import FileLock

# Installed too, for the student's notebook run under nbval (tests/test_student_install.py).
ALSO = ("nbval", "pytest", "pytest-timeout")


@dataclasses.dataclass(frozen=True)
class Wheelhouse:
    folder: Path
    returncode: int
    stdout: str
    stderr: str


def default_wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Wheelhouse:
    """The folder, made by the command as a teacher runs it (once per session: xdist workers share it)."""
    if os.environ.get("WSTUTORIAL_TEST_WHEELHOUSE"):
        return make_wheelhouse(Path(os.environ["WSTUTORIAL_TEST_WHEELHOUSE"]))  # started by scripts/test.sh
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # this session's folder, common to its workers
    return make_wheelhouse(root)


def make_wheelhouse(root: Path) -> Wheelhouse:
    """Run ``wheelhouse`` into ``root/class-wheelhouse`` unless done already; whoever comes second waits on the lock."""
    root.mkdir(parents=True, exist_ok=True)
    folder, record = root / "class-wheelhouse", root / "class-wheelhouse.json"
    with FileLock(str(root / "class-wheelhouse.lock")):
        if not record.exists():
            command = [sys.executable, "-m", "wstutorial", "wheelhouse", str(folder)]
            for name in ALSO:
                command += ["--with", name]
            made = subprocess.run(command, capture_output=True, text=True, timeout=1500)
            record.write_text(json.dumps({"returncode": made.returncode, "stdout": made.stdout, "stderr": made.stderr}))
        return Wheelhouse(folder, **json.loads(record.read_text()))


def fake_wheel(folder: Path, name: str, version: str, requires: list[str], tag: str = "py3-none-any") -> Path:
    path = folder / f"{name}-{version}-{tag}.whl"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n" + "".join(
        f"Requires-Dist: {text}\n" for text in requires
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{name}-{version}.dist-info/METADATA", metadata)
        archive.writestr(f"{name}-{version}.dist-info/WHEEL", f"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: {tag}\n")
    return path


if __name__ == "__main__":
    made = make_wheelhouse(Path(sys.argv[1]))
    print(f"class wheelhouse in {made.folder}: exit {made.returncode}")
