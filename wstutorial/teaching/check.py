"""``python -m wstutorial check``: is this machine ready for the tutorial?

One line per check: ``ok`` or ``PROBLEM`` with what is wrong and the command
that fixes it. Exits non-zero on any problem, so a teacher or CI can run it
before class. Notebook 00 calls :func:`run_checks`.

It runs with the lean install too (``pip install wstutorial``: Tornado only):
then the server and client checks pass and one line says how to add the
notebook part (``wstutorial[notebook]``).

The notebook part's packages share one line while all are fine ("notebook
packages"), so adding a package to the extra changes no stored output of
notebook 00; a missing or wrong one gets its own line with its fix.
``run_checks(verbose=True)`` (``python -m wstutorial check --verbose``) lists
each package with its version.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.metadata
import json
import sys
from pathlib import Path
from typing import Callable, Iterable

from .commands import pip_install_command, python_command

__all__ = [
    "Check",
    "Checks",
    "CORE_REQUIREMENTS",
    "NOTEBOOK_REQUIREMENTS",
    "REQUIREMENTS",
    "LABEXTENSIONS",
    "MIN_PYTHON",
    "run_checks",
    "main",
]

MIN_PYTHON = (3, 11)

# What the tutorial needs at run time, with why each matters, as in
# pyproject.toml (tests/teaching/test_check.py keeps the lists equal): the lean
# install's dependencies, and the notebook extra.
CORE_REQUIREMENTS: dict[str, tuple[str, str]] = {
    "tornado": ("tornado>=6.4,<7", "the WebSocket server and client"),
}
NOTEBOOK_REQUIREMENTS: dict[str, tuple[str, str]] = {
    "jupyterlab": ("jupyterlab>=4,<5", "the tutorial's notebooks"),
    "ipywidgets": ("ipywidgets>=8,<9", "the notebook panels"),
    "jupyterlab_widgets": ("jupyterlab_widgets>=3,<4", "JupyterLab's frontend for ipywidgets"),
    "ipykernel": (
        "ipykernel>=6.29,!=7.0.0,!=7.0.1",
        "the Python kernel (7.0.0 and 7.0.1 break widget updates from threads)",
    ),
    "bqplot": ("bqplot>=0.12.40,<0.14", "the live chart of a stream"),
    "packaging": ("packaging>=23", "version checks like this one"),
    "redis": ("redis>=5", "notebook 09's Redis client, a broadcast across processes"),
    "trustme": ("trustme>=1.1", "notebook 08's local certificates for wss://"),
    "confusable-homoglyphs": ("confusable-homoglyphs>=3.3,<4", "the classroom's check of look-alike names (Unicode's confusables)"),
    "filelock": ("filelock>=3.12", "one lock for the self-check results file when two notebooks run at once"),
    "segno": ("segno>=1.5", "the QR code of the classroom's address on the teacher's page"),
}
REQUIREMENTS: dict[str, tuple[str, str]] = {**CORE_REQUIREMENTS, **NOTEBOOK_REQUIREMENTS}

# JupyterLab extensions that must be where JupyterLab looks, with the package that ships each.
LABEXTENSIONS: dict[str, str] = {
    "@jupyter-widgets/jupyterlab-manager": "jupyterlab_widgets",
    "bqplot": "bqplot",
}


@dataclasses.dataclass(frozen=True)
class Check:
    """The result of one check: what was checked, whether it is fine, what to do if not."""

    name: str
    ok: bool
    detail: str
    fix: str = ""

    def __str__(self) -> str:
        if self.ok:
            return f"ok       {self.name}: {self.detail}"
        fix = f"; fix: {self.fix}" if self.fix else ""
        return f"PROBLEM  {self.name}: {self.detail}{fix}"


class Checks(list[Check]):
    """The results of :func:`run_checks`; shows as one line per check."""

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self)

    @property
    def problems(self) -> list[Check]:
        return [check for check in self if not check.ok]

    def summary(self) -> str:
        """One line that does not depend on versions (for a notebook's stored output)."""
        if self.ok:
            return f"all {len(self)} checks passed: ready for the tutorial"
        names = ", ".join(check.name for check in self.problems)
        return f"{len(self.problems)} of {len(self)} checks found a problem: {names}"

    def __str__(self) -> str:
        return "\n".join(str(check) for check in self)

    def __repr__(self) -> str:
        return str(self)

    def _repr_pretty_(self, printer: object, cycle: bool) -> None:
        printer.text(str(self))  # type: ignore[attr-defined]


def _pip(requirement: str) -> str:
    return pip_install_command(requirement)


def _checkout() -> Path | None:
    """The repository this package runs from (an editable install), if any."""
    root = Path(__file__).resolve().parents[2]
    return root if (root / "pyproject.toml").is_file() and (root / "constraints.txt").is_file() else None


def notebook_install_command() -> str:
    """The command that adds the notebook part (JupyterLab, widgets, chart) to this Python."""
    root = _checkout()
    if root is None:
        return _pip("wstutorial[notebook]")
    return python_command("-m", "pip", "install", "-c", str(root / "constraints.txt"), "-e", f"{root}[notebook]")


def check_python() -> Check:
    version = ".".join(str(part) for part in sys.version_info[:3])
    if sys.version_info[:2] >= MIN_PYTHON:
        return Check("python", True, version)
    wanted = ".".join(map(str, MIN_PYTHON))
    return Check(
        "python",
        False,
        f"{version} is too old, the tutorial needs {wanted} or newer",
        f"install Python {wanted}+ (python.org or the Microsoft Store; Debian: apt-get install python3), "
        'then: python -m pip install "wstutorial[notebook]"',
    )


def check_package(name: str, requirement: str, purpose: str) -> Check:
    """Is ``name`` installed in a version that ``requirement`` accepts?"""
    try:
        installed = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return Check(name, False, f"not installed ({purpose})", _pip(requirement))
    try:
        from packaging.requirements import Requirement
        from packaging.version import InvalidVersion, Version
    except ImportError:  # the lean install: pip checked the range when it installed the package
        return Check(name, True, f"{installed} (range {requirement} not compared: 'packaging' is not installed)")
    wanted = Requirement(requirement)
    try:
        fine = wanted.specifier.contains(Version(installed), prereleases=True)
    except InvalidVersion:
        fine = False
    if fine:
        return Check(name, True, installed)
    return Check(name, False, f"{installed} is installed, the tutorial needs {wanted.specifier} ({purpose})", _pip(requirement))


def labextension_dirs() -> list[Path]:
    """Where JupyterLab looks for prebuilt extensions (``jupyter labextension list`` shows the same)."""
    from jupyter_core.paths import jupyter_path

    return [Path(path) for path in jupyter_path("labextensions")]


def check_labextension(extension: str, package: str) -> Check:
    name = f"labextension {extension}"
    for folder in labextension_dirs():
        manifest = folder / extension / "package.json"
        if manifest.is_file():
            try:
                version = json.loads(manifest.read_text(encoding="utf-8")).get("version", "?")
            except (OSError, ValueError):
                version = "?"
            return Check(name, True, f"{version} in {folder}")
    return Check(
        name,
        False,
        f"not found where JupyterLab looks ({', '.join(map(str, labextension_dirs()))}); widgets would show as text only",
        pip_install_command(package, options=("--force-reinstall", "--no-deps")),
    )


def check_widget() -> Check:
    """Build the tutorial's panel (no browser needed), as a notebook cell would."""
    try:
        from ..widgets.panels import GREEN, ClientPanel

        panel = ClientPanel(port=8888)
        panel.host_field.style.background = GREEN
        panel.close()
    except Exception as error:
        return Check(
            "widgets",
            False,
            f"building a panel failed: {type(error).__name__}: {error}",
            _pip(REQUIREMENTS["ipywidgets"][0]),
        )
    import ipywidgets

    return Check("widgets", True, f"a ClientPanel can be built (ipywidgets {ipywidgets.__version__})")


def check_local_server() -> Check:
    """Open a server on a free local port and talk to it with the Python client."""
    from ..client import connect_blocking
    from ..server.runner import start_server

    try:
        server = start_server(port=0)
    except Exception as error:
        return Check(
            "local server", False, f"cannot open a local port: {error}", "check that 127.0.0.1 is usable (no firewall rule blocks it)"
        )
    try:
        with connect_blocking(server.ws_url("/ws")) as client:
            greeting = client.receive(timeout=10)
        with connect_blocking(server.ws_url("/echo")) as client:
            client.send("round trip")
            echoed = client.receive(timeout=10)
    except Exception as error:
        return Check("local server", False, f"the client could not talk to the server: {error}", "check that 127.0.0.1 is usable (no proxy or firewall in the way)")
    finally:
        server.stop()
    if greeting != "Hello World" or echoed != "round trip":
        return Check("local server", False, f"unexpected answers {greeting!r}, {echoed!r}", "reinstall: " + pip_install_command("wstutorial[notebook]", options=("--force-reinstall",)))
    return Check("local server", True, f"port {server.port}: Hello World and an echo round trip")


def _installed(name: str) -> bool:
    try:
        importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def check_notebook_packages(verbose: bool = False) -> Iterable[Check]:
    """The notebook extra's packages: each that is missing or wrong, then one line for the fine ones.

    ``verbose``: one line per package instead.
    """
    results = [check_package(name, requirement, purpose) for name, (requirement, purpose) in NOTEBOOK_REQUIREMENTS.items()]
    if verbose:
        yield from results
        return
    fine = [result for result in results if result.ok]
    yield from (result for result in results if not result.ok)
    if fine:
        listed = ", ".join(f"{result.name} {result.detail}" for result in fine)
        which = f"all {len(fine)}" if len(fine) == len(results) else f"the other {len(fine)}"
        yield Check(
            "notebook packages",
            True,
            f"{which} are installed ({listed}); each on its own line: "
            + python_command("-m", "wstutorial", "check", "--verbose"),
        )


def check_notebook_part() -> Check:
    """The lean install (server and client only): say how to add the notebooks' packages."""
    return Check(
        "notebook part",
        False,
        f"not installed ({', '.join(NOTEBOOK_REQUIREMENTS)}): scripts can use the server and client, "
        "the tutorial's notebooks need them",
        notebook_install_command(),
    )


def run_checks(on_result: Callable[[Check], None] | None = None, verbose: bool = False) -> Checks:
    """Run every check; returns the results (``.ok``, ``.problems``, ``.summary()``).

    ``on_result`` is called with each result as soon as it is known. The
    notebook packages are one line while all are fine; ``verbose``: one line each.
    """

    notebook_missing = [name for name in NOTEBOOK_REQUIREMENTS if not _installed(name)]
    lean = len(notebook_missing) == len(NOTEBOOK_REQUIREMENTS)

    def steps() -> Iterable[Callable[[], Check | Iterable[Check]]]:
        yield check_python
        for name, (requirement, purpose) in CORE_REQUIREMENTS.items():
            yield functools.partial(check_package, name, requirement, purpose)
        if lean:  # one line, not one per package: the notebook part was never installed
            yield check_notebook_part
        else:
            yield functools.partial(check_notebook_packages, verbose)
            for extension, package in LABEXTENSIONS.items():
                yield functools.partial(check_labextension, extension, package)
            yield check_widget
        yield check_local_server

    results = Checks()
    for step in steps():
        try:
            outcome = step()
            found = [outcome] if isinstance(outcome, Check) else list(outcome)
        except Exception as error:  # a check that breaks is itself a problem, said in one line
            function = step.func if isinstance(step, functools.partial) else step
            found = [Check(getattr(function, "__name__", "check"), False, f"{type(error).__name__}: {error}")]
        for result in found:
            results.append(result)
            if on_result is not None:
                on_result(result)
    return results


def main(verbose: bool = False) -> int:
    """Print one line per check (``verbose``: one per notebook package too); 0 when all pass, 1 otherwise."""
    results = run_checks(on_result=lambda result: print(result, flush=True), verbose=verbose)
    print(results.summary())
    return 0 if results.ok else 1
