"""The Python client, async (for notebook cells) and blocking (for scripts)."""

from __future__ import annotations

import asyncio

import pytest
import tornado.websocket

import wstutorial
from helpers import free_port, plain_http_server, wait_until


def test_async_client_round_trip(server: wstutorial.TutorialServer) -> None:
    """connect, receive, send, iterate and close with a code and reason, with await."""

    async def scenario() -> None:
        client = await wstutorial.connect(server.ws_url("/ws"))
        assert await client.receive(timeout=5) == "Hello World"
        await client.send("from python")
        await client.close(4000, "done here")
        assert client.closed
        with pytest.raises(wstutorial.ConnectionClosed) as closed:
            await client.receive()
        assert closed.value.code == 4000  # the server's answer repeats our code

        async with await wstutorial.connect(server.ws_url("/streaming")) as stream:
            received = []
            async for message in stream:
                received.append(message)
                if len(received) == 3:
                    break
        assert all(str(message).startswith("message: ") for message in received)

    asyncio.run(scenario())
    server.events.wait_for("message received from python")
    closed = [e for e in server.events.snapshot() if e.text == "connection closed"]
    assert closed


def test_close_code_and_reason_reach_the_server() -> None:
    """The server's handler sees the client's close code and reason."""
    seen: list[tuple[int | None, str | None]] = []

    class Recorder(wstutorial.TutorialHandler):
        def on_close(self) -> None:
            seen.append((self.close_code, self.close_reason))
            self.record("connection closed")

    with wstutorial.start_server(port=0, handlers={"/rec": Recorder}) as server:
        client = wstutorial.connect_blocking(server.ws_url("/rec"))
        client.close(4001, "bye now")
        server.events.wait_for("connection closed")
    assert seen == [(4001, "bye now")]


def test_blocking_client_receive_times_out(server: wstutorial.TutorialServer) -> None:
    """receive(timeout) raises TimeoutError when nothing comes."""
    with wstutorial.connect_blocking(server.ws_url("/echo")) as client:
        with pytest.raises(TimeoutError, match="within 0.1 s"):
            client.receive(timeout=0.1)
        client.send(b"\x01\x02")
        assert client.receive() == b"\x01\x02"


def test_blocking_client_works_while_a_loop_runs_in_this_thread(server: wstutorial.TutorialServer) -> None:
    """Inside a running asyncio loop (as in a notebook cell), the blocking client still works."""

    async def inside_a_loop() -> str | bytes:
        with wstutorial.connect_blocking(server.ws_url("/ws")) as client:
            return client.receive()

    assert asyncio.run(inside_a_loop()) == "Hello World"


def test_failures_are_sentences(server: wstutorial.TutorialServer) -> None:
    """Refused, unknown host, unknown path and a page each give one sentence naming the URL (tested here only:
    the state, the panels and the blocking client pass the same ConnectionFailed on)."""
    cases = {
        f"ws://127.0.0.1:{free_port()}/ws": "connection refused",
        "ws://no-such-host.invalid:8888/ws": "not found",
        server.ws_url("/nowhere"): "no WebSocket at /nowhere (404",
        server.ws_url("/hello.html"): "not a WebSocket server",
    }

    async def failures() -> dict[str, str]:
        found = {}
        for url in cases:
            with pytest.raises(wstutorial.ConnectionFailed) as failed:
                await wstutorial.connect(url, timeout=10)
            found[url] = str(failed.value)
        return found

    for url, text in asyncio.run(failures()).items():
        assert cases[url] in text and url in text and "Traceback" not in text


