"""``python -m wstutorial wheelhouse DIR``: every wheel the class needs, in one folder on the teacher's machine.

Thirty students downloading JupyterLab at once over a classroom's network is
the slowest part of a first lesson. The teacher downloads every wheel once,
for the students' platforms and Python versions, and ``python -m wstutorial
classroom --wheels DIR`` serves the folder, so students install with
``pip install --no-index --find-links http://<teacher>:<port>/wheels/ "wstutorial[notebook]"``.

pip downloads for another platform with ``--platform``/``--python-version``,
but evaluates dependency markers (``; sys_platform == "win32"``) for the
machine it runs on (pypa/pip#11664): Windows-only dependencies such as
``pywin32`` would be missing. So after each download this module walks the
dependency tree itself with the *target's* markers
(:class:`packaging.markers.Marker`) and downloads what is missing, until the
folder holds a complete install for every target. Only wheels (no source
archives): students' laptops have no compilers.

The versions are the tested ones: ``constraints.txt`` (``scripts/lock.sh``,
resolved for Python 3.11.0 with Linux's markers) goes to pip as ``-c`` for every target.
It is read from the checkout, or from inside the installed package (the wheel
ships it as ``wstutorial/constraints.txt``): the lock, not the teacher's own
installed versions, because the lock is what the tests ran. Where a pinned
version has no wheel for a target (another platform, a newer Python), that
target alone takes the newest version that has one, and one line says so;
likewise for a platform-only dependency the Linux lock does not list.

The targets are real student laptops: each platform from its oldest release
that the dependencies' wheels support (macOS 11 on Apple silicon, the first
macOS it has; macOS 10.15 on Intel, as pyzmq 27, PyYAML 6 and cffi 2 ship
their Intel wheels for 10.15 and newer; glibc 2.28 on Linux, numpy 2.4's and
pyzmq's manylinux_2_28 wheels), so that the wheel pip picks installs there
and on every later release. A Python version is checked as pip checks a
package's ``Requires-Python``: "3.11" stands for every 3.11.x the project
allows, so it is resolved for the lowest of them (3.11.0); pip would read a
bare 3.11 that way, and a package that needs 3.11.5 then has to fall back,
since a student on Debian 12's 3.11.2 could not install it. "3.11.9" is that
release only.
"""

from __future__ import annotations

import base64
import dataclasses
import email.parser
import functools
import hashlib
import importlib.metadata
import importlib.resources
import re
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Callable, Iterable, Sequence

from packaging.markers import Marker, default_environment
from packaging.requirements import Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag, compatible_tags, cpython_tags, mac_platforms, sys_tags
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import Version

__all__ = [
    "PLATFORMS",
    "DEFAULT_PLATFORMS",
    "DEFAULT_PYTHONS",
    "Target",
    "WheelhouseError",
    "targets",
    "own_wheel",
    "missing_for",
    "locked_pins",
    "build_wheelhouse",
    "unserved_platforms",
]

DEFAULT_PYTHONS = ("3.11", "3.12", "3.13")
# The oldest releases served (see the module's docstring; the wheel tags of older ones are left out).
OLDEST_MACOS_ARM = (11, 0)  # Apple silicon: macOS 11 Big Sur is the first macOS it runs
OLDEST_MACOS_INTEL = (10, 15)  # Catalina: pyzmq 27.3, PyYAML 6.0.4, cffi 2.1 ship Intel wheels from 10.15 on
OLDEST_GLIBC = 28  # manylinux_2_28 (RHEL 8, Debian 10, Ubuntu 20.04 and newer): numpy 2.4, pyzmq 27


class WheelhouseError(Exception):
    """The wheelhouse could not be made complete; the message says what is missing."""


