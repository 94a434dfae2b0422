"""Links to the browser pages that work where the notebook runs: on this machine, JupyterHub or Binder.

On a laptop the browser reaches the kernel's server directly
(``http://127.0.0.1:8888/hello.html``). On JupyterHub or Binder the kernel
runs on another machine: the browser can only reach its server through
jupyter-server-proxy, at ``<hub prefix>proxy/<port>/hello.html`` on the hub's
own address. The pages then build their WebSocket address from their own
location, so ``/ws`` becomes ``<hub prefix>proxy/<port>/ws`` by itself.

    >>> page_link(server, "hello.html")           # in a notebook cell: a link to click
"""

from __future__ import annotations

import dataclasses
import html
import importlib.util
import os
import time
import urllib.parse
from typing import Any, Mapping

from ..address import is_loopback

__all__ = ["PageLink", "browser_pages", "hub_prefix", "hosting", "page_link", "wait_for_page"]

BINDER_VARIABLES = ("BINDER_LAUNCH_HOST", "BINDER_REPO_URL", "BINDER_REF_URL", "BINDER_REQUEST")


def hub_prefix(environ: Mapping[str, str] | None = None) -> str | None:
    """The single-user server's URL prefix (``/user/ada/``) when behind JupyterHub or Binder, else None."""
    env = os.environ if environ is None else environ
    prefix = env.get("JUPYTERHUB_SERVICE_PREFIX", "").strip()
    if prefix:
        return "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"
    if any(env.get(name) for name in BINDER_VARIABLES):
        return "/"  # a Binder without a hub prefix serves at the root
    return None


def hosting(environ: Mapping[str, str] | None = None) -> str:
    """Where the notebook runs: ``"Binder"``, ``"JupyterHub"`` or ``"local"``."""
    env = os.environ if environ is None else environ
    if any(env.get(name) for name in BINDER_VARIABLES):
        return "Binder"
    if env.get("JUPYTERHUB_SERVICE_PREFIX"):
        return "JupyterHub"
    return "local"


@dataclasses.dataclass(frozen=True)
class PageLink:
    """A page's address for the browser; shows as a link in a notebook."""

    url: str
    page: str
    proxied: bool = False
    note: str = ""

    def __str__(self) -> str:
        return self.url

    def _repr_html_(self) -> str:
        note = f" <small>({html.escape(self.note)})</small>" if self.note else ""
        return (
            f'<a href="{html.escape(self.url, quote=True)}" target="_blank" rel="noopener">'
            f"{html.escape(self.page)}</a>{note}"
        )


def _base_url(server: object) -> tuple[str, int, bool]:
    """(base URL ending in '/', port, is it this machine) for a server, a Classroom or a URL."""
    inner = getattr(server, "server", server)  # a Classroom holds its TutorialServer
    if isinstance(inner, str):
        parts = urllib.parse.urlsplit(inner if "://" in inner else f"http://{inner}")
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.port is None:
            raise ValueError(f"a server address looks like 'http://192.168.1.5:8888/', got {inner!r}")
        return f"{parts.scheme}://{parts.netloc}/", parts.port, is_loopback(parts.hostname)
    url = inner.page_url("")  # type: ignore[attr-defined]
    return url, int(inner.port), True  # type: ignore[attr-defined]


def page_link(server: object, page: str = "hello.html", environ: Mapping[str, str] | None = None) -> PageLink:
    """The address of ``page`` on ``server`` that the notebook's browser can open.

    Args:
        server: a running server (``start_server()``), a ``Classroom``, or the
            address of someone else's server, e.g. ``"http://192.168.1.5:8888/"``.
        page: the page, e.g. ``"hello.html"`` or ``"chat.html?name=Ada"``.
        environ: the environment to look at (default: ``os.environ``).

    Behind JupyterHub or Binder a server of this kernel is reached through
    jupyter-server-proxy (``<prefix>proxy/<port>/<page>``); the link is
    relative to the hub's address (``JUPYTERHUB_EXTERNAL_URL`` when set).
    A teacher's server elsewhere on the network is linked directly.
    """
    env = os.environ if environ is None else environ
    base, port, local = _base_url(server)
    page = page.lstrip("/")
    prefix = hub_prefix(env)
    if prefix is None or not local:
        return PageLink(base + page, page)
    external = env.get("JUPYTERHUB_EXTERNAL_URL", "").rstrip("/")
    url = f"{external}{prefix}proxy/{port}/{page}"
    note = f"through jupyter-server-proxy on {hosting(env)}"
    if importlib.util.find_spec("jupyter_server_proxy") is None:
        note += "; jupyter-server-proxy is not installed here: pip install jupyter-server-proxy, then restart the server"
    return PageLink(url, page, proxied=True, note=note)


def browser_pages(server: Any, path: str) -> int:
    """How many clients of ``path`` on ``server`` are browser pages: their handshake sent an ``Origin``."""

    def count() -> int:
        return sum(1 for handler in server.hub.connections.get(path, ()) if "Origin" in handler.request.headers)

    return int(server.call(count)) if server.running else 0


def wait_for_page(server: Any, path: str, timeout: float = 10.0) -> bool:
    """Wait until a browser page shown in the notebook is connected to ``path``; False after ``timeout`` s.

    Under Run All the cells after a frame run while the browser still loads
    its page: a cell that is about to stop the server waits here first, so
    the page is not left with "refused to connect". Without a browser (a
    script, nbval) it returns False after ``timeout``.
    """
    deadline = time.monotonic() + timeout
    while not browser_pages(server, path):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True
