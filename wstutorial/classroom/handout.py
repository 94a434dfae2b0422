"""``/handout``: the students' one-page handout, with this classroom's real address.

The teacher prints it (one A4 page from the browser) or projects it: how
to install (from the teacher's wheelhouse when ``--wheels`` serves one,
else from PyPI), what to write in notebook 06 (``NAME``, ``HOST``,
``PORT``) and the rules for names, the chat page for a browser without
Python, and what to do when stuck. It holds no secret (no teacher token):
anyone who can reach the server may open it.

The address is the one students can reach: this machine's network
address when the server listens on every interface (``0.0.0.0``), never
the ``127.0.0.1`` in the teacher's address bar. A machine with several
addresses (Wi-Fi and a cable, a VPN) gets one handout per address:
``/handout?host=ADDRESS`` picks one, among this server's own addresses
only, so nobody can print a handout that sends the class elsewhere.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import tornado.template
import tornado.web

from ..address import is_loopback, lan_addresses
from ..chatrules import MAX_NAME_LENGTH
from .wheels import WHEELS_PATH, student_install_command

__all__ = ["HANDOUT_PATH", "HandoutHandler", "handout_route", "student_hosts"]

HANDOUT_PATH = "/handout"
WILDCARD_HOSTS = ("0.0.0.0", "", "::")
# Shown when the machine has no network address: the teacher writes it in by hand.
UNKNOWN_HOST = "<the teacher's address>"

_TEMPLATE = tornado.template.Template(
    (Path(__file__).with_name("handout.html")).read_text(encoding="utf-8"), name="handout.html", autoescape="xhtml_escape"
)


def student_hosts(bound: str, network: list[str]) -> list[str]:
    """The host names students type to reach a server bound to ``bound``.

    Listening on every interface: this machine's ``network`` addresses
    (``lan_addresses()``). On one address: that one. On loopback only
    (a rehearsal on the teacher's machine): ``localhost``.
    """
    if bound in WILDCARD_HOSTS:
        return list(network) or [UNKNOWN_HOST]
    if is_loopback(bound):
        return ["localhost"]
    return [bound]


def _host_name(host_header: str) -> str:
    """The host part of a ``Host`` header (``192.168.1.5:8888`` → ``192.168.1.5``; ``[::1]:80`` → ``::1``)."""
    if host_header.startswith("["):
        return host_header[1:].partition("]")[0]
    return host_header.rpartition(":")[0] if host_header.count(":") == 1 else host_header


class HandoutHandler(tornado.web.RequestHandler):
    """The handout page, made for this request: the address students type, the port, the install line."""

    def initialize(
        self, bound: str, port: Callable[[], int], wheels: bool, network: Callable[[], list[str]] = lan_addresses
    ) -> None:
        self.bound = bound
        self.port = port
        self.wheels = wheels
        self.network = network

    def get(self) -> None:
        hosts = student_hosts(self.bound, self.network())
        asked = self.get_argument("host", "")
        if asked and asked not in hosts:
            raise tornado.web.HTTPError(404, f"not an address of this server: {asked!r}")
        # A student who opened this page over the network typed an address that works: keep it.
        seen = _host_name(self.request.host or "")
        host = asked or (seen if seen in hosts else hosts[0])
        port = self.port()
        base = f"http://{host}:{port}"
        self.set_header("Cache-Control", "no-store")
        self.write(_render(host=host, hosts=hosts, port=port, base=base, wheels=self.wheels))


def _render(*, host: str, hosts: list[str], port: int, base: str, wheels: bool) -> bytes:
    install = student_install_command(base) if wheels else 'python -m pip install "wstutorial[notebook]"'
    return _TEMPLATE.generate(
        host=host,
        hosts=hosts,
        port=port,
        base=base,
        wheels=wheels,
        wheels_url=base + WHEELS_PATH,
        install=install,
        windows_install="py" + install.removeprefix("python"),
        max_name=MAX_NAME_LENGTH,
        host_literal=json.dumps(host),
        this_machine_only=host == "localhost",
        unknown=host == UNKNOWN_HOST,
    )


def handout_route(bound: str, port: Callable[[], int], wheels: bool) -> tuple[str, Any, dict[str, Any]]:
    """The Tornado rule for ``/handout`` on a classroom bound to ``bound``; ``port()`` is its port once listening."""
    return (HANDOUT_PATH, HandoutHandler, {"bound": bound, "port": port, "wheels": wheels})
