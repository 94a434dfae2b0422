"""A connection's close code as the package reports it: 1006 when it ended without a close frame, 1005 when the frame had no code.

RFC 6455 7.1.5; neither code is ever sent. The other side here is a small
server of raw sockets that completes the handshake and then drops the TCP
connection, or sends a close frame without a code.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Iterator

import pytest

import wstutorial
from wstutorial.clientstate import ClientState
from wstutorial.reconnect import ReconnectingClient
from wstutorial.teaching import handshake


class RawServer:
    """Accepts WebSocket handshakes; then, per connection, ``ending`` is done: 'drop' or 'close without code'."""

    def __init__(self, ending: str) -> None:
        self.ending = ending
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.listener.settimeout(0.2)
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.listener.accept()
            except OSError:
                continue
            with connection:
                request = b""
                while b"\r\n\r\n" not in request:
                    request += connection.recv(4096)
                key = next(line.split(b":", 1)[1].strip().decode() for line in request.split(b"\r\n")
                           if line.lower().startswith(b"sec-websocket-key:"))
                connection.sendall(
                    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + f"Sec-WebSocket-Accept: {handshake.accept_key(key)}\r\n\r\n".encode()
                )
                connection.sendall(handshake.encode_frame("hello"))
                if self.ending == "close without code":
                    connection.sendall(handshake.encode_frame(b"", "close"))
                    connection.settimeout(2)
                    try:
                        connection.recv(1024)  # the client's answer
                    except OSError:
                        pass
                # 'drop': the socket just closes, no close frame

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(5)
        self.listener.close()


@pytest.fixture
def dropping() -> Iterator[RawServer]:
    server = RawServer("drop")
    yield server
    server.stop()


def test_a_dropped_connection_is_1006(dropping: RawServer) -> None:
    """ConnectionClosed says 1006 and what it means; close_code is 1006, never None."""

    async def run() -> tuple[int | None, str]:
        client = await wstutorial.connect(dropping.url)
        assert await client.receive(timeout=5) == "hello"
        with pytest.raises(wstutorial.ConnectionClosed) as closed:
            await client.receive(timeout=5)
        assert closed.value.code == 1006
        return client.close_code, str(closed.value)

    code, sentence = asyncio.run(run())
    assert code == 1006
    assert sentence == "connection closed with code 1006 (the connection dropped without a close frame)"


def test_a_close_frame_without_a_code_is_1005() -> None:
    """A close frame with an empty payload: 1005, 'no close code was given'."""
    server = RawServer("close without code")
    try:
        with wstutorial.connect_blocking(server.url) as client:
            assert client.receive(timeout=5) == "hello"
            with pytest.raises(wstutorial.ConnectionClosed) as closed:
                client.receive(timeout=5)
        assert closed.value.code == 1005 and "no close code was given" in str(closed.value)
    finally:
        server.stop()


def test_a_normal_close_keeps_its_code() -> None:
    """The server's own close code is reported as it came (1001 when the tutorial's server stops)."""

    async def run() -> int | None:
        server = wstutorial.start_server(port=0)
        client = await wstutorial.connect(server.ws_url("/ws"))
        await client.receive(timeout=5)
        await asyncio.to_thread(server.stop)
        with pytest.raises(wstutorial.ConnectionClosed):
            await client.receive(timeout=5)
        return client.close_code

    assert asyncio.run(run()) == 1001


def test_the_reconnecting_client_logs_1006_for_a_drop(dropping: RawServer) -> None:
    """ReconnectingClient's log: 'connection lost: connection closed with code 1006 (...)'."""

    async def run() -> str:
        client = ReconnectingClient(dropping.url, max_attempts=1)
        client.start()
        try:
            lost = await client.wait_for("connection lost", timeout=10)
            return lost.text
        finally:
            await client.close()

    assert asyncio.run(run()) == "connection lost: connection closed with code 1006 (the connection dropped without a close frame)"


def test_a_panel_state_says_1006_for_a_drop(dropping: RawServer) -> None:
    """The panels' state (ClientState) ends as 'closed with code 1006'."""

    async def run() -> str:
        state = ClientState("127.0.0.1", dropping.port, "/ws")
        assert await state.open(), state.summary
        for _ in range(100):
            if state.status == "closed":
                break
            await asyncio.sleep(0.05)
        return state.summary

    assert asyncio.run(run()).startswith("closed with code 1006")
