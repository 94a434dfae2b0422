"""Packaging: the pages ship in the wheel, the lean install runs a script, and the dependency lists agree."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from helpers import ROOT

CONSTRAINTS = ROOT / "constraints.txt"
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
NOTEBOOK_PART = ("jupyterlab", "ipywidgets", "ipykernel", "bqplot", "jupyter_server", "packaging")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(out), str(ROOT)],
        check=True,
        timeout=300,
    )
    (built,) = out.glob("wstutorial-*.whl")
    return built


def test_wheel_contains_the_pages(wheel: Path) -> None:
    """Every file of static/ is inside the wheel, under wstutorial/static/."""
    names = set(zipfile.ZipFile(wheel).namelist())
    for page in (ROOT / "static").iterdir():
        assert f"wstutorial/static/{page.name}" in names
    # The tested versions, for the teacher's wheelhouse from an installed copy.
    assert zipfile.ZipFile(wheel).read("wstutorial/constraints.txt") == CONSTRAINTS.read_bytes()
    # The teacher's notes, for python -m wstutorial notes (notebook 06 sends teachers there).
    assert zipfile.ZipFile(wheel).read("wstutorial/docs/teaching.md") == (ROOT / "docs" / "teaching.md").read_bytes()


def test_installed_copy_serves_the_pages(wheel: Path, tmp_path: Path) -> None:
    """An installed copy, run away from the checkout, serves hello.html from inside the package."""
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
        timeout=300,
    )
    script = (
        "import urllib.request, wstutorial, wstutorial.server.app as app\n"
        "s = wstutorial.start_server(port=0)\n"
        "print(app.static_dir())\n"
        "print(urllib.request.urlopen(s.page_url('hello.html'), timeout=5).read().decode())\n"
        "s.stop()\n"
    )
    env = dict(os.environ, PYTHONPATH=str(target))
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    static_dir, _, page = result.stdout.partition("\n")
    assert Path(static_dir) == target / "wstutorial" / "static"
    assert 'id="uri"' in page
    # The teacher's wheelhouse from an installed copy finds the lock inside the package.
    lock = subprocess.run(
        [sys.executable, "-c", "from wstutorial.tools.wheelhouse import constraints_file; print(constraints_file())"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )
    assert lock.stdout.strip() == str(target / "wstutorial" / "constraints.txt"), lock.stderr
    # The teacher's notes from an installed copy: the file inside the package, and the command that prints it.
    notes = subprocess.run(
        [sys.executable, "-m", "wstutorial", "notes", "--path"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert notes.stdout.strip() == str(target / "wstutorial" / "docs" / "teaching.md"), notes.stderr


def _names(requirements: list[str]) -> dict[str, object]:
    return {canonicalize_name(Requirement(text).name): Requirement(text).specifier for text in requirements}


def _declared() -> list[Requirement]:
    """Every dependency of pyproject.toml: core and every extra (not wstutorial's own extras)."""
    texts = PROJECT["dependencies"] + [text for extra in PROJECT["optional-dependencies"].values() for text in extra]
    return [Requirement(text) for text in texts if Requirement(text).name != "wstutorial"]


def _locked() -> dict[str, str]:
    """constraints.txt as {canonical name: pinned version} (a pin with a marker too: it is not installed here)."""
    pins = {}
    for line in CONSTRAINTS.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            pin = line.split(";", 1)[0]
            name, _, version = pin.partition("==")
            assert version, f"constraints.txt: {line!r} is not a pin 'name==version'; refresh with bash scripts/lock.sh"
            pins[canonicalize_name(name)] = version.strip()
    return pins


# conda-forge names of packages that PyPI knows under another name.
CONDA_NAMES = {"redis-py": "redis"}
# Programs (not Python packages) that notebooks 08 and 09 run; conda-forge has them, PyPI has not.
PROGRAMS = {"redis-server", "nginx"}


def test_environment_yml_matches_pyproject() -> None:
    """environment.yml lists the same packages and versions as pyproject.toml (core + notebook + test), and the programs."""
    wanted = {canonicalize_name(requirement.name): requirement.specifier for requirement in _declared()}
    listed = []
    text = (ROOT / "environment.yml").read_text()
    for line in text.split("\ndependencies:", 1)[1].splitlines():
        item = line.strip()
        if item.startswith("- ") and not item.startswith(("- python=", "- pip", "- -")) and ":" not in item:
            listed.append(item[2:])
    assert {item for item in listed if item in PROGRAMS} == PROGRAMS
    packages = []
    for item in listed:
        if item in PROGRAMS:
            continue
        for conda, pip in CONDA_NAMES.items():
            if item.startswith(conda):
                item = pip + item[len(conda):]
        packages.append(item)
    assert _names(packages) == wanted


def test_test_extra_includes_the_notebook_extra() -> None:
    assert "wstutorial[notebook]" in PROJECT["optional-dependencies"]["test"]


def test_lock_pins_every_dependency() -> None:
    """constraints.txt pins every dependency of pyproject.toml, at a version its range accepts."""
    pins = _locked()
    for requirement in _declared():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not in constraints.txt: run bash scripts/lock.sh"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"constraints.txt pins {name}=={pins[name]}, outside {requirement}: run bash scripts/lock.sh"
        )


