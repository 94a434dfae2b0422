"""The lock installs on every Python the project allows: no pin asks for a newer patch than the floor."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib

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


def test_every_pin_installs_on_the_lowest_python_the_project_allows() -> None:
    """Each pinned distribution, as installed here (the lock's versions), admits the floor in its Requires-Python."""
    floor = lowest_allowed(REQUIRES_PYTHON)
    assert floor == Version("3.11.0")
    pins = locked_pins(constraints_file())  # type: ignore[arg-type]
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
