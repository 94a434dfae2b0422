"""The wheelhouse: completeness for another platform's markers, the pins, and what the classroom says of a folder it cannot serve."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from class_wheels import Wheelhouse, default_wheelhouse, fake_wheel
from helpers import ROOT
from wstutorial.classroom import start_classroom
from wstutorial.cli import print_classroom_addresses
from wstutorial.tools.wheelhouse import (
    DEFAULT_PLATFORMS,
    DEFAULT_PYTHONS,
    Target,
    WheelhouseError,
    build_wheelhouse,
    constraints_file,
    locked_pins,
    missing_for,
    targets,
    unserved_platforms,
)


def test_missing_dependencies_follow_the_students_platform_not_the_teachers(tmp_path: Path) -> None:
    fake_wheel(tmp_path, "app", "1.0", ["core>=1", "winonly; sys_platform == 'win32'", "posixonly; os_name != 'nt'",
                                         "old; python_version < '3.12'", "docs; extra == 'docs'", "nb[extra]; extra == 'nb'"])
    fake_wheel(tmp_path, "core", "1.2", ["deep"])
    fake_wheel(tmp_path, "nb", "1.0", ["nbextra; extra == 'extra'"])
    roots = [Requirement("app[nb]")]
    names = lambda target: sorted(r.name for r in missing_for(tmp_path, roots, target))  # noqa: E731
    assert names(Target("windows", "3.11")) == ["deep", "nbextra", "old", "winonly"]
    assert names(Target("macos-arm64", "3.13")) == ["deep", "nbextra", "posixonly"]
    fake_wheel(tmp_path, "deep", "2.0", [])
    fake_wheel(tmp_path, "winonly", "1.0", [])
    fake_wheel(tmp_path, "nbextra", "1.0", [])
    fake_wheel(tmp_path, "old", "1.0", [])
    assert names(Target("windows", "3.11")) == []


def test_a_wheel_for_another_platform_or_version_does_not_count(tmp_path: Path) -> None:
    fake_wheel(tmp_path, "app", "1.0", ["fast"])
    fake_wheel(tmp_path, "fast", "1.0", [], tag="cp312-cp312-win_amd64")
    roots = [Requirement("app")]
    assert missing_for(tmp_path, roots, Target("windows", "3.12")) == []
    assert [r.name for r in missing_for(tmp_path, roots, Target("windows", "3.13"))] == ["fast"]
    assert [r.name for r in missing_for(tmp_path, roots, Target("linux-x86_64", "3.12"))] == ["fast"]
    fake_wheel(tmp_path, "fast", "1.0", [], tag="cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64")
    assert missing_for(tmp_path, roots, Target("linux-x86_64", "3.12")) == []
    fake_wheel(tmp_path, "fast", "1.0", [], tag="cp312-cp312-macosx_10_13_universal2")
    assert missing_for(tmp_path, roots, Target("macos-arm64", "3.12")) == []


def test_targets_name_what_is_wrong() -> None:
    assert [t.label for t in targets(["windows"], ["3.11", "3.13"])] == [
        "Windows, 64-bit, Python 3.11", "Windows, 64-bit, Python 3.13",
    ]
    with pytest.raises(WheelhouseError, match="unknown platform 'amiga'; use one of: this, windows"):
        targets(["amiga"], ["3.12"])
    for bad in ("3.9", "3.10.14", "3", "3.11.x", "2.7"):
        with pytest.raises(WheelhouseError, match=rf"Python version '{bad}' is not one that wstutorial runs on \(Python >=3.11\); give one like 3.12"):
            targets(["windows"], [bad])
    assert [(t.python, t.release) for t in targets(["linux-aarch64"], ["3.11", "3.11.2", "3.11.9", "3.13"])] == [
        ("3.11", "3.11.0"), ("3.11.2", "3.11.2"), ("3.11.9", "3.11.9"), ("3.13", "3.13.0"),
    ]








def test_wheelhouse_command_names_a_bad_platform_and_exits_1(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "wstutorial", "wheelhouse", str(tmp_path / "w"), "--platform", "amiga"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: unknown platform 'amiga'; use one of: this, windows, macos-arm64")
    assert "Traceback" not in result.stderr and not (tmp_path / "w").exists()


def test_wheelhouse_takes_the_pins_and_falls_back_per_target_with_a_line(tmp_path: Path) -> None:
    """Real pip, a local index: the pinned versions; where a pin has no wheel for a target, that target only falls back."""
    index = tmp_path / "index"
    index.mkdir()
    for version in ("6.4.2", "6.5.1"):
        fake_wheel(index, "tornado", version, [])
    fake_wheel(index, "fast", "1.0", ["winhelper; sys_platform == 'win32'"], tag="cp312-cp312-win_amd64")  # the pin: Windows only
    fake_wheel(index, "fast", "2.0", [])
    fake_wheel(index, "winhelper", "3.0", [])
    fake_wheel(index, "also", "1.0", ["winhelper>=2; os_name == 'nt'", "winhelper>=1; sys_platform == 'win32'"])
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("# locked\ntornado==6.4.2\nfast==1.0\n")
    lines: list[str] = []
    folder = tmp_path / "wheels"
    failed = build_wheelhouse(
        folder, platforms=["windows", "linux-x86_64"], pythons=["3.12"], extras=(), also=["fast", "also"],
        out=lines.append, constraints=constraints, pip_options=["--no-index", "--find-links", str(index)],
    )
    assert failed == [], lines
    names = sorted(path.name for path in folder.glob("*.whl") if not path.name.startswith("wstutorial-"))
    assert names == ["also-1.0-py3-none-any.whl", "fast-1.0-cp312-cp312-win_amd64.whl", "fast-2.0-py3-none-any.whl", "tornado-6.4.2-py3-none-any.whl",
                     "winhelper-3.0-py3-none-any.whl"]
    assert lines.count("      not in constraints.txt (locked on Linux): winhelper, the newest wheel for Windows, 64-bit, Python 3.12") == 1
    assert lines.count("      fallback: fast==1.0 has no wheel for Linux, x86-64, Python 3.12; it gets fast 2.0") == 1
    assert not any("fallback" in line and "Windows" in line for line in lines)
    assert f"Tested versions: 2 pins from {constraints}" in lines


def test_the_lock_is_found_and_read(tmp_path: Path) -> None:
    assert constraints_file() == ROOT / "constraints.txt"
    pins = locked_pins(constraints_file())  # type: ignore[arg-type]
    assert pins["tornado"] and pins["jupyterlab"]
    bad = tmp_path / "c.txt"
    bad.write_text("tornado>=6\n")
    with pytest.raises(WheelhouseError, match=r"line 1: 'tornado>=6' is not a pin 'name==version'"):
        locked_pins(bad)
    assert pins["async-timeout"]  # what only Python before 3.11.3 needs, pinned with its marker
    marked = tmp_path / "m.txt"
    marked.write_text('tornado==6.6.1\nasync-timeout==5.0.1 ; python_full_version < "3.11.3"\n')
    assert locked_pins(marked) == {"tornado": "6.6.1", "async-timeout": "5.0.1"}
    marked.write_text("async-timeout==5.0.1 ; python_full_version <<< 3\n")
    with pytest.raises(WheelhouseError, match="line 1: .* is not a pin"):
        locked_pins(marked)


# -- the default wheelhouse, for real: every target installs from the folder alone ------------------------------

SLOW = pytest.mark.timeout(1800)  # the first test to ask makes the wheelhouse (2 minutes on a quiet machine; far more under load)
DEFAULT_TARGETS = targets(DEFAULT_PLATFORMS, DEFAULT_PYTHONS)
# A student's pip with nothing but the folder: no configuration, no index, no other wheel folder.
STUDENT_PIP = {**{k: v for k, v in os.environ.items() if not k.startswith("PIP_")}, "PIP_CONFIG_FILE": os.devnull}


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Wheelhouse:
    return default_wheelhouse(tmp_path_factory)


@SLOW
def test_the_default_wheelhouse_is_complete_and_says_what_it_gathered(wheelhouse: Wheelhouse) -> None:
    """Exit 0; every default target complete; progress per target; the count, size and time at the end."""
    assert wheelhouse.returncode == 0, wheelhouse.stdout[-4000:] + wheelhouse.stderr[-4000:]
    out = wheelhouse.stdout
    assert len(DEFAULT_TARGETS) == 15
    for number, target in enumerate(DEFAULT_TARGETS, 1):
        assert f"[{number}/15] {target.label}: downloading ..." in out
    assert out.count("      complete: ") == 15 and "FAILED" not in out
    assert "3.11 as 3.11.0, 3.12 as 3.12.0, 3.13 as 3.13.0" in out
    count, size = re.search(r"^(\d+) wheels, (\d+) MB in .*, gathered in (\d+ min )?\d+ s\.$", out, re.M).groups()[:2]  # type: ignore[union-attr]
    assert int(count) == len(list(wheelhouse.folder.glob("*.whl"))) and int(size) > 100
    assert not list(wheelhouse.folder.glob("*.tar.gz"))  # wheels only: students have no compilers


@SLOW
@pytest.mark.parametrize(
    "target", [*DEFAULT_TARGETS, Target("linux-x86_64", "3.11.2")], ids=lambda target: f"{target.platform}-{target.release}"
)
def test_pip_installs_each_target_from_the_folder_alone(wheelhouse: Wheelhouse, target: Target) -> None:
    """pip download --no-index --find-links FOLDER --platform ... --python-version X.Y.Z resolves everything from it.

    pip checks each wheel's tags and Requires-Python for the target release (3.11.0 for "3.11"; also
    Debian 12's own 3.11.2); it needs nothing new (every file "already downloaded").
    """
    assert wheelhouse.returncode == 0, wheelhouse.stderr[-2000:]
    folder = str(wheelhouse.folder)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-index", "--find-links", folder, "--dest", folder,
         "--progress-bar", "off", *target.pip_options(), "wstutorial[notebook]"],
        capture_output=True, text=True, timeout=300, env=STUDENT_PIP,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Saved " not in result.stdout and "File was already downloaded" in result.stdout


@SLOW
def test_classroom_warns_per_platform_the_folder_cannot_serve(wheelhouse: Wheelhouse, tmp_path: Path) -> None:
    """The complete folder: no warning (markers of every platform followed). Without Windows' own wheels: one line."""
    assert wheelhouse.returncode == 0, wheelhouse.stderr[-2000:]
    assert unserved_platforms(wheelhouse.folder) == []
    partial = tmp_path / "partial"
    partial.mkdir()
    for wheel in wheelhouse.folder.glob("*.whl"):
        if not wheel.name.endswith("win_amd64.whl"):
            (partial / wheel.name).symlink_to(wheel)
    with start_classroom(port=0, wheels=partial) as classroom:
        lines: list[str] = []
        print_classroom_addresses(classroom, out=lines.append, wheels=str(partial))
    warnings = [line for line in lines if line.startswith("Warning: ") and "cannot install" in line]
    assert len(warnings) == 1, lines
    assert re.fullmatch(
        r"Warning: Windows, 64-bit: these wheels cannot install wstutorial\[notebook\] for Python 3\.11 \(no .*\); "
        r"Python 3\.12 \(no .*\); Python 3\.13 \(no .*\)", warnings[0]
    ), warnings[0]
    assert f"  Make the folder complete before class: python -m wstutorial wheelhouse {partial}" in lines
