"""A student's laptop, for real: wheels from the teacher's machine only, then ``python -m wstutorial lab``.

One fresh virtual environment outside the checkout, filled by pip with
``--no-index --find-links http://<teacher>/wheels/`` and no pip configuration
(so no other index, mirror or wheel folder is reachable), from the wheelhouse
that ``python -m wstutorial wheelhouse`` makes by default (every platform; the
same folder as tests/tools/test_wheelhouse.py's, made once) and that
``python -m wstutorial classroom --wheels`` serves. Then the lab command in an
empty folder: JupyterLab answers, the notebooks are there, a student's change
survives a second run and an upgrade, and the student's notebook runs from
that folder under nbval.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import venv
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from class_wheels import ALSO, default_wheelhouse
from helpers import ROOT, free_port

SLOW = pytest.mark.timeout(1800)  # waits for the shared wheelhouse (tests/class_wheels.py), installs JupyterLab into a fresh venv

# Set by pip's configuration on this machine (mirrors, wheel folders): a student has none of it.
PIP_ENV = {"PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a student's terminal: no PIP_* settings, no PYTHONPATH into the checkout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON", "VIRTUAL_ENV", "JUPYTER"))}
    env.update(PIP_ENV, PYTHONUNBUFFERED="1", **extra)
    return env


def read_until(process: subprocess.Popen[str], marker: str, timeout: float) -> list[str]:
    """stdout lines up to and including the one containing ``marker``."""
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            raise AssertionError(f"ended before {marker!r} (exit {process.wait(10)}):\n{''.join(lines)}")
        lines.append(line)
        if marker in line:
            return lines
    raise AssertionError(f"no {marker!r} within {timeout} s:\n{''.join(lines)}")


def stop(process: subprocess.Popen[str]) -> str:
    """Ctrl-C, as in a terminal; the rest of the output."""
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=60)
    return out


@dataclass
class Student:
    python: Path
    home: Path
    teacher_command: str
    wheels: Path

    def run(self, *args: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.python), *args], cwd=cwd, env=self.env(), capture_output=True, text=True, timeout=timeout
        )

    def env(self) -> dict[str, str]:
        return clean_env(
            HOME=str(self.home), USERPROFILE=str(self.home),
            JUPYTER_CONFIG_DIR=str(self.home / "jupyter-config"), JUPYTER_DATA_DIR=str(self.home / "jupyter-data"),
            JUPYTER_RUNTIME_DIR=str(self.home / "jupyter-runtime"), IPYTHONDIR=str(self.home / "ipython"),
            WSTUTORIAL_PORT=str(free_port()),
        )

    def lab(self, folder: Path, *args: str) -> tuple[subprocess.Popen[str], list[str]]:
        process = subprocess.Popen(
            [str(self.python), "-m", "wstutorial", "lab", *args, "--no-browser"],
            cwd=folder, env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            # A terminal's Ctrl-C, even when the tests run in a background job (which ignores SIGINT, and so
            # would every process it starts: the lab command would never stop).
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        try:
            return process, read_until(process, "token=", timeout=240)  # the address: the last line
        except BaseException:
            process.kill()
            process.wait()
            raise


@pytest.fixture(scope="module")
def student(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Student]:
    base = tmp_path_factory.mktemp("laptop")
    # The teacher's default wheelhouse (every platform; tests/tools/test_wheelhouse.py checks each), shared.
    made = default_wheelhouse(tmp_path_factory)
    assert made.returncode == 0, made.stdout[-3000:] + made.stderr[-3000:]
    wheels = made.folder
    port = free_port()
    teacher = subprocess.Popen(
        [sys.executable, "-m", "wstutorial", "classroom", "--host", "127.0.0.1", "--port", str(port),
         "--wheels", str(wheels), "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    try:
        printed = "".join(read_until(teacher, "Press Ctrl-C", timeout=60))
        assert "cannot install" not in printed, printed  # the folder serves every platform: no warning
        command = next(line.strip() for line in printed.splitlines() if "--no-index" in line)
        assert command == (
            f'python -m pip install --no-index --find-links http://localhost:{port}/wheels/ "wstutorial[notebook]"'
        ), printed
        environment = base / "student-venv"
        venv.EnvBuilder(with_pip=True).create(environment)
        python = environment / ("Scripts" if os.name == "nt" else "bin") / "python"
        home = base / "home"
        home.mkdir()
        result = Student(python, home, command, wheels)
        args = command.split()[1:-1] + ["wstutorial[notebook]", *ALSO]
        installed = result.run(*args, cwd=home, timeout=900)
        assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]
        yield result
    finally:
        if teacher.poll() is None:
            stop(teacher)


@SLOW
def test_installed_from_the_teachers_wheels_alone(student: Student) -> None:
    """The fresh venv got every package from the teacher's /wheels/ (no other source was configured)."""
    shown = student.run("-m", "pip", "show", "wstutorial", "jupyterlab", cwd=student.home)
    assert shown.returncode == 0 and "Name: jupyterlab" in shown.stdout
    location = student.run("-c", "import wstutorial; print(wstutorial.__file__)", cwd=student.home).stdout.strip()
    assert Path(location).is_relative_to(student.python.parent.parent) and not Path(location).is_relative_to(ROOT)
    check = student.run("-m", "wstutorial", "check", cwd=student.home, timeout=300)
    assert check.returncode == 0, check.stdout + check.stderr
    # Without the teacher's server pip finds nothing: no other index was ever reachable.
    offline = student.run(
        "-m", "pip", "download", "--no-index", "--find-links", "http://127.0.0.1:1/wheels/", "--dest",
        str(student.home / "nothing"), "tornado", cwd=student.home, timeout=120,
    )
    assert offline.returncode != 0


