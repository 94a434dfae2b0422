"""The lock installs on every Python the project allows: no pin asks for a newer patch than the floor, and what
only an older patch release needs (async-timeout below 3.11.3) is pinned with its marker."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from helpers import ROOT
from wstutorial.teaching import check
from wstutorial.tools.wheelhouse import constraints_file, locked_pins

REQUIRES_PYTHON = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]


def lowest_allowed(requires_python: str) -> Version:
    """The oldest Python release ``requires_python`` admits (3.11 means 3.11.0, as pip reads it)."""
    spec = SpecifierSet(requires_python)
    return next(
        Version(f"3.{minor}.{micro}") for minor in range(0, 40) for micro in range(0, 40)
        if Version(f"3.{minor}.{micro}") in spec
    )


def pins_too_new(pins: dict[str, str], requires_python: dict[str, str | None], floor: Version) -> list[str]:
    """Each pin whose Requires-Python leaves out ``floor``, as a sentence."""
    return [
        f"{name}=={version} requires Python {requires_python[name]}, so {floor} cannot install it"
        for name, version in pins.items()
        if requires_python.get(name) and floor not in SpecifierSet(str(requires_python[name]))
    ]


def test_the_check_finds_a_pin_that_needs_a_newer_patch() -> None:
    """soupsieve 4.1.3 needed 3.11.5: on Debian 12's 3.11.2 the install failed."""
    assert pins_too_new({"soupsieve": "4.1.3", "tornado": "6.6.1"}, {"soupsieve": ">=3.11.5", "tornado": ">=3.9"},
                        Version("3.11.0")) == ["soupsieve==4.1.3 requires Python >=3.11.5, so 3.11.0 cannot install it"]


def lock_lines() -> list[Requirement]:
    """constraints.txt's pins, each with its marker (if any)."""
    lines = (ROOT / "constraints.txt").read_text().splitlines()
    return [Requirement(line) for line in lines if line.strip() and not line.startswith("#")]


def environment_of(release: str) -> dict[str, str]:
    """This machine's marker environment, as if it ran Python ``release``."""
    return {**default_environment(), "python_full_version": release, "python_version": release.rsplit(".", 1)[0]}


def test_every_pin_installs_on_the_lowest_python_the_project_allows() -> None:
    """Each pinned distribution, as installed here (the lock's versions), admits the floor in its Requires-Python."""
    floor = lowest_allowed(REQUIRES_PYTHON)
    assert floor == Version("3.11.0")
    pins = locked_pins(constraints_file())  # type: ignore[arg-type]
    not_here = {str(canonicalize_name(pin.name)) for pin in lock_lines() if pin.marker and not pin.marker.evaluate()}
    pins = {name: version for name, version in pins.items() if name not in not_here}  # not installed on this Python
    requires_python: dict[str, str | None] = {}
    for name, version in pins.items():
        metadata = importlib.metadata.metadata(name)
        assert canonicalize_name(metadata["Name"]) == name and metadata["Version"] == version, (name, version)
        requires_python[name] = metadata["Requires-Python"]
    assert pins_too_new(pins, requires_python, floor) == []


def test_readme_pyproject_and_check_name_the_same_floor() -> None:
    floor = lowest_allowed(REQUIRES_PYTHON)
    assert check.MIN_PYTHON == (floor.major, floor.minor) and floor.micro == 0
    wanted = f"{floor.major}.{floor.minor}"
    readme = (ROOT / "README.md").read_text()
    assert re.findall(r"Python (\d\.\d+) or newer", readme) and set(re.findall(r"Python (\d\.\d+) or newer", readme)) == {wanted}
    header = "".join(line for line in (ROOT / "constraints.txt").read_text().splitlines(True) if line.startswith("#"))
    assert f"for Python {floor}" in header


def test_what_only_an_older_patch_release_needs_is_pinned_with_its_marker() -> None:
    """Every dependency that a pinned package needs on an allowed 3.11.x older than the lock's resolver (its marker
    holds there, not on the resolver's Python, so pip resolved it for no one) has a pin that holds there: Debian
    12's 3.11.2 gets redis's async-timeout at the tested version, not the newest."""
    floor = lowest_allowed(REQUIRES_PYTHON)
    header = (ROOT / "constraints.txt").read_text()
    resolver = Version(re.findall(r"with the markers of Python (\S+) on Linux", header)[0])
    assert (resolver.major, resolver.minor) == (floor.major, floor.minor)
    older = [f"{floor.major}.{floor.minor}.{micro}" for micro in range(floor.micro, resolver.micro)]
    assert "3.11.2" in older  # Debian 12's own Python
    pins = {str(canonicalize_name(pin.name)): pin for pin in lock_lines()}
    unpinned = []
    for name, pinned in pins.items():
        if pinned.marker is not None and not pinned.marker.evaluate():
            continue  # a pin for older releases only: not installed here
        for requirement in (Requirement(text) for text in importlib.metadata.requires(name) or []):
            marker = requirement.marker
            if marker is None or marker.evaluate({**environment_of(str(resolver)), "extra": ""}):
                continue  # needed on the resolver's Python too: pip resolved it
            for release in older:
                if not marker.evaluate({**environment_of(release), "extra": ""}):
                    continue
                pin = pins.get(str(canonicalize_name(requirement.name)))
                if pin is None or (pin.marker is not None and not pin.marker.evaluate(environment_of(release))):
                    unpinned.append(f"{requirement} (for {name}) on Python {release}")
                elif not requirement.specifier.contains(next(iter(pin.specifier)).version, prereleases=True):
                    unpinned.append(f"{requirement} (for {name}): the lock pins {pin}")
    assert unpinned == [], "run bash scripts/lock.sh: " + "; ".join(unpinned)
    debian = pins["async-timeout"]
    assert debian.marker is not None and debian.marker.evaluate(environment_of("3.11.2"))
    assert not debian.marker.evaluate(environment_of("3.11.3"))  # newer releases neither need nor get it
