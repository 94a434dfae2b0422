"""Telling who holds a port: this tutorial's server (and whose), a Jupyter server, or something else.

Every tutorial server answers ``GET /wstutorial-server.json`` (from this
machine only) with the process and notebook that started it, and puts its
process id in the ``X-Wstutorial-Server`` header of every answer, the
WebSocket handshake included. So a notebook whose port is taken can say
*which* notebook holds it, and a client can notice that the server it
reached belongs to another kernel.

Shared by the server and the client side; imports neither.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import os
import sys
import urllib.parse

__all__ = [
    "HEADER",
    "PATH",
    "ServerIdentity",
    "this_process",
    "notebook_name",
    "probe",
    "describe_holder",
    "header_value",
    "parse_header",
]

HEADER = "X-Wstutorial-Server"
PATH = "/wstutorial-server.json"

# A tutorial server on this machine answers within milliseconds; this only
# bounds the wait for a program that accepts but never answers.
PROBE_TIMEOUT = 1.0


def notebook_name() -> str:
    """The file name of the notebook this kernel runs ('' outside a notebook).

    Jupyter Server starts every kernel with ``$JPY_SESSION_NAME``, the
    notebook's path (ipykernel reads it for ``__session__``).
    """
    path = os.environ.get("JPY_SESSION_NAME", "").strip()
    return path.replace("\\", "/").rsplit("/", 1)[-1]


@dataclasses.dataclass(frozen=True)
class ServerIdentity:
    """Who runs a tutorial server: process id, notebook (if any), program."""

    pid: int
    notebook: str = ""
    program: str = ""

    @property
    def is_this_process(self) -> bool:
        return self.pid == os.getpid()

    def describe(self) -> str:
        """E.g. 'the tutorial server of notebook 01-hello-server.ipynb (another kernel, process 1234)'."""
        if self.is_this_process:
            return "another server started in this kernel (see wstutorial.running_servers())"
        if self.notebook:
            return f"the tutorial server of notebook {self.notebook} (another kernel, process {self.pid})"
        program = f" ({self.program}, process {self.pid})" if self.program else f" (process {self.pid})"
        return f"a tutorial server of another program{program}"

    def as_json(self) -> dict[str, object]:
        return {"server": "wstutorial", "pid": self.pid, "notebook": self.notebook, "program": self.program}


def this_process() -> ServerIdentity:
    """The identity servers started by this process announce."""
    program = " ".join(os.path.basename(part) for part in sys.argv[:3]) if sys.argv and sys.argv[0] else "python"
    return ServerIdentity(os.getpid(), notebook_name(), program[:80])


def probe(host: str, port: int, timeout: float = PROBE_TIMEOUT) -> ServerIdentity | str | None:
    """Ask what listens on ``host:port``.

    Returns the :class:`ServerIdentity` of a tutorial server, the string
    ``"jupyter"`` for a Jupyter server (JupyterLab, Notebook), or None when
    nothing answers or the program is unknown.
    """
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    try:
        connection = http.client.HTTPConnection(host, port, timeout=timeout)
        try:
            connection.request("GET", PATH, headers={"Host": f"{host}:{port}"})
            response = connection.getresponse()
            body = response.read(4096)
            status = response.status
        finally:
            connection.close()
    except (OSError, http.client.HTTPException):
        return None
    if status == 200:
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        if isinstance(data, dict) and data.get("server") == "wstutorial" and isinstance(data.get("pid"), int):
            return ServerIdentity(data["pid"], str(data.get("notebook") or ""), str(data.get("program") or ""))
    return "jupyter" if _is_jupyter(host, port, timeout) else None


def _is_jupyter(host: str, port: int, timeout: float) -> bool:
    """Jupyter Server answers ``GET /api`` with its version, without a login."""
    try:
        connection = http.client.HTTPConnection(host, port, timeout=timeout)
        try:
            connection.request("GET", "/api")
            response = connection.getresponse()
            data = json.loads(response.read(4096)) if response.status == 200 else None
        finally:
            connection.close()
    except (OSError, http.client.HTTPException, ValueError):
        return False
    return isinstance(data, dict) and "version" in data


def describe_holder(holder: ServerIdentity | str | None) -> str:
    """What :func:`probe` found, as the subject of a sentence."""
    if isinstance(holder, ServerIdentity):
        return holder.describe()
    if holder == "jupyter":
        return "a Jupyter server (JupyterLab or Notebook)"
    return "another program"


def header_value(identity: ServerIdentity) -> str:
    """The ``X-Wstutorial-Server`` header: ``pid=1234; notebook=01-hello-server.ipynb``.

    The name is percent-encoded: a header is ASCII, and ``;`` or ``,`` in a
    name must not start a field (``Übung 1.ipynb`` is ``%C3%9Cbung%201.ipynb``).
    """
    notebook = urllib.parse.quote(identity.notebook, safe="")
    return f"pid={identity.pid}" + (f"; notebook={notebook}" if notebook else "")


def parse_header(value: str | None) -> ServerIdentity | None:
    """The identity in an ``X-Wstutorial-Server`` header (None when absent or garbled)."""
    if not value:
        return None
    fields = dict(part.strip().partition("=")[::2] for part in value.split(";"))
    pid = fields.get("pid", "")
    if not pid.isdigit():
        return None
    return ServerIdentity(int(pid), urllib.parse.unquote(fields.get("notebook", "")))
