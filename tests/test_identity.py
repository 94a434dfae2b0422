"""Who holds a port: a tutorial server's identity (its JSON, its header, its sentence), asked of real servers on loopback."""

from __future__ import annotations

import os
from typing import Iterator

import pytest
from websockets.sync.client import connect as websockets_connect

import wstutorial
from helpers import plain_http_server
from wstutorial.address import free_port
from wstutorial.identity import (
    HEADER,
    ServerIdentity,
    describe_holder,
    header_value,
    notebook_name,
    parse_header,
    probe,
    this_process,
)


@pytest.fixture
def plain_http_port() -> Iterator[int]:
    """A web server of another program: a page at every path, JSON that is not a tutorial server's."""
    with plain_http_server(b'{"server": "something else", "pid": 1}') as port:
        yield port


@pytest.mark.parametrize(
    ("session", "expected"),
    [
        ("notebooks/01-hello-server.ipynb", "01-hello-server.ipynb"),
        ("C:\\Users\\ada\\notebooks\\02-echo.ipynb", "02-echo.ipynb"),
        ("  03-chat.ipynb\n", "03-chat.ipynb"),
        (None, ""),
    ],
)
def test_notebook_name_is_the_file_name_jupyter_gives_the_kernel(
    session: str | None, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """$JPY_SESSION_NAME's last part, for / and \\ paths alike; '' outside a notebook."""
    if session is None:
        monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    else:
        monkeypatch.setenv("JPY_SESSION_NAME", session)
    assert notebook_name() == expected
    assert this_process().notebook == expected and this_process().pid == os.getpid()


def test_each_holder_is_the_subject_of_a_sentence() -> None:
    """A server of this kernel, of another notebook, of another program, Jupyter, or anything else, each in words."""
    assert ServerIdentity(os.getpid(), "01-hello-server.ipynb").describe() == (
        "another server started in this kernel (see wstutorial.running_servers())"
    )
    other = os.getpid() + 1
    assert describe_holder(ServerIdentity(other, "01-hello-server.ipynb", "ipykernel_launcher.py")) == (
        f"the tutorial server of notebook 01-hello-server.ipynb (another kernel, process {other})"
    )
    assert ServerIdentity(other, "", "python -m wstutorial").describe() == (
        f"a tutorial server of another program (python -m wstutorial, process {other})"
    )
    assert ServerIdentity(other).describe() == f"a tutorial server of another program (process {other})"
    assert describe_holder("jupyter") == "a Jupyter server (JupyterLab or Notebook)"
    assert describe_holder(None) == "another program"


def test_the_header_carries_pid_and_notebook_and_a_name_cannot_forge_the_pid() -> None:
    """header_value and parse_header round-trip; a name is percent-encoded, so ';' and ',' in it cannot make a field."""
    identity = ServerIdentity(4321, "01-hello-server.ipynb", "ignored in the header")
    assert header_value(identity) == "pid=4321; notebook=01-hello-server.ipynb"
    assert parse_header(header_value(identity)) == ServerIdentity(4321, "01-hello-server.ipynb")
    assert header_value(ServerIdentity(4321)) == "pid=4321"
    forged = parse_header(header_value(ServerIdentity(4321, "x; pid=1,.ipynb")))
    assert forged == ServerIdentity(4321, "x; pid=1,.ipynb")


def test_a_name_with_spaces_or_accents_comes_back_whole() -> None:
    """The header is ASCII, yet a student's 'Übung 1.ipynb' is named as it is, not as 'bung1.ipynb'."""
    identity = ServerIdentity(4321, "Übung 1.ipynb")
    assert header_value(identity) == "pid=4321; notebook=%C3%9Cbung%201.ipynb"
    assert parse_header(header_value(identity)) == identity


@pytest.mark.parametrize("value", [None, "", "pid=", "pid=abc", "notebook=x.ipynb", "pid=-5", "garbage"])
def test_a_missing_or_garbled_header_is_no_identity(value: str | None) -> None:
    """Anything without a whole-number pid gives None, never an exception."""
    assert parse_header(value) is None


def test_probe_finds_a_server_of_this_kernel_and_its_notebook(monkeypatch: pytest.MonkeyPatch) -> None:
    """A real server answers the probe (also when asked at 0.0.0.0) and marks its handshake with the same identity."""
    monkeypatch.setenv("JPY_SESSION_NAME", "notebooks/05-identity.ipynb")
    with wstutorial.start_server(port=0) as server:
        for host in ("127.0.0.1", "0.0.0.0"):
            holder = probe(host, server.port)
            assert isinstance(holder, ServerIdentity) and holder.is_this_process, holder
            assert (holder.pid, holder.notebook) == (os.getpid(), "05-identity.ipynb")
        assert describe_holder(holder) == "another server started in this kernel (see wstutorial.running_servers())"
        with websockets_connect(server.ws_url("/ws"), open_timeout=5) as websocket:
            assert websocket.response is not None
            assert parse_header(websocket.response.headers.get(HEADER)) == ServerIdentity(os.getpid(), "05-identity.ipynb")


def test_probe_of_another_program_or_of_nothing_is_none(plain_http_port: int) -> None:
    """A web server whose JSON is not a tutorial server's, and a port nobody listens on, are both None."""
    assert probe("127.0.0.1", plain_http_port) is None
    assert probe("127.0.0.1", free_port()) is None
