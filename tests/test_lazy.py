"""Every name of the package is imported on first use (wstutorial/lazy.py): the client side loads no server."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import wstutorial
import wstutorial.classroom
import wstutorial.server
import wstutorial.services
import wstutorial.student
import wstutorial.widgets

# What a script, a client or a student's notebook must never load by importing the client side.
SERVER_SIDE = ("wstutorial.server", "wstutorial.classroom", "wstutorial.teaching", "wstutorial.tools", "wstutorial.widgets")


def loaded_after(statement: str) -> list[str]:
    """The wstutorial modules a fresh interpreter has loaded after ``statement``."""
    probe = f"import sys, json\n{statement}\nprint(json.dumps(sorted(m for m in sys.modules if m.startswith('wstutorial'))))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_import_wstutorial_loads_nothing_but_itself() -> None:
    """`import wstutorial` loads the package and its lazy helper, nothing more."""
    assert loaded_after("import wstutorial") == ["wstutorial", "wstutorial.lazy"]


CLIENT_SIDE = [
    "import wstutorial.client",
    "from wstutorial.client import connect_blocking",
    "from wstutorial import connect, connect_blocking, ConnectionClosed, ConnectionFailed, BlockingClient, Client",
    "from wstutorial import ReconnectingClient, Backoff, connect_reconnecting",
    "from wstutorial import ClientState, Event, EventLog, InvalidAddress, ws_url",
    "import wstutorial.address, wstutorial.events, wstutorial.protocol, wstutorial.chatrules",
    "import wstutorial.student",
    "from wstutorial.student import ChatState",
    "from wstutorial.student import Lesson",
    "from wstutorial.student import progress",
]


@pytest.mark.parametrize("statement", CLIENT_SIDE)
def test_the_client_side_loads_no_server(statement: str) -> None:
    """A client, a reconnecting client or a student's side of the classroom loads no server, room, teaching or widgets module."""
    loaded = loaded_after(statement)
    assert not [m for m in loaded if m.startswith(SERVER_SIDE)], loaded


@pytest.mark.parametrize(
    "package", [wstutorial, wstutorial.server, wstutorial.classroom, wstutorial.student, wstutorial.services, wstutorial.widgets]
)
def test_every_public_name_resolves_in_a_fresh_interpreter(package: object) -> None:
    """Each name in a package's __all__ (and the panels of wstutorial) imports on first use, as the object its module defines."""
    name = package.__name__  # type: ignore[attr-defined]
    names = list(package.__all__)  # type: ignore[attr-defined]
    if package is wstutorial:
        names += ["ClientPanel", "ServerConsole", "StreamView"]
    probe = (
        f"import importlib, {name} as package\n"
        f"for attr in {names!r}:\n"
        f"    value = getattr(package, attr)\n"
        f"    home = importlib.import_module(value.__module__)\n"
        f"    assert getattr(home, attr) is value, attr\n"
        f"    assert attr in dir(package), attr\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_a_submodule_is_an_attribute_and_a_typo_an_attribute_error() -> None:
    """`wstutorial.address` works after `import wstutorial`; an unknown name raises AttributeError naming it."""
    assert loaded_after("import wstutorial\nwstutorial.address.ws_url") == ["wstutorial", "wstutorial.address", "wstutorial.errors", "wstutorial.lazy"]
    with pytest.raises(AttributeError, match="'start_sever'"):
        wstutorial.start_sever  # type: ignore[attr-defined]  # noqa: B018
