"""The student's copy of the notebooks: copied the first time, updated later, never overwritten when changed.

The notebooks (with ``exercises/``, ``solutions/`` and any other folder
under ``notebooks/``) ship inside the package. :func:`sync_notebooks`
copies them into a folder of the student's and keeps a manifest there
(:data:`MANIFEST`): the SHA-256 of every file as it was copied. On a later
run a file whose bytes still match the manifest is the tutorial's, so a
newer tutorial version replaces it; a file that differs was changed by the
student, so it stays, and the newer version goes beside it as
``01-hello-server (tutorial 0.2.0).ipynb``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import secrets
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath

from ..jsontext import loads
from ..packaged import packaged_file

__all__ = [
    "MANIFEST", "SKIPPED_NAMES", "LinkRefused", "SyncReport", "notebooks_source", "tutorial_files", "sync_notebooks",
    "refuse_links", "write_atomically",
]

MANIFEST = ".wstutorial-manifest.json"

# Files of notebooks/ that are not for students: the test suite's nbval
# sanitizer, what Jupyter and Python leave behind in a checkout, and
# my-pages/ and my-program/, the pages and the program someone wrote in
# notebook 03 (their own work, never a tutorial file: git-ignored and not in
# the wheel, but present in a checkout where notebook 03 ran).
SKIPPED_NAMES = frozenset(
    {"sanitize.cfg", ".ipynb_checkpoints", "__pycache__", ".pytest_cache", "my-pages", "my-program"}
)


class LinkRefused(OSError):
    """A path the tutorial would write is a symbolic link, or inside a linked folder; ``str()`` says which and what to do."""


def refuse_links(folder: Path, relatives: Iterable[PurePosixPath | str]) -> None:
    """Raise :class:`LinkRefused` if any of ``folder / relative`` (or a folder on the way) is a symbolic link.

    The tutorial writes only inside the student's folder: a link there (a
    dangling one named like a notebook, a linked ``exercises/``) would carry
    the write anywhere else, e.g. over a file of the student's home.
    """
    for relative in relatives:
        path = Path(folder)
        for part in PurePosixPath(relative).parts:
            path = path / part
            if path.is_symlink():
                raise LinkRefused(
                    f"{path} is a symbolic link (to {os.readlink(path)}); the tutorial never writes through a link, "
                    "so that nothing lands outside its folder: remove the link, or give another folder, and run the command again"
                )


def write_atomically(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` through a new temporary file beside it, then rename: never half a file, never through a link."""
    # "x": a new file or an error (O_EXCL: not even a link of that name is
    # followed), with the usual permissions (mkstemp's would be owner-only).
    temporary = target.parent / f".wstutorial-{secrets.token_hex(8)}.tmp"
    file = temporary.open("xb")
    try:
        with file:
            file.write(data)
        os.replace(temporary, target)  # replaces a link itself, never what it points to
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def notebooks_source() -> Path:
    """Where the tutorial's notebooks are: inside the installed package, or ``notebooks/`` in a checkout."""
    return packaged_file("notebooks/00-setup-check.ipynb", "the tutorial's notebooks").parent


def tutorial_files(source: Path) -> Iterator[PurePosixPath]:
    """Every file to copy, relative to ``source`` (sorted; hidden files and test-only files left out)."""
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if any(part in SKIPPED_NAMES or part.startswith(".") for part in relative.parts):
            continue
        if path.is_file() and path.suffix not in (".pyc", ".pyo"):
            yield PurePosixPath(relative.as_posix())


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def side_name(relative: PurePosixPath, version: str, attempt: int = 1) -> PurePosixPath:
    """``01-hello-server (tutorial 0.2.0).ipynb``: where a newer version goes beside a changed file."""
    extra = "" if attempt == 1 else f", {attempt}"
    return relative.with_name(f"{relative.stem} (tutorial {version}{extra}){relative.suffix}")


