"""Packaging: the pages ship in the wheel, and the two dependency lists agree."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


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


def _names(requirements: list[str]) -> dict[str, str]:
    return {req.split(">")[0].split("=")[0].split("<")[0].split("!")[0].strip().lower(): req.replace(" ", "") for req in requirements}


# conda-forge names of packages that PyPI knows under another name.
CONDA_NAMES = {"redis-py": "redis"}
# Programs (not Python packages) the notebooks run; conda-forge has them, pip has not.
PROGRAMS = {"redis-server", "nginx"}


def test_environment_yml_matches_pyproject() -> None:
    """environment.yml lists the same packages and versions as pyproject.toml (core + test), and the programs."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = _names(project["dependencies"] + project["optional-dependencies"]["test"])
    listed = []
    text = (ROOT / "environment.yml").read_text()
    for line in text.split("\ndependencies:", 1)[1].splitlines():
        item = line.strip()
        if item.startswith("- ") and not item.startswith(("- python=", "- pip", "- -")) and ":" not in item:
            listed.append(item[2:])
    programs = {item for item in listed if item in PROGRAMS}
    assert programs == PROGRAMS
    packages = [item for item in listed if item not in PROGRAMS]
    for conda, pip in CONDA_NAMES.items():
        packages = [pip + item[len(conda):] if item.startswith(conda) else item for item in packages]
    assert _names(packages) == wanted
