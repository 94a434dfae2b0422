"""ClientState: the page's three steps (open, send, close) from code, against a real server."""

from __future__ import annotations

import asyncio

import pytest

import wstutorial
from helpers import free_port, wait_until
from wstutorial.clientstate import ClientState, NotOpen


def test_open_send_close(server: wstutorial.TutorialServer) -> None:
    """Open shows Hello World, send reaches the server, close ends with 1000; listeners see each step."""

    async def main() -> None:
        state = ClientState("localhost", server.port, "/ws")
        seen: list[str] = []
        state.on_change(lambda s: seen.append(s.status))
        assert state.url == f"ws://localhost:{server.port}/ws"
        assert await state.open() is True
        assert state.status == "open" and state.error == ""
        await wait_until(lambda: "Hello World" in state.messages)
        mark = server.events.next_seq
        assert await state.send("hi from the state") is True
        await asyncio.to_thread(server.events.wait_for, "message received hi from the state", after=mark)
        await state.close()
        assert state.status == "closed"
        assert state.close_code == 1000
        assert seen[:2] == ["connecting", "open"] and seen[-1] == "closed"
        assert state.summary.startswith("closed with code 1000")

    asyncio.run(main())


def test_server_stop_closes_with_1001() -> None:
    """When the server stops, the state turns closed with code 1001."""
    running = wstutorial.start_server(port=0)

    async def main() -> None:
        state = ClientState("127.0.0.1", running.port, "/ws")
        assert await state.open()
        await asyncio.to_thread(running.stop)
        await wait_until(lambda: state.status == "closed")
        assert state.close_code == 1001

    try:
        asyncio.run(main())
    finally:
        running.stop()


@pytest.mark.parametrize(
    ("host", "port", "uri", "expected"),
    [
        ("", "8888", "/ws", "host is empty"),
        ("localhost", "eighty", "/ws", "port must be a whole number"),
        ("localhost", "70000", "/ws", "port must be from 1 to 65535"),
        ("localhost", "8888", "ws", "uri must start with '/'"),
    ],
)
def test_bad_fields_fail_with_a_sentence(host: str, port: str, uri: str, expected: str) -> None:
    """A bad field makes open() return False with the address module's sentence."""

    async def main() -> None:
        state = ClientState(host, port, uri)
        assert await state.open() is False
        assert state.status == "failed"
        assert expected in state.error
        assert state.summary == f"failed: {state.error}"

    asyncio.run(main())


def test_connection_failure_is_the_clients_sentence() -> None:
    """A failed open leaves status 'failed' and the client's sentence in .error (the sentences: test_client.py)."""

    async def main() -> None:
        state = ClientState("127.0.0.1", free_port(), "/ws", timeout=5)
        assert await state.open() is False
        assert state.status == "failed"
        assert "connection refused" in state.error

    asyncio.run(main())


def test_send_when_not_open_says_so_at_once() -> None:
    """Sending before opening raises NotOpen at once, with the sentence also in state.error."""

    async def main() -> None:
        state = ClientState("localhost", 8888, "/ws")
        with pytest.raises(NotOpen, match="the connection is closed; open it first"):
            await state.send("hello")
        assert "open it first" in state.error and state.summary.endswith(state.error)

    asyncio.run(main())


def test_messages_are_bounded(server: wstutorial.TutorialServer) -> None:
    """Only the newest max_messages are kept; the count goes on."""

    async def main() -> None:
        state = ClientState("localhost", server.port, "/echo", max_messages=5)
        assert await state.open()
        for n in range(20):
            await state.send(f"m{n}")
        await wait_until(lambda: state.received == 20)
        assert list(state.messages) == [f"m{n}" for n in range(15, 20)]
        await state.close()

    asyncio.run(main())


def test_port_defaults_to_the_server_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a port, the state uses $WSTUTORIAL_PORT, like start_server()."""
    monkeypatch.setenv("WSTUTORIAL_PORT", "9123")
    assert ClientState().port == 9123