def _manylinux(arch: str) -> list[str]:
    # Every glibc from the oldest served down, newest first (pip prefers the first tag that a wheel has).
    return [f"manylinux_2_{minor}_{arch}" for minor in range(OLDEST_GLIBC, 4, -1)] + [
        f"manylinux2014_{arch}", f"manylinux2010_{arch}", f"manylinux1_{arch}",
    ]


# name: (pip platform tags, marker environment, what it is)
PLATFORMS: dict[str, tuple[list[str], dict[str, str], str]] = {
    "windows": (
        ["win_amd64"],
        {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt", "platform_machine": "AMD64"},
        "Windows, 64-bit",
    ),
    "macos-arm64": (
        list(mac_platforms(OLDEST_MACOS_ARM, "arm64")),
        {"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix", "platform_machine": "arm64"},
        "macOS 11+, Apple silicon",
    ),
    "macos-x86_64": (
        list(mac_platforms(OLDEST_MACOS_INTEL, "x86_64")),
        {"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix", "platform_machine": "x86_64"},
        "macOS 10.15+, Intel",
    ),
    "linux-x86_64": (
        _manylinux("x86_64"),
        {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix", "platform_machine": "x86_64"},
        "Linux, x86-64",
    ),
    "linux-aarch64": (
        _manylinux("aarch64"),
        {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix", "platform_machine": "aarch64"},
        "Linux, ARM 64-bit",
    ),
}
DEFAULT_PLATFORMS = ("windows", "macos-arm64", "macos-x86_64", "linux-x86_64", "linux-aarch64")


@functools.cache
def project_requires_python() -> SpecifierSet:
    """wstutorial's own ``Requires-Python`` (pyproject.toml in a checkout, else the installed metadata)."""
    root = _checkout()
    if root is not None:
        import tomllib

        text = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]["requires-python"]
    else:
        text = importlib.metadata.metadata("wstutorial")["Requires-Python"] or ""
    return SpecifierSet(text)


def lowest_release(minor: str, allowed: SpecifierSet | None = None) -> str | None:
    """The oldest ``minor`` release (``"3.11"`` -> ``"3.11.0"``) that ``allowed`` admits; None if none does."""
    allowed = project_requires_python() if allowed is None else allowed
    return next((f"{minor}.{micro}" for micro in range(0, 100) if Version(f"{minor}.{micro}") in allowed), None)


@dataclasses.dataclass(frozen=True)
class Target:
    """One kind of student laptop: a platform and a Python version (``platform="this"``: this machine).

    ``python`` is ``"3.12"`` (every 3.12.x the project allows: resolved for the lowest, as pip reads
    a bare 3.12) or one release, ``"3.12.4"``.
    """

    platform: str
    python: str

    @property
    def here(self) -> bool:
        return self.platform == "this"

    @property
    def release(self) -> str:
        """The Python release pip checks ``Requires-Python`` against, e.g. ``"3.11.0"`` for ``"3.11"``."""
        if self.here:
            return ".".join(map(str, sys.version_info[:3]))
        if self.python.count(".") >= 2:
            return self.python
        return lowest_release(self.python) or f"{self.python}.0"

    @property
    def label(self) -> str:
        if self.here:
            return f"this machine (Python {self.release})"
        return f"{PLATFORMS[self.platform][2]}, Python {self.python}"

    def environment(self) -> dict[str, str]:
        """The marker environment of such a laptop (PEP 508)."""
        here = {key: str(value) for key, value in default_environment().items()}
        if self.here:
            return here
        minor = ".".join(self.release.split(".")[:2])
        return {
            **here,
            "implementation_name": "cpython",
            "implementation_version": self.release,
            "platform_python_implementation": "CPython",
            "python_version": minor,
            "python_full_version": self.release,
            "platform_release": "",
            "platform_version": "",
            **PLATFORMS[self.platform][1],
        }

    def admits(self, requires_python: str | None) -> bool:
        """Would pip on this laptop install a package with this ``Requires-Python``?"""
        if not requires_python:
            return True
        try:
            return Version(self.release) in SpecifierSet(requires_python)
        except InvalidSpecifier:
            return True  # pip ignores a Requires-Python it cannot read

    def tags(self) -> set[Tag]:
        """The wheel tags such a laptop installs."""
        if self.here:
            return set(sys_tags())
        version = tuple(int(part) for part in self.release.split(".")[:2])
        platforms = PLATFORMS[self.platform][0]
        interpreter = "cp" + "".join(map(str, version))
        return set(cpython_tags(version, platforms=platforms)) | set(
            compatible_tags(version, interpreter=interpreter, platforms=platforms)
        )

    def pip_options(self) -> list[str]:
        if self.here:
            return ["--only-binary=:all:"]
        options = ["--only-binary=:all:", "--implementation", "cp", "--python-version", self.release]
        for tag in PLATFORMS[self.platform][0]:
            options += ["--platform", tag]
        return options


_PYTHON_VERSION = re.compile(r"3\.\d+(\.\d+)?")


def targets(platforms: Iterable[str], pythons: Iterable[str]) -> list[Target]:
    """Every platform with every Python version; ``this`` once (this machine's own Python)."""
    result: list[Target] = []
    pythons = list(pythons)
    allowed = project_requires_python()
    for python in pythons:
        minor = ".".join(python.split(".")[:2])
        if not _PYTHON_VERSION.fullmatch(python) or (
            Version(python) not in allowed if python.count(".") == 2 else lowest_release(minor, allowed) is None
        ):
            raise WheelhouseError(
                f"Python version {python!r} is not one that wstutorial runs on (Python {allowed}); "
                "give one like 3.12 (every 3.12.x) or 3.12.4 (that release only)"
            )
    for platform in platforms:
        if platform != "this" and platform not in PLATFORMS:
            known = ", ".join(["this", *PLATFORMS])
            raise WheelhouseError(f"unknown platform {platform!r}; use one of: {known}")
        if platform == "this":
            result.append(Target("this", ".".join(map(str, sys.version_info[:2]))))
            continue
        result += [Target(platform, python) for python in pythons]
    return result


# --- the wstutorial wheel itself ------------------------------------------------


def _checkout() -> Path | None:
    root = Path(__file__).resolve().parents[2]
    pyproject = root / "pyproject.toml"
    if pyproject.is_file() and 'name = "wstutorial"' in pyproject.read_text(encoding="utf-8"):
        return root
    return None


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def repack_installed(dest: Path) -> Path:
    """Rebuild the installed wstutorial's wheel from its files (an install from a wheel keeps them all)."""
    dist = importlib.metadata.distribution("wstutorial")
    name, version = dist.metadata["Name"], dist.version
    info = f"{name}-{version}.dist-info"
    skip = {f"{info}/RECORD", f"{info}/INSTALLER", f"{info}/REQUESTED", f"{info}/direct_url.json"}
    wheel = dest / f"{name}-{version}-py3-none-any.whl"
    records = []
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in dist.files or []:
            path = file.as_posix()
            if path.startswith("..") or path in skip or "__pycache__" in path or path.endswith(".pyc"):
                continue
            data = Path(str(file.locate())).read_bytes()
            archive.writestr(path, data)
            records.append(f"{path},{_record_hash(data)},{len(data)}")
        records.append(f"{info}/RECORD,,")
        archive.writestr(f"{info}/RECORD", "\n".join(records) + "\n")
    return wheel


def own_wheel(dest: Path, out: Callable[[str], None] = print) -> Path:
    """The wstutorial wheel in ``dest``: built from the checkout, or rebuilt from the installed package."""
    dest.mkdir(parents=True, exist_ok=True)
    root = _checkout()
    if root is None:
        return repack_installed(dest)
    for old in dest.glob("wstutorial-*.whl"):
        old.unlink()
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(dest), str(root)]
    try:
        import hatchling  # noqa: F401  # builds without downloading the build backend
    except ImportError:
        pass
    else:
        command.insert(4, "--no-build-isolation")
    result = subprocess.run(command, capture_output=True, text=True)
    wheels = sorted(dest.glob("wstutorial-*.whl"))
    if result.returncode != 0 or not wheels:
        raise WheelhouseError(f"building the wstutorial wheel from {root} failed:\n{result.stderr[-2000:]}")
    return wheels[-1]


# --- the tested versions: constraints.txt ---------------------------------------


def constraints_file() -> Path | None:
    """The lock: ``constraints.txt`` of the checkout, else the copy inside the installed package."""
    root = _checkout()
    if root is not None and (root / "constraints.txt").is_file():
        return root / "constraints.txt"
    shipped = importlib.resources.files("wstutorial") / "constraints.txt"
    return Path(str(shipped)) if shipped.is_file() else None


def locked_pins(path: Path) -> dict[str, str]:
    """``constraints.txt`` as {canonical name: version}; a line that is not ``name==version`` is an error."""
    pins: dict[str, str] = {}
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        name, separator, version = text.partition("==")
        if not separator or not name.strip() or not version.strip():
            raise WheelhouseError(
                f"{path}, line {number}: {line!r} is not a pin 'name==version': this lock file is damaged; "
                "reinstall wstutorial (in a checkout: make it again with scripts/lock.sh)"
            )
        pins[str(canonicalize_name(name.strip()))] = version.strip()
    return pins


# pip's words for "this pinned version cannot be had here" (pip 23 to 26).
_CONFLICT = re.compile(r"\(constraint\) ([A-Za-z0-9._-]+)==|No matching distribution found for ([A-Za-z0-9._-]+)")


def _unavailable(pip_output: str, pins: dict[str, str]) -> list[str]:
    """The pinned names pip could not satisfy for a target (canonical, in order)."""
    names = []
    for match in _CONFLICT.finditer(pip_output):
        name = str(canonicalize_name(match.group(1) or match.group(2)))
        if name in pins and name not in names:
            names.append(name)
    return names


def _newest(folder: Path, name: str, target: Target) -> str:
    accepted = target.tags()
    versions = [
        w.version for w in _wheels(folder)
        if w.name == name and w.tags & accepted and target.admits(_metadata(w.path).requires_python)
    ]
    return str(max(versions)) if versions else "?"


# --- completeness: the dependency tree with the target's markers ---------------


@dataclasses.dataclass(frozen=True)
class _Wheel:
    path: Path
    name: str
    version: Version
    tags: frozenset[Tag]


def _wheels(folder: Path) -> list[_Wheel]:
    found = []
    for path in sorted(folder.glob("*.whl")):
        try:
            name, version, _, tags = parse_wheel_filename(path.name)
        except ValueError:
            continue
        found.append(_Wheel(path, str(name), version, frozenset(tags)))
    return found


@dataclasses.dataclass(frozen=True)
class _Metadata:
    requires: list[Requirement]
    requires_python: str | None


_metadata_cache: dict[tuple[Path, int, int], _Metadata] = {}


def _metadata(wheel: Path) -> _Metadata:
    """A wheel's dependencies and Requires-Python (read once per file)."""
    stat = wheel.stat()
    key = (wheel, stat.st_size, stat.st_mtime_ns)
    if key not in _metadata_cache:
        with zipfile.ZipFile(wheel) as archive:
            (name,) = [n for n in archive.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
            message = email.parser.Parser().parsestr(archive.read(name).decode("utf-8"), headersonly=True)
        requires = [Requirement(text) for text in message.get_all("Requires-Dist") or []]
        _metadata_cache[key] = _Metadata(requires, message.get("Requires-Python"))
    return _metadata_cache[key]


def _applies(requirement: Requirement, environment: dict[str, str], extras: Iterable[str]) -> bool:
    if requirement.marker is None:
        return True
    marker: Marker = requirement.marker
    return any(marker.evaluate({**environment, "extra": extra}) for extra in ("", *extras))


def missing_for(folder: Path, roots: Sequence[Requirement], target: Target) -> list[Requirement]:
    """What ``target`` would still need from an index to install ``roots`` from ``folder`` alone.

    A wheel counts if its tags and its ``Requires-Python`` fit the target, as pip decides; a
    dependency's newest fitting version stands for the others (pins make it the only one).
    """
    environment, accepted = target.environment(), target.tags()
    by_name: dict[str, list[_Wheel]] = {}
    for wheel in _wheels(folder):
        if wheel.tags & accepted and target.admits(_metadata(wheel.path).requires_python):
            by_name.setdefault(wheel.name, []).append(wheel)
    missing: list[Requirement] = []
    seen: set[tuple[str, frozenset[str]]] = set()
    queue: list[tuple[Requirement, tuple[str, ...]]] = [(requirement, ()) for requirement in roots]
    while queue:
        requirement, parent_extras = queue.pop()
        if not _applies(requirement, environment, parent_extras):
            continue
        name = str(canonicalize_name(requirement.name))
        candidates = [w for w in by_name.get(name, []) if requirement.specifier.contains(w.version, prereleases=True)]
        if not candidates:
            missing.append(requirement)
            continue
        key = (name, frozenset(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        best = max(candidates, key=lambda wheel: wheel.version)
        queue += [(dependency, tuple(requirement.extras)) for dependency in _metadata(best.path).requires]
    return missing


# --- downloading ------------------------------------------------------------------

PROGRESS_EVERY = 15.0  # seconds between the progress lines of one long pip run


def _pip_download(
    folder: Path, target: Target, requirements: list[str], options: Sequence[str] = (),
    out: Callable[[str], None] = print,
) -> subprocess.CompletedProcess[str]:
    """pip download into ``folder``, saying every so often how far it got (pip's own output is kept for errors)."""
    command = [
        sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--progress-bar", "off",
        "--dest", str(folder), "--find-links", str(folder), *options, *target.pip_options(), *requirements,
    ]
    started = last = time.monotonic()
    looked_at = saved = 0
    lines: list[str] = []
    # One pipe for both streams: pip warns on stderr per package on some machines, which must not fill up unread.
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as process:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            looked_at += line.startswith(("Collecting ", "Processing "))
            saved += line.startswith("Saved ")
            now = time.monotonic()
            if now - last >= PROGRESS_EVERY:
                last = now
                done = f", {saved} wheel(s) saved" if saved else ""
                out(f"      ... {looked_at} packages looked at{done}, {now - started:.0f} s")
    return subprocess.CompletedProcess(command, process.returncode, "".join(lines), "")


def _requirement_text(requirement: Requirement) -> str:
    text = requirement.name + (f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else "")
    return text + str(requirement.specifier)


@dataclasses.dataclass(frozen=True)
class Shortfall:
    """A target the wheelhouse cannot serve, and why."""

    target: Target
    reason: str

    @property
    def sentence(self) -> str:
        return f"{self.target.label}: {self.reason}"


def _summary(folder: Path) -> str:
    files = list(folder.glob("*.whl"))
    size = sum(path.stat().st_size for path in files) / 1e6
    return f"{len(files)} wheels, {size:.0f} MB"


def build_wheelhouse(
    folder: Path,
    platforms: Iterable[str] = DEFAULT_PLATFORMS,
    pythons: Iterable[str] = DEFAULT_PYTHONS,
    extras: Sequence[str] = ("notebook",),
    also: Sequence[str] = (),
    out: Callable[[str], None] = print,
    constraints: Path | None = None,
    pip_options: Sequence[str] = (),
) -> list[Shortfall]:
    """Fill ``folder`` with every wheel; return the targets that could not be completed (empty: all done).

    ``constraints``: the pins (default: :func:`constraints_file`); ``pip_options``: e.g. another index.
    """
    started = time.monotonic()
    folder = Path(folder)
    chosen = targets(platforms, pythons)
    constraints = constraints or constraints_file()
    if constraints is None:
        pins: dict[str, str] = {}
        out("No constraints.txt found (neither in a checkout nor in the package): the newest versions, not the tested ones.")
    else:
        pins = locked_pins(constraints)
        out(f"Tested versions: {len(pins)} pins from {constraints}")
    releases = {t.python: t.release for t in chosen if not t.here}
    if releases:
        shown = ", ".join(f"{python} as {release}" for python, release in sorted(releases.items(), key=lambda i: Version(i[0])))
        out(f"Python versions, checked against each package's Requires-Python as pip does: {shown} "
            "(a version without its patch stands for all of them, so the oldest counts)")
    kinds = dict.fromkeys(PLATFORMS[t.platform][2] if not t.here else "this machine" for t in chosen)
    out(f"{len(chosen)} target(s): {'; '.join(kinds)}")
    out(f"Building the wstutorial wheel into {folder} ...")
    wheel = own_wheel(folder, out)
    own = f"wstutorial[{','.join(extras)}] @ {wheel.resolve().as_uri()}" if extras else f"wstutorial @ {wheel.resolve().as_uri()}"
    roots = [Requirement(own), *(Requirement(text) for text in also)]
    failed: list[Shortfall] = []
    with tempfile.TemporaryDirectory(prefix="wstutorial-pins-") as scratch:
        for number, target in enumerate(chosen, 1):
            began = time.monotonic()
            out(f"[{number}/{len(chosen)}] {target.label}: downloading ...")
            before = {path.name for path in folder.glob("*.whl")}
            problem = _fill(folder, target, roots, [own, *also], pins, Path(scratch) / f"constraints-{number}.txt", pip_options, out)
            added = len({path.name for path in folder.glob("*.whl")} - before)
            if problem:
                failed.append(Shortfall(target, problem))
            else:
                out(f"      complete: {added} new wheel(s), {time.monotonic() - began:.0f} s; so far {_summary(folder)}")
    out(f"{_summary(folder)} in {folder}, gathered in {_duration(time.monotonic() - started)}.")
    return failed


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


def _fill(
    folder: Path,
    target: Target,
    roots: Sequence[Requirement],
    requested: list[str],
    pins: dict[str, str],
    constraints: Path,
    pip_options: Sequence[str],
    out: Callable[[str], None],
) -> str:
    """Download until ``target`` is complete (returns ""), or say why it cannot be; the pins apply where they can."""
    locked, pins = pins, dict(pins)  # this target's own: a fallback here is not one for the others
    fallbacks: list[str] = []
    problem = ""
    rounds = 0
    others = [path for path in folder.glob("*.whl") if not path.name.startswith("wstutorial-")]
    if others and _top_up(folder, target, roots, requested, pins, locked, fallbacks, pip_options, out):
        rounds = 5  # complete, and pip agrees: no full resolution needed
    while rounds < 5:  # pip's own pass, then the dependencies only the target's markers ask for
        constraints.write_text("".join(f"{name}=={version}\n" for name, version in sorted(pins.items())), encoding="utf-8")
        options = [*pip_options, "-c", str(constraints)] if pins else list(pip_options)
        result = _pip_download(folder, target, requested, options, out)
        if result.returncode != 0:
            output = result.stderr + result.stdout
            unavailable = _unavailable(output, pins)
            if unavailable:  # no wheel of the pinned version for this target: its newest, said below
                for name in unavailable:
                    fallbacks.append(f"{name}=={pins.pop(name)}")
                continue
            problem = _pip_problem(output)
            break
        rounds += 1
        missing = missing_for(folder, roots, target)
        if not missing:
            break
        requested = sorted({_requirement_text(requirement) for requirement in missing})
        out(f"      + for this platform only: {', '.join(requested)}")
        for name in sorted({str(canonicalize_name(requirement.name)) for requirement in missing}):
            if locked and name not in locked:
                out(f"      not in constraints.txt (locked on Linux): {name}, the newest wheel for {target.label}")
    else:
        still = ", ".join(map(str, missing_for(folder, roots, target)))
        problem = f"still missing after 5 rounds of pip download: {still}" if still else ""
    for pin in fallbacks:
        name = pin.split("==")[0]
        out(f"      fallback: {pin} has no wheel for {target.label}; it gets {name} {_newest(folder, name, target)}")
    if problem:
        out(f"      FAILED: {problem}")
    return problem


def _top_up(
    folder: Path,
    target: Target,
    roots: Sequence[Requirement],
    requested: list[str],
    pins: dict[str, str],
    locked: dict[str, str],
    fallbacks: list[str],
    pip_options: Sequence[str],
    out: Callable[[str], None],
) -> bool:
    """The quick way for a folder that serves other targets already: fetch only what this one lacks.

    Most wheels are pure Python and already there. The dependency walk (:func:`missing_for`, with
    the target's markers) names what is missing; pip downloads just those (``--no-deps``, at the
    pins) until nothing is; then pip, from the folder alone, must agree that the target installs.
    False: let the full resolution (pip with the index, every package) do it.
    """
    for _ in range(10):
        missing = missing_for(folder, roots, target)
        if not missing:
            break
        wanted = {}
        for requirement in missing:
            name = str(canonicalize_name(requirement.name))
            pinned = pins.get(name)
            fits = pinned is not None and requirement.specifier.contains(pinned, prereleases=True)
            wanted[name] = f"{name}=={pinned}" if fits else _requirement_text(requirement)
        for name in sorted(wanted):
            if locked and name not in locked:
                out(f"      not in constraints.txt (locked on Linux): {name}, the newest wheel for {target.label}")
        out(f"      + for this target: {', '.join(sorted(wanted.values()))}")
        result = _pip_download(folder, target, sorted(wanted.values()), [*pip_options, "--no-deps"], out)
        if result.returncode != 0:
            unavailable = [name for name in _unavailable(result.stdout, pins) if name in wanted]
            if not unavailable:
                return False
            for name in unavailable:  # no wheel of the pinned version for this target: its newest, said later
                fallbacks.append(f"{name}=={pins.pop(name)}")
    else:
        return False
    agreed = _pip_download(folder, target, requested, ["--no-index"], out)
    return agreed.returncode == 0


def _pip_problem(output: str) -> str:
    """pip's reason, in its own words (the lines that say what is missing), for the sentence of a failed target."""
    wanted = [line.strip() for line in output.splitlines() if line.startswith("ERROR: ")]
    text = " / ".join(line.removeprefix("ERROR: ") for line in wanted[-2:]) or " / ".join(output.strip().splitlines()[-3:])
    return f"pip cannot get every wheel ({text})"


# --- what a folder can serve: classroom --wheels ------------------------------------


def unserved_platforms(folder: Path, requirement: str = "wstutorial[notebook]") -> list[str]:
    """One line per platform of the default targets that ``folder`` cannot install ``requirement`` on."""
    folder = Path(folder)
    lines = []
    for platform in DEFAULT_PLATFORMS:
        gaps = []
        for target in targets([platform], DEFAULT_PYTHONS):
            missing = missing_for(folder, [Requirement(requirement)], target)
            if missing:
                names = sorted({str(canonicalize_name(item.name)) for item in missing})
                gaps.append(f"Python {target.python} (no {', '.join(names[:3])}{', ...' if len(names) > 3 else ''})")
        if gaps:
            lines.append(f"{PLATFORMS[platform][2]}: these wheels cannot install {requirement} for " + "; ".join(gaps))
    return lines
