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

from ..server.app import PageHandler

__all__ = ["WHEELS_PATH", "wheel_routes", "student_install_command"]

WHEELS_PATH = "/wheels/"


def _served(path: Path) -> bool:
    """A wheel that is listed and served: a plain file (no link, which may point anywhere), not hidden."""
    return path.suffix == ".whl" and not path.name.startswith(".") and path.is_file() and not path.is_symlink()


class WheelListHandler(tornado.web.RequestHandler):
    """The find-links page: one link per wheel, names as text."""

    def initialize(self, folder: Path) -> None:
        self.folder = folder

    def get(self) -> None:
        names = sorted(path.name for path in self.folder.glob("*.whl") if _served(path))
        links = "\n".join(
            f'<a href="{urllib.parse.quote(name)}">{html.escape(name)}</a><br>' for name in names
        )
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-cache")
        self.write(f"<!DOCTYPE html>\n<html><head><link rel='icon' href='data:,'><title>wheels</title></head><body>\n{links}\n</body></html>\n")


class WheelFileHandler(PageHandler):
    """One wheel file of the folder, as listed: never a subfolder's, a hidden one or a link.

    The route's pattern sees the path still percent-encoded; the rules run
    here on the decoded name (``sub%2Fx.whl`` is ``sub/x.whl``).
    """

    def parse_url_path(self, url_path: str) -> str:
        name = super().parse_url_path(url_path)  # NUL: 400; hidden: 404
        if "/" in url_path or "\\" in url_path or not _served(Path(self.root) / url_path):
            raise tornado.web.HTTPError(404)
        return name


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