def test_a_403_says_how_to_let_the_page_in_on_either_server(server: wstutorial.TutorialServer) -> None:
    """403 names the tutorial server's allowed_origins and plain Tornado's check_origin, and both ways work;
    Origin null is told to open the page from the server; a 403 without an Origin is not blamed on one."""
    page = "http://evil.example"

    class PlainTornado(tornado.websocket.WebSocketHandler):  # nothing of wstutorial: Tornado's own origin check
        def open(self) -> None:
            self.write_message("Hello World")

    class PlainTornadoListing(PlainTornado):
        def check_origin(self, origin: str) -> bool:
            return origin == page

    async def reason(url: str, **how: object) -> str:
        with pytest.raises(wstutorial.ConnectionFailed) as failed:
            await wstutorial.connect(url, timeout=10, **how)  # type: ignore[arg-type]
        assert failed.value.status == 403
        return failed.value.reason

    async def greeting(url: str) -> str | bytes:
        async with await wstutorial.connect(url, origin=page, timeout=10) as client:
            return await client.receive(timeout=5)

    handlers = {"/plain": PlainTornado, "/listing": PlainTornadoListing}
    with wstutorial.start_server(port=0, handlers=handlers) as plain, wstutorial.start_server(
        port=0, allowed_origins=[page]
    ) as listed:

        async def scenario() -> None:
            for url in (server.ws_url("/ws"), plain.ws_url("/plain")):
                said = await reason(url, origin=page)
                assert f"allowed_origins=['{page}']" in said and "overriding check_origin" in said, said
            assert await greeting(listed.ws_url("/ws")) == "Hello World"  # the tutorial's way
            assert await greeting(plain.ws_url("/listing")) == "Hello World"  # plain Tornado's way
            said = await reason(server.ws_url("/ws"), origin="null")
            assert "page opened from disk" in said and "allowed_origins" not in said, said
            said = await reason(server.ws_url("/ws"), headers={"Host": "evil.example"})
            assert "no Origin was sent, so not for an origin" in said and "allowed_hosts" in said, said

        asyncio.run(scenario())


def test_blocking_client_fails_the_same_way() -> None:
    """connect_blocking raises the async client's ConnectionFailed, and refuses a URL that is not ws://."""
    with pytest.raises(wstutorial.ConnectionFailed, match="connection refused"):
        wstutorial.connect_blocking(f"ws://127.0.0.1:{free_port()}/ws", timeout=5)
    with pytest.raises(wstutorial.InvalidAddress, match="ws://"):
        wstutorial.connect_blocking("http://localhost:8888/ws")


def test_plain_http_server_is_not_a_websocket_server() -> None:
    """An HTTP server that is not a WebSocket server is named as such."""

    with plain_http_server(b"<p>just a web page</p>") as port:
        with pytest.raises(wstutorial.ConnectionFailed, match="not a WebSocket server"):
            wstutorial.connect_blocking(f"ws://127.0.0.1:{port}/ws")


def test_close_while_another_coroutine_iterates_ends_the_iteration(server: wstutorial.TutorialServer) -> None:
    """close() (even with timeout=0) while an `async for` reads a fast stream: the loop ends, never hangs."""

    async def once() -> None:
        client = await wstutorial.connect(server.ws_url("/sensor?rate=500"))
        received = 0

        async def read_all() -> None:
            nonlocal received
            async for _ in client:
                received += 1

        reader = asyncio.ensure_future(read_all())
        await wait_until(lambda: received >= 5)
        await client.close(1000, "enough", timeout=0)
        await asyncio.wait_for(reader, 10)  # before the fix: waited forever, now and then

    async def scenario() -> None:
        for _ in range(20):
            await once()

    asyncio.run(scenario())


@pytest.mark.parametrize(
    "url, named",
    [
        ("ws://:8888/ws", "host is empty"),
        ("ws://localhost:abc/ws", "'abc'"),
        ("ws://localhost:70000/ws", "70000"),
        ("ws://localhost:8888ws", "'8888ws'"),
        ("localhost:8888/ws", "ws://"),
    ],
)
def test_connect_refuses_bad_urls_before_connecting(url: str, named: str) -> None:
    """connect() checks the URL first and names the bad part (no Tornado error)."""
    with pytest.raises(wstutorial.InvalidAddress) as raised:
        asyncio.run(wstutorial.connect(url))
    assert named in str(raised.value)