@dataclasses.dataclass
class SyncReport:
    """What :func:`sync_notebooks` did, file by file (paths relative to the folder)."""

    folder: Path
    copied: list[str] = dataclasses.field(default_factory=list)
    updated: list[str] = dataclasses.field(default_factory=list)
    unchanged: list[str] = dataclasses.field(default_factory=list)
    # The student's changed file, and where the newer tutorial version was put ("" if none is newer).
    kept: list[tuple[str, str]] = dataclasses.field(default_factory=list)

    def lines(self) -> list[str]:
        """Sentences for the student."""
        out = []
        if self.copied:
            out.append(f"Copied {len(self.copied)} tutorial file(s) into {self.folder}.")
        if self.updated:
            out.append(f"Updated {len(self.updated)} file(s) you had not changed to the newer tutorial version: "
                       + ", ".join(self.updated))
        for mine, newer in self.kept:
            if newer:
                out.append(f"Kept your changed {mine}; the newer tutorial version is beside it: {newer}")
        yours = [mine for mine, newer in self.kept if not newer]
        if yours:
            out.append(f"Kept your changes in: {', '.join(yours)}.")
        if not (self.copied or self.updated or len(yours) < len(self.kept)):
            out.append(f"The tutorial's files in {self.folder} are up to date.")
        return out


def _load_manifest(folder: Path) -> dict[str, str]:
    try:
        data = loads((folder / MANIFEST).read_text(encoding="utf-8"))
        files = data["files"]
        return {str(name): str(digest) for name, digest in files.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        # No manifest (first run) or a damaged one: then every existing file
        # that differs from the tutorial's counts as the student's.
        return {}


def _save_manifest(folder: Path, version: str, files: dict[str, str]) -> None:
    text = json.dumps({"tutorial_version": version, "files": dict(sorted(files.items()))}, indent=1)
    write_atomically(folder / MANIFEST, (text + "\n").encode("utf-8"))


def sync_notebooks(folder: Path, source: Path | None = None, version: str | None = None) -> SyncReport:
    """Copy or update the tutorial's files in ``folder``; never overwrite a file the student changed."""
    if source is None:
        source = notebooks_source()
    if version is None:
        from .. import __version__

        version = __version__
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"{folder} is a file, not a folder: give another folder for the notebooks")
    folder.mkdir(parents=True, exist_ok=True)
    files = list(tutorial_files(source))
    refuse_links(folder, [*files, PurePosixPath(MANIFEST)])  # before anything is written
    manifest = _load_manifest(folder)
    report = SyncReport(folder)
    for relative in files:
        name = str(relative)
        new = source / relative
        new_digest = _digest(new)
        target = folder / relative
        if not target.exists():
            report.copied.append(name)
        else:
            current = _digest(target)
            if current == new_digest:
                report.unchanged.append(name)
                manifest[name] = new_digest
                continue
            if manifest.get(name) != current:
                # The student's file. Put the tutorial's version beside it,
                # unless it is the very version the student started from.
                newer = "" if manifest.get(name) == new_digest else _place_beside(folder, relative, new, new_digest, version, manifest)
                report.kept.append((name, newer))
                continue
            report.updated.append(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(target, new.read_bytes())
        manifest[name] = new_digest
    _save_manifest(folder, version, manifest)
    return report


def _place_beside(
    folder: Path, relative: PurePosixPath, new: Path, new_digest: str, version: str, manifest: dict[str, str]
) -> str:
    """Write the newer version under a side name that is free or already holds our own copy."""
    attempt = 1
    while True:
        side = side_name(relative, version, attempt)
        refuse_links(folder, [side])
        target = folder / side
        if not target.exists() or _digest(target) in (new_digest, manifest.get(str(side))):
            target.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(target, new.read_bytes())
            manifest[str(side)] = new_digest
            return str(side)
        attempt += 1  # the student edited our earlier side copy too: keep it, use the next name