@SLOW
def test_installed_package_rebuilds_its_own_wheel(student: Student, tmp_path: Path) -> None:
    """A teacher who installed from a wheel (no checkout) can still make a wheelhouse: the wheel is rebuilt."""
    script = "import sys, pathlib; from wstutorial.tools.wheelhouse import own_wheel; print(own_wheel(pathlib.Path(sys.argv[1])))"
    result = student.run("-c", script, str(tmp_path), cwd=student.home)
    assert result.returncode == 0, result.stderr
    rebuilt = Path(result.stdout.strip().splitlines()[-1])
    (original,) = student.wheels.glob("wstutorial-*.whl")
    assert rebuilt.name == original.name
    names = set(zipfile.ZipFile(rebuilt).namelist())
    assert names == set(zipfile.ZipFile(original).namelist())
    assert "wstutorial/notebooks/00-setup-check.ipynb" in names and "wstutorial/static/hello.html" in names


def add_markdown_cell(path: Path, text: str) -> None:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    notebook["cells"].append({"cell_type": "markdown", "id": f"cell-{abs(hash(text)) % 10**8}", "metadata": {}, "source": [text]})
    path.write_text(json.dumps(notebook, indent=1) + "\n", encoding="utf-8")


def upgraded_wheel(out: Path, version: str) -> Path:
    """The same tutorial as a newer release whose 01 notebook has one more cell."""
    source = out / "src"
    # The checkout as the build sees it (every folder pyproject.toml ships), without what only tools leave.
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "tests", "bench", "test-artifacts", "__pycache__", ".ipynb_checkpoints", ".*_cache",
    ))
    pyproject = source / "pyproject.toml"
    pyproject.write_text(re.sub(r'(?m)^version = ".*"$', f'version = "{version}"', pyproject.read_text()))
    init = source / "wstutorial" / "__init__.py"
    init.write_text(re.sub(r'(?m)^__version__ = ".*"$', f'__version__ = "{version}"', init.read_text()))
    add_markdown_cell(source / "notebooks" / "01-hello-server.ipynb", f"New in {version}.")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(out), str(source)],
        check=True, timeout=300,
    )
    (wheel,) = out.glob(f"wstutorial-{version}-*.whl")
    return wheel


