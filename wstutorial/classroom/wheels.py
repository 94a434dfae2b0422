"""``/wheels/``: the teacher's wheelhouse, served to the class by the classroom server.

``/wheels/`` is a plain HTML page of links to the ``.whl`` files, which is
what pip's ``--find-links URL`` reads; each file is served from the folder
(only ``.whl`` names, nothing else of the folder, never outside it). A
student then installs with nothing but the teacher's machine::

    pip install --no-index --find-links http://<teacher>:<port>/wheels/ "wstutorial[notebook]"
"""

from __future__ import annotations

import html
import urllib.parse
from pathlib import Path
from typing import Any

import tornado.web

__all__ = ["WHEELS_PATH", "wheel_routes", "student_install_command"]

WHEELS_PATH = "/wheels/"


class WheelListHandler(tornado.web.RequestHandler):
    """The find-links page: one link per wheel, names as text."""

    def initialize(self, folder: Path) -> None:
        self.folder = folder

    def get(self) -> None:
        names = sorted(path.name for path in self.folder.glob("*.whl") if path.is_file())
        links = "\n".join(
            f'<a href="{urllib.parse.quote(name)}">{html.escape(name)}</a><br>' for name in names
        )
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-cache")
        self.write(f"<!DOCTYPE html>\n<html><head><title>wheels</title></head><body>\n{links}\n</body></html>\n")


class WheelFileHandler(tornado.web.StaticFileHandler):
    """One wheel file (the route only matches ``*.whl`` names without a slash)."""


def wheel_routes(folder: Path) -> list[Any]:
    """Tornado rules for ``/wheels/`` and its files (``/wheels`` redirects, so relative links resolve)."""
    folder = Path(folder).resolve()
    if not folder.is_dir():
        raise FileNotFoundError(
            f"the wheel folder {folder} does not exist; make it first: python -m wstutorial wheelhouse {folder}"
        )
    return [
        (r"/wheels", tornado.web.RedirectHandler, {"url": WHEELS_PATH}),
        (r"/wheels/", WheelListHandler, {"folder": folder}),
        (r"/wheels/([^/\\]+\.whl)", WheelFileHandler, {"path": str(folder)}),
    ]


def student_install_command(base_url: str, requirement: str = "wstutorial[notebook]") -> str:
    """What a student types: pip with the teacher's machine as the only source."""
    return f'python -m pip install --no-index --find-links {base_url.rstrip("/")}{WHEELS_PATH} "{requirement}"'
