"""Files the wheel carries beside the code: the pages, the notebooks, the teacher's notes, nginx's configuration.

An installed package has them inside it (``wstutorial/static/``, ...); a
checkout has them at the top of the repository (``static/``, ...). One
lookup for all of them, so that a broken install says the same thing
whichever file it lacks.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["PACKAGE", "REINSTALL", "MissingFile", "packaged_file"]

PACKAGE = Path(__file__).resolve().parent
REINSTALL = 'reinstall the package: python -m pip install --force-reinstall "wstutorial[notebook]"'


class MissingFile(FileNotFoundError):
    """A file the package carries is neither inside it nor in a checkout (a broken install)."""


def packaged_file(relative: str, what: str) -> Path:
    """``relative`` (e.g. ``static/hello.html``) inside the installed package, else in the checkout.

    Raises :class:`MissingFile`, naming ``what`` and both places, with the
    command that repairs the install.
    """
    places = (PACKAGE / relative, PACKAGE.parent / relative)
    for place in places:
        if place.is_file():
            return place
    raise MissingFile(f"{what} ({relative}) not found, neither in {places[0].parent} nor in {places[1].parent}; {REINSTALL}")