def tutorial_names() -> set[str]:
    notebooks = ROOT / "notebooks"
    return {
        p.relative_to(notebooks).as_posix() for p in notebooks.rglob("*")
        # my-pages/: the student's copies that notebook 03 makes (git-ignored, so not in the wheel).
        if p.is_file() and p.name != "sanitize.cfg"
        and not {"__pycache__", ".ipynb_checkpoints", "my-pages", "my-program"} & set(p.relative_to(notebooks).parts)
    }


@SLOW
def test_lab_opens_the_tutorial_and_keeps_the_students_changes(student: Student, tmp_path: Path) -> None:
    workplace = tmp_path / "empty"
    workplace.mkdir()
    process, lines = student.lab(workplace)
    try:
        (url,) = [line.strip() for line in lines if "token=" in line]
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/lab/tree/00-setup-check\.ipynb\?token=\w+", url), url
        with urllib.request.urlopen(url, timeout=30) as page:  # JupyterLab answers, with the notebook's page
            assert page.status == 200 and b"JupyterLab" in page.read()
        token = url.rsplit("token=", 1)[1]
        base = url.split("/lab/")[0]
        request = urllib.request.Request(f"{base}/api/contents/", headers={"Authorization": f"token {token}"})
        with urllib.request.urlopen(request, timeout=30) as listing:
            shown = {item["name"] for item in json.load(listing)["content"]}
        assert {"00-setup-check.ipynb", "06-classroom.ipynb", "exercises", "solutions"} <= shown
        # The settings shipped in the wheel apply: no "official Jupyter news?" question.
        request = urllib.request.Request(
            f"{base}/lab/api/settings/@jupyterlab/apputils-extension:notification",
            headers={"Authorization": f"token {token}"},
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            assert json.load(answer)["schema"]["properties"]["fetchNews"]["default"] == "false"
    finally:
        output = stop(process)
    assert process.returncode == 0 and "JupyterLab stopped." in output, output
    folder = workplace / "wstutorial-notebooks"
    copied = {  # not the hidden log, manifest and JupyterLab layouts
        p.relative_to(folder).as_posix() for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    }
    assert copied == tutorial_names()
    assert f"Copied {len(copied)} tutorial file(s) into {folder}." in "".join(lines)

    # The student writes in notebook 01; a second run keeps it.
    mine = folder / "01-hello-server.ipynb"
    add_markdown_cell(mine, "My own notes.")
    process, lines = student.lab(workplace)
    stop(process)
    assert "My own notes." in mine.read_text(encoding="utf-8")
    assert "Kept your changes in: 01-hello-server.ipynb." in "".join(lines)
    assert f"The tutorial's files in {folder} are up to date." in "".join(lines)

    # The tutorial is upgraded: the student's 01 stays, the new 01 goes beside it.
    version = "0.1.0.post1"
    upgrade = student.run("-m", "pip", "install", "--no-index", "--no-deps", "--force-reinstall",
                          str(upgraded_wheel(tmp_path, version)), cwd=student.home)
    assert upgrade.returncode == 0, upgrade.stderr
    process, lines = student.lab(workplace)
    stop(process)
    side = folder / f"01-hello-server (tutorial {version}).ipynb"
    assert (
        f"Kept your changed 01-hello-server.ipynb; the newer tutorial version is beside it: {side.name}"
        in "".join(lines)
    )
    assert "My own notes." in mine.read_text(encoding="utf-8")
    assert f"New in {version}." in side.read_text(encoding="utf-8")

    # And the student's notebook runs, from that folder, with the installed package, under nbval:
    # every cell, in order, without an error. (--nbval-lax: the stored outputs are compared by the
    # checkout's own nbval run of notebooks/, which owns them; here what counts is that the copy runs.)
    result = student.run(
        "-m", "pytest", "-p", "no:cacheprovider", "--nbval-lax", "--nbval-current-env", "--nbval-cell-timeout=120",
        "--rootdir", str(folder), mine.name, cwd=folder, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    assert re.search(r"\d+ passed", result.stdout) and "failed" not in result.stdout
