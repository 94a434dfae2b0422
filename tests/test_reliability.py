"""Bad input and faults against a real server: each connection fails alone, the server goes on."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
import tracemalloc
from typing import Any

import pytest
import websockets
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

import wstutorial
from helpers import RawClient, poll_until, rss_bytes
from wstutorial.address import port_is_free

# -- helpers ---------------------------------------------------------------------------


def handler_state(server: wstutorial.TutorialServer, path: str) -> list[tuple[str, int, int, int]]:
    """(name, pending writes, pending bytes, dropped) of each client on ``path``, read in the server thread."""

    return server.call(
        lambda: [(h.client_name, h.pending_writes, h.pending_bytes, h.dropped_messages) for h in server.hub.open_handlers(path)]
    )


def registered(server: wstutorial.TutorialServer) -> int:
    """How many connections the hub still keeps (open or not), read in the server thread."""

    return server.call(lambda: sum(len(handlers) for handlers in server.hub.connections.values()))


def still_serves(server: wstutorial.TutorialServer) -> None:
    """A new client on /ws still gets Hello World."""
    with connect(server.ws_url("/ws"), open_timeout=10) as websocket:
        assert websocket.recv(timeout=10) == "Hello World"


# -- bad input to the server ----------------------------------------------------------


def test_unknown_paths_are_404_for_pages_and_websockets(server: wstutorial.TutorialServer) -> None:
    """A page or a WebSocket the server does not have gets 404, recorded as an event."""
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(server.page_url("no-such-page.html"), timeout=10)
    assert missing.value.code == 404
    with pytest.raises(websockets.InvalidStatus) as not_found:
        connect(server.ws_url("/no-such-socket"))
    assert not_found.value.response.status_code == 404
    server.events.wait_for("HTTP 404 GET /no-such-socket", kind="http")
    still_serves(server)


def test_message_over_the_limit_closes_only_that_connection_with_1009() -> None:
    """One byte over max_message_size closes that client with 1009; its neighbour and new clients go on."""
    with wstutorial.start_server(port=0) as server:  # the default limit, 1 MiB
        limit = wstutorial.protocol.DEFAULT_MAX_MESSAGE_SIZE
        with connect(server.ws_url("/echo"), max_size=None) as neighbour, connect(
            server.ws_url("/echo"), max_size=None
        ) as big_sender:
            big_sender.send("x" * limit)  # exactly at the limit: fine
            assert len(big_sender.recv(timeout=10)) == limit
            big_sender.send("x" * (limit + 1))
            with pytest.raises(ConnectionClosed) as closed:
                big_sender.recv(timeout=10)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
            neighbour.send("still here")
            assert neighbour.recv(timeout=10) == "still here"
        still_serves(server)


@pytest.mark.parametrize("path", ["/ws", "/streaming", "/echo"])
def test_binary_messages_are_handled_on_every_route(server: wstutorial.TutorialServer, path: str) -> None:
    """A binary message never breaks a route: /echo returns it, /ws and /streaming record its size."""
    with connect(server.ws_url(path)) as websocket:
        websocket.send(b"\x00\xff\x10binary")
        if path == "/echo":
            assert websocket.recv(timeout=10) == b"\x00\xff\x10binary"
        else:
            server.events.wait_for("message received <9 bytes of binary data>", timeout=10)
        websocket.send("text after binary")  # the connection is still usable
        if path == "/echo":
            assert websocket.recv(timeout=10) == "text after binary"
        else:
            server.events.wait_for("message received text after binary", timeout=10)
    assert server.events.find("error", kind="error") is None


def test_invalid_utf8_in_a_text_frame_closes_with_1007(server: wstutorial.TutorialServer) -> None:
    """A text frame that is not UTF-8 (sent raw) closes that connection with 1007 and is recorded."""
    with RawClient(server.ws_url("/ws")) as raw:
        assert raw.receive().data == b"Hello World"
        raw.send_text_bytes(b"caf\xe9 is latin-1, not UTF-8")
        assert raw.wait_closed() == 1007
    server.events.wait_for("not valid UTF-8", kind="error")
    server.events.wait_for("connection closed")
    still_serves(server)


# -- faults -----------------------------------------------------------------------------


def test_client_killed_mid_stream_does_not_disturb_the_others() -> None:
    """A streaming client that vanishes with a TCP reset is dropped; the others keep receiving."""
    with wstutorial.start_server(port=0, interval=0.01) as server:
        with connect(server.ws_url("/streaming")) as first, connect(server.ws_url("/streaming")) as second:
            killed = RawClient(server.ws_url("/streaming"))
            killed.receive()
            mark = server.events.next_seq
            killed.reset()
            server.events.wait_for("connection closed", after=mark, timeout=10)
            assert len(server.clients("/streaming")) == 2
            for websocket in (first, second):
                numbers = [int(str(websocket.recv(timeout=10)).split(": ")[1]) for _ in range(20)]
                assert numbers == sorted(numbers)
        assert server.events.find("error", kind="error") is None
        assert server.thread.is_alive()


def test_stop_with_300_clients_sends_each_1001_and_frees_the_port() -> None:
    """Stopping with 300 connected clients closes every one with 1001, in seconds; the port is free."""
    server = wstutorial.start_server(port=0, interval=0.5)
    port = server.port

    async def scenario() -> list[int | None]:
        paths = ["/ws", "/echo", "/streaming"]
        clients = await asyncio.gather(
            *(websockets.connect(server.ws_url(paths[i % 3]), open_timeout=30) for i in range(300))
        )

        async def close_code(client: Any) -> int | None:
            try:
                while True:
                    await client.recv()
            except ConnectionClosed as closed:
                return closed.rcvd.code if closed.rcvd is not None else None

        codes = asyncio.gather(*(close_code(client) for client in clients))
        stopped = await asyncio.to_thread(server.stop)
        assert stopped == 300
        async with asyncio.timeout(30):  # generous upper bound, not a measurement
            return await codes

    codes = asyncio.run(scenario())
    assert codes == [1001] * 300
    assert not server.thread.is_alive()
    assert port_is_free(port)  # nothing listens there any more


def test_silent_client_is_detected_by_ping_and_removed() -> None:
    """A client that completes the handshake and then never answers pings is closed and recorded."""
    with wstutorial.start_server(port=0, ping_interval=0.2, ping_timeout=0.2) as server:
        with wstutorial.connect_blocking(server.ws_url("/ws")) as alive:  # answers pings
            assert alive.receive() == "Hello World"
            mark = server.events.next_seq
            silent = RawClient(server.ws_url("/ws"))  # reads nothing, so never answers
            try:
                event = server.events.wait_for("new connection", after=mark)
                name = event.client
                server.events.wait_for("connection closed", timeout=30, client=name)
                assert name not in server.clients("/ws")
                assert len(server.clients("/ws")) == 1  # the client that answers pings stays
                alive.send("still connected")
                server.events.wait_for("message received still connected")
            finally:
                silent.close()


def test_exceptions_in_handlers_are_events_and_the_server_lives() -> None:
    """Errors in open, on_message (also async) and on_close become events; the client gets 1011."""

    class Faulty(wstutorial.TutorialHandler):
        def open(self, *args: Any, **kwargs: Any) -> None:
            if self.get_argument("fail", "") == "open":
                raise KeyError("fails in open")

        async def on_message(self, message: str | bytes) -> None:
            await asyncio.sleep(0)
            raise ValueError(f"fails on {message!r}")

        def on_close(self) -> None:
            raise RuntimeError("fails in on_close")

    with wstutorial.start_server(port=0, handlers={"/faulty": Faulty}) as server:
        with RawClient(server.ws_url("/faulty?fail=open")) as raw:
            assert raw.wait_closed() == 1011
        server.events.wait_for("KeyError('fails in open')", kind="error")
        with RawClient(server.ws_url("/faulty")) as raw:
            raw.send_text_bytes(b"boom")
            assert raw.wait_closed() == 1011
        server.events.wait_for("ValueError(\"fails on 'boom'\")", kind="error")
        server.events.wait_for("RuntimeError('fails in on_close')", kind="error")
        poll_until(lambda: registered(server) == 0)  # failed clients are not kept (stop would wait for them)
        assert server.thread.is_alive()
        still_serves(server)


def test_slow_client_costs_bounded_memory_while_the_stream_runs_at_full_speed() -> None:
    """A client that reads nothing gets messages dropped, not queued: memory stays bounded; readers go on."""
    message = "x" * (128 * 1024)
    count = 800  # 100 MiB in all: queued for a non-reading client, this would show in memory
    with wstutorial.start_server(port=0, interval=0.001) as server:
        slow = RawClient(server.ws_url("/streaming"), receive_buffer=4096)
        received: list[int] = []
        reader_done = threading.Event()

        def read() -> None:
            with connect(server.ws_url("/streaming"), max_size=None) as reader:
                reader_ready.set()
                try:
                    while True:
                        text = reader.recv(timeout=30)
                        if text == "the end":
                            break
                        received.append(len(text))
                finally:
                    reader_done.set()

        reader_ready = threading.Event()
        thread = threading.Thread(target=read, daemon=True)
        thread.start()
        assert reader_ready.wait(10)
        for _ in range(8):  # fill the kernel's socket buffers towards the slow client first
            server.broadcast("/streaming", message)
        time.sleep(0.2)
        gc.collect()
        tracemalloc.start()
        try:
            rss_before = rss_bytes()
            traced_before = tracemalloc.get_traced_memory()[0]
            for _ in range(count):
                server.broadcast("/streaming", message)
            time.sleep(0.2)
            traced_growth = tracemalloc.get_traced_memory()[0] - traced_before
            rss_growth = rss_bytes() - rss_before
        finally:
            tracemalloc.stop()
        states = {name: (writes, size, dropped) for name, writes, size, dropped in handler_state(server, "/streaming")}
        slow_name = min(states, key=lambda name: int(name.split("-")[1]))  # the first client to connect
        writes, pending_bytes, dropped = states[slow_name]
        assert writes <= server.hub.max_pending_writes
        assert pending_bytes <= server.hub.max_pending_bytes + len(message) + 16  # one frame header
        assert dropped > count / 2, states
        server.events.wait_for("client is not reading", kind="slow")
        # 100 MiB were sent; a few MiB of slack for buffers and the reader's traffic.
        assert traced_growth < 16 * 2**20, f"traced memory grew by {traced_growth / 2**20:.1f} MiB"
        assert rss_growth < 48 * 2**20, f"RSS grew by {rss_growth / 2**20:.1f} MiB"
        # The reading client was never blocked by the slow one, and gets the end once it catches up.
        deadline = time.monotonic() + 30
        while handler_state(server, "/streaming") and time.monotonic() < deadline:
            states = {n: w for n, w, _, _ in handler_state(server, "/streaming")}
            if all(w < 4 for n, w in states.items() if n != slow_name):
                break
            time.sleep(0.05)
        server.broadcast("/streaming", "the end")
        assert reader_done.wait(30) and received, "the reading client stopped receiving"
        assert sum(1 for size in received if size == len(message)) > 0
        slow.close()


# -- the address checks the notebook panel uses --------------------------------------------
