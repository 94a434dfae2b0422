"""An independent client, the websockets library, talks to the running server."""

from __future__ import annotations

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

import wstutorial


def test_websockets_client_gets_hello_world(server: wstutorial.TutorialServer) -> None:
    """/ws greets a websockets-library client and records its message."""
    with connect(server.ws_url("/ws")) as websocket:
        assert websocket.recv(timeout=5) == "Hello World"
        websocket.send("hello from websockets")
    server.events.wait_for("message received hello from websockets")
    server.events.wait_for("connection closed")


def test_websockets_client_echo_and_stream(server: wstutorial.TutorialServer) -> None:
    """/echo echoes text and bytes; /streaming counts up."""
    with connect(server.ws_url("/echo")) as websocket:
        websocket.send("abc")
        assert websocket.recv(timeout=5) == "abc"
        websocket.send(b"\xff\x00")
        assert websocket.recv(timeout=5) == b"\xff\x00"
    with connect(server.ws_url("/streaming")) as websocket:
        numbers = [int(str(websocket.recv(timeout=5)).split(": ")[1]) for _ in range(3)]
    assert numbers == sorted(numbers) and len(set(numbers)) == 3


def test_websockets_client_sees_1001_on_stop() -> None:
    """Stopping the server closes a websockets-library client with 1001."""
    server = wstutorial.start_server(port=0)
    with connect(server.ws_url("/ws")) as websocket:
        assert websocket.recv(timeout=5) == "Hello World"
        server.stop()
        with pytest.raises(ConnectionClosed) as closed:
            websocket.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001


def test_websockets_client_gets_404_and_403(server: wstutorial.TutorialServer) -> None:
    """Unknown paths are 404; a foreign Origin is 403."""
    with pytest.raises(InvalidStatus) as not_found:
        connect(server.ws_url("/unknown"))
    assert not_found.value.response.status_code == 404
    with pytest.raises(InvalidStatus) as forbidden:
        connect(server.ws_url("/ws"), origin="http://evil.example")  # type: ignore[arg-type]
    assert forbidden.value.response.status_code == 403


def test_allowed_origins_lets_a_listed_page_in() -> None:
    """An origin listed in allowed_origins (e.g. JupyterLab's) may connect; others not."""
    with wstutorial.start_server(port=0, allowed_origins=["http://localhost:8889"]) as server:
        with connect(server.ws_url("/ws"), origin="http://localhost:8889") as websocket:  # type: ignore[arg-type]
            assert websocket.recv(timeout=5) == "Hello World"
        with pytest.raises(InvalidStatus):
            connect(server.ws_url("/ws"), origin="http://localhost:8890")  # type: ignore[arg-type]
