"""The student's own copies of notebook 03's starting points (its pages, its program): copied once, never overwritten."""

from __future__ import annotations

import shutil
from pathlib import Path

__all__ = ["StudentCopies", "copy_starting_points"]


class StudentCopies:
    """A folder of the student's copies; the notebook shows it as the sentence of ``__str__`` (how to open and edit them)."""

    def __init__(self, folder: Path, names: tuple[str, ...]) -> None:
        self.folder = folder
        self.names = names

    def path(self, name: str) -> Path:
        return self.folder / name

    def files(self) -> str:
        """The copies as the file browser shows them: ``my-pages/send_on_open.html, ...``."""
        return ", ".join(f"{self.folder.name}/{name}" for name in self.names)

    def __repr__(self) -> str:
        return str(self)

    def _repr_pretty_(self, printer: object, cycle: bool) -> None:
        printer.text(str(self))  # type: ignore[attr-defined]


def copy_starting_points(folder: str | Path, starting_points: str | Path, names: tuple[str, ...], what: str) -> Path:
    """Copy each of ``names`` from ``starting_points`` into ``folder`` unless the student has it already; the folder.

    Never overwrites: a file that exists is the student's work. ``what``
    names the files in the error when a starting point is missing.
    """
    target = Path(folder)
    source = Path(starting_points)
    missing = [name for name in names if not (source / name).is_file()]
    if missing:
        raise FileNotFoundError(f"the {what} {missing} are not in {source.resolve()}; run this from the notebooks folder")
    target.mkdir(parents=True, exist_ok=True)
    for name in names:
        if not (target / name).exists():
            shutil.copyfile(source / name, target / name)
    return target
