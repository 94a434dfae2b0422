"""The code's own checks, run as tests: types (mypy), lint (ruff), import contracts (import-linter), pages."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import ROOT

# Each tool gets run()'s 300 s, not pytest-timeout's 120 s: mypy without its cache (a fresh clone) on a
# loaded machine took longer than 120 s (the test command failed so at load 15).
pytestmark = pytest.mark.timeout(330)
BIN = Path(sys.executable).parent


def run(tool: str, *args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / tool), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_mypy_finds_nothing() -> None:
    """mypy (settings in pyproject.toml: every function typed) reports no error in the package."""
    result = run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_finds_nothing() -> None:
    """ruff check (rules in pyproject.toml) on the whole checkout."""
    result = run("ruff", "check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_import_contracts_are_kept() -> None:
    """The client side never imports the server; each layer imports only those below it; only widgets/ (and the setup check) import ipywidgets."""
    result = run("lint-imports", "--no-cache")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken." in result.stdout


def test_import_contracts_catch_a_wrong_import(tmp_path: Path) -> None:
    """The contracts fail on a copy of the package whose client imports the server, whose server imports the classroom, and whose events and loopthread reach ipywidgets."""
    copy = tmp_path / "wstutorial"
    shutil.copytree(ROOT / "wstutorial", copy, ignore=shutil.ignore_patterns("__pycache__"))
    with (copy / "client.py").open("a") as client:
        client.write("\nfrom .server import runner  # wrong way\n")
    with (copy / "server" / "hub.py").open("a") as hub:
        hub.write("\nfrom ..classroom import room  # a layer up\n")
    with (copy / "events.py").open("a") as events:
        events.write("\nimport ipywidgets  # not outside widgets/\n")
    with (copy / "loopthread.py").open("a") as loopthread:
        loopthread.write("\nfrom .widgets import panels  # ipywidgets, one step away\n")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    result = run("lint-imports", "--no-cache", cwd=tmp_path, env={"PYTHONPATH": str(tmp_path), "PATH": str(BIN)})
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Contracts: 0 kept, 3 broken." in result.stdout
    assert "wstutorial.client -> wstutorial.server.runner" in result.stdout
    assert "wstutorial.server.hub -> wstutorial.classroom.room" in result.stdout
    assert "wstutorial.events -> ipywidgets" in result.stdout
    assert "wstutorial.loopthread -> wstutorial.widgets.panels" in result.stdout


def test_the_widgets_contract_covers_every_module() -> None:
    """Every top-level module or subpackage but widgets/ is a source of the ipywidgets contract (new ones too)."""
    import pkgutil
    import tomllib

    import wstutorial

    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    (widgets_contract,) = [c for c in contracts if "ipywidgets" in c.get("forbidden_modules", ())]
    modules = {f"wstutorial.{module.name}" for module in pkgutil.iter_modules(wstutorial.__path__)}
    assert set(widgets_contract["source_modules"]) == modules - {"wstutorial.widgets"}


def test_every_page_finds_its_websocket_with_wsurl_js() -> None:
    """Pages that open a WebSocket load wsurl.js first; no other script works out the address itself."""
    static = ROOT / "static"
    for page in static.glob("*.html"):
        scripts = re.findall(r'<script src="([^"]+)"', page.read_text())
        opens = [name for name in scripts if "new WebSocket(" in (static / name).read_text()]
        if opens:
            assert scripts[0] == "wsurl.js", f"{page.name} must load wsurl.js before {scripts}"
    for script in static.glob("*.js"):
        if script.name != "wsurl.js":
            text = script.read_text()
            assert not re.search(r"location\.(protocol|pathname)", text), f"{script.name}: use wsUrl/pageDir/pagePort of wsurl.js"


# The test files of the whole rather than of one module (tests/test_<theme>.py), by what they check.
WHOLE = {
    "backfill": "results checked before joining reach the board (student, room, board)",
    "bench_smoke": "the benchmark runs end to end",
    "binder": "the Binder layout",
    "close_codes": "a connection's close code as every part reports it",
    "code_checks": "mypy, ruff, the import contracts, the layout of the tests",
    "conformance": "RFC 6455's receive rules end to end, against a real server",
    "first_hour": "a student's first hour",
    "hardening": "smaller faults found by probing the server",
    "join_cell": "the plan's join cell reaches the board",
    "jupyterhub": "the tutorial on a real JupyterHub",
    "load": "1,000 clients at once",
    "lock": "the lock installs on every Python the project allows",
    "malformed_handshake": "malformed upgrade requests",
    "notebook_06_in_class": "notebook 06 in class, in a real kernel",
    "notebook_contents": "the notebooks' shape and the exercise files they load",
    "notebook_rerun": "re-running notebook 01's cells",
    "packaging": "the wheel and the lean install",
    "portability": "nothing POSIX-only on the student's path",
    "proxy": "the pages behind jupyter-server-proxy",
    "proxy_origin": "the Origin check behind a TLS proxy",
    "query_arguments": "bad query arguments on every route",
    "redis_outage": "a classroom with workers while Redis goes away",
    "reliability": "bad input and faults: each connection fails alone",
    "security": "origins, paths, pages, binding",
    "student_install": "a student's laptop, for real",
    "wrong_answers": "every exercise's check through its table of wrong answers",
}


def test_the_tests_mirror_the_package() -> None:
    """tests/<package>/test_<module>.py tests wstutorial/<package>/<module>.py; a top-level file tests a top-level module or the whole (WHOLE)."""
    package = ROOT / "wstutorial"
    modules = {path.relative_to(package).with_suffix("") for path in package.rglob("*.py") if path.stem not in ("__init__", "__main__")}
    stray = []
    for test in sorted((ROOT / "tests").rglob("test_*.py")):
        relative = test.relative_to(ROOT / "tests")
        if relative.parts[0] in ("browser", "hub"):  # the browser's tests, by page and notebook; JupyterHub's files
            continue
        module = relative.parent / relative.stem.removeprefix("test_")
        if module not in modules and not (len(relative.parts) == 1 and module.name in WHOLE):
            stray.append(str(relative))
    assert not stray, (
        f"{', '.join(stray)}: no module of wstutorial/ by that name; put a module's tests in tests/<package>/test_<module>.py, "
        "or name a test of the whole in WHOLE (tests/test_code_checks.py)"
    )


def test_every_module_has_a_test_module_of_its_own_name() -> None:
    """wstutorial/<package>/<module>.py has tests/<package>/test_<module>.py: a new module comes with its tests."""
    package = ROOT / "wstutorial"
    untested = [
        str(path.relative_to(package))
        for path in sorted(package.rglob("*.py"))
        if path.stem not in ("__init__", "__main__")
        and not (ROOT / "tests" / path.relative_to(package).parent / f"test_{path.name}").is_file()
    ]
    assert not untested, f"{', '.join(untested)}: no test module of its own name; add tests/<package>/test_<module>.py"