def test_tests_run_against_the_lock() -> None:
    """This environment has the locked version of every package it has (setup-env.sh installs with -c)."""
    pins = _locked()
    different = {}
    for dist in importlib.metadata.distributions():
        name = canonicalize_name(dist.metadata["Name"])
        if name in pins and dist.version != pins[name]:
            different[name] = f"{dist.version} installed, {pins[name]} locked"
    assert not different, f"not the locked versions (run bash scripts/setup-env.sh test): {different}"


def test_lean_install_runs_a_script(wheel: Path, tmp_path: Path) -> None:
    """pip install wstutorial alone (the wheel, at the locked Tornado) in a fresh venv: a script works, no JupyterLab."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    python = venv / "bin" / "python"
    # This environment's pip installs into the new one: tornado from pip's cache or the package registry.
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--disable-pip-version-check",
         "-c", str(CONSTRAINTS), str(wheel)],
        check=True,
        timeout=240,
    )
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "list", "--format=freeze", "--disable-pip-version-check"],
        check=True, capture_output=True, text=True, timeout=60,
    ).stdout
    names = {canonicalize_name(line.split("==")[0]) for line in installed.splitlines() if "==" in line}
    assert names == {"tornado", "wstutorial"}, installed
    script = (
        "import importlib.util, sys\n"
        "import wstutorial\n"
        "server = wstutorial.start_server(port=0)\n"
        "with wstutorial.connect_blocking(server.ws_url('/echo')) as client:\n"
        "    client.send('from a script')\n"
        "    print(client.receive(timeout=10))\n"
        "server.stop()\n"
        f"print([name for name in {NOTEBOOK_PART!r} if importlib.util.find_spec(name)])\n"
    )
    result = subprocess.run([str(python), "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["from a script", "[]"]
    # The setup check works there too, and says what to install for the notebooks.
    check = subprocess.run(
        [str(python), "-m", "wstutorial", "check"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert check.returncode == 1, check.stdout + check.stderr
    lines = check.stdout.splitlines()
    assert lines[0].startswith("ok       python: ")
    assert lines[1].startswith("ok       tornado: ") and "not compared" in lines[1]
    assert lines[2].startswith("PROBLEM  notebook part: not installed (jupyterlab, ipywidgets,")
    assert lines[2].endswith('-m pip install "wstutorial[notebook]"')  # double quotes: every shell
    assert lines[3].startswith("ok       local server: ")
    assert lines[4] == "1 of 4 checks found a problem: notebook part"
    assert check.stderr == ""
    # Several processes need the Redis client of the notebook part: one line says so, no traceback.
    workers = subprocess.run(
        [str(python), "-m", "wstutorial", "serve", "--workers", "2"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert workers.returncode == 1
    assert workers.stderr == "error: serve --workers needs the Python package 'redis': pip install 'wstutorial[notebook]'\n"
