"""python -m wstutorial check: one line per check, non-zero exit on any problem."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from helpers import ROOT
from wstutorial.teaching import check


def run_cli(env: dict[str, str] | None = None, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wstutorial", "check", *options],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=ROOT,
    )


def test_cli_passes_here() -> None:
    """In the test environment every check passes: one 'ok' line per check, exit 0."""
    result = run_cli()
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1].startswith("all ") and lines[-1].endswith("checks passed: ready for the tutorial")
    checks = lines[:-1]
    assert all(line.startswith("ok ") for line in checks), lines
    names = [line.split(":")[0].split(None, 1)[1] for line in checks]
    assert names[:3] == ["python", "tornado", "notebook packages"] and "widgets" in names
    assert f"all {len(check.NOTEBOOK_REQUIREMENTS)} are installed (jupyterlab " in checks[2]
    assert checks[2].endswith("-m wstutorial check --verbose")
    assert any("labextension @jupyter-widgets/jupyterlab-manager" in line for line in checks)
    assert any(line.startswith("ok       local server") and "Hello World" in line for line in checks)
    assert result.stderr == ""
    # --verbose: one line per package instead, the same checks otherwise.
    verbose = run_cli(None, "--verbose").stdout.splitlines()
    listed = [line.split(":")[0].split(None, 1)[1] for line in verbose[:-1]]
    assert listed == names[:2] + list(check.NOTEBOOK_REQUIREMENTS) + names[3:], verbose
    assert verbose[-1] == f"all {len(listed)} checks passed: ready for the tutorial"


def test_cli_fails_on_an_excluded_ipykernel(tmp_path: Path) -> None:
    """With ipykernel 7.0.0 first on the path, the check says PROBLEM with the pip command, and exits 1."""
    fake = tmp_path / "ipykernel-7.0.0.dist-info"
    fake.mkdir()
    (fake / "METADATA").write_text("Metadata-Version: 2.1\nName: ipykernel\nVersion: 7.0.0\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    result = run_cli(env)
    assert result.returncode == 1
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("PROBLEM")]
    assert line.startswith("PROBLEM  ipykernel: 7.0.0 is installed, the tutorial needs")
    assert "!=7.0.0" in line and "break widget updates from threads" in line
    # Double quotes: the same command in cmd.exe, PowerShell and bash.
    assert line.endswith('-m pip install "ipykernel>=6.29,!=7.0.0,!=7.0.1"')
    assert result.stdout.splitlines()[-1].endswith("checks found a problem: ipykernel")
    others = len(check.NOTEBOOK_REQUIREMENTS) - 1
    assert f"ok       notebook packages: the other {others} are installed (jupyterlab " in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_missing_package_and_too_old() -> None:
    """A missing package and a too-old one each give a sentence and a pip command."""
    missing = check.check_package("no-such-package-wstutorial", "no-such-package-wstutorial>=1", "testing")
    assert not missing.ok
    assert str(missing).startswith("PROBLEM  no-such-package-wstutorial: not installed (testing); fix: ")
    old = check.check_package("tornado", "tornado>=999", "the server")
    assert not old.ok and "the tutorial needs >=999" in old.detail
    assert 'pip install "tornado>=999"' in old.fix


def test_missing_labextension_says_how_to_fix() -> None:
    """An extension JupyterLab cannot find is a PROBLEM naming the folders and the reinstall command."""
    result = check.check_labextension("@nobody/not-installed", "jupyterlab_widgets")
    assert not result.ok
    assert "not found where JupyterLab looks" in result.detail
    assert result.fix.endswith("pip install --force-reinstall --no-deps jupyterlab_widgets")


def test_run_checks_for_the_notebook() -> None:
    """run_checks() returns the results: ok, no problems, a version-free summary, one line each."""
    results = check.run_checks()
    assert results.ok and results.problems == []
    assert results.summary() == f"all {len(results)} checks passed: ready for the tutorial"
    assert repr(results).count("\n") == len(results) - 1


def test_adding_a_notebook_package_changes_nothing_notebook_00_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Notebook 00 stores the summary and the names: another (installed) package in the extra changes neither."""
    before = check.run_checks()
    monkeypatch.setitem(check.NOTEBOOK_REQUIREMENTS, "pytest", ("pytest>=7", "the tests"))
    after = check.run_checks()
    assert [c.name for c in after] == [c.name for c in before] and after.summary() == before.summary()
    assert "pytest " in after[2].detail and after[2].name == "notebook packages"
    # A missing one gets its own line with the fix; the summary names it.
    monkeypatch.setitem(check.NOTEBOOK_REQUIREMENTS, "no-such-package-wstutorial", ("no-such-package-wstutorial>=1", "testing"))
    missing = check.run_checks()
    assert [c.name for c in missing.problems] == ["no-such-package-wstutorial"]
    assert missing.problems[0].fix.endswith('pip install "no-such-package-wstutorial>=1"')
    assert missing.summary().endswith("checks found a problem: no-such-package-wstutorial")


def test_requirements_match_pyproject() -> None:
    """The versions the check demands are exactly pyproject.toml's: the dependencies and the notebook extra."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

    def specs(texts: list[str]) -> dict[str, object]:
        return {canonicalize_name(Requirement(text).name): Requirement(text).specifier for text in texts}

    assert specs([text for text, _ in check.CORE_REQUIREMENTS.values()]) == specs(project["dependencies"])
    notebook = project["optional-dependencies"]["notebook"]
    assert specs([text for text, _ in check.NOTEBOOK_REQUIREMENTS.values()]) == specs(notebook)


def test_notebook_install_command_from_a_checkout() -> None:
    """Run from this checkout, the fix for a missing notebook part installs the extra at the locked versions."""
    command = check.notebook_install_command()
    assert f'-m pip install -c {ROOT / "constraints.txt"} -e "{ROOT}[notebook]"' in command
