"""Tornado's undocumented internals: used only in wstutorial/tornado_internals.py, and still there.

If a Tornado release renames what the fast path or the stricter protocol
rely on, these tests fail instead of the server silently falling back to
``write_message`` or to Tornado's laxer receive side.
"""

from __future__ import annotations

import asyncio
import re
import socket
from pathlib import Path
from typing import Any

import tornado.ioloop
from tornado.iostream import IOStream
from websockets.sync.client import connect

import wstutorial
from wstutorial import tornado_internals
from wstutorial.server.handlers import EchoHandler

PACKAGE = Path(wstutorial.__file__).parent

# What only tornado_internals.py may touch.
INTERNALS = re.compile(
    r"ws_connection|\._abort\b|_handle_message|_receive_frame|_WebSocketParams|__class__\s*=|"
    r"\.protocol\s+is\s+None|WebSocketProtocol13|from tornado\.\w+ import _|\.stream\.(close|write)\("
)


def test_only_tornado_internals_touches_tornado_internals() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "tornado_internals.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if INTERNALS.search(line)
    ]
    assert offenders == [], "move these into wstutorial/tornado_internals.py:\n" + "\n".join(offenders)


def in_server(server: wstutorial.TutorialServer, function: Any) -> Any:
    return server.call(function)


def test_broadcast_writes_ready_made_frames_to_the_stream() -> None:
    """The fast path is taken: frames go straight to the IOStream, never through write_message."""
    with wstutorial.start_server(port=0) as server, connect(server.ws_url("/echo"), open_timeout=10) as client:
        handlers = in_server(server, lambda: server.hub.open_handlers("/echo"))
        assert len(handlers) == 1
        assert isinstance(in_server(server, lambda: tornado_internals.raw_stream(handlers[0])), IOStream)
        for n in range(3):
            assert server.broadcast("/echo", f"fast {n}") == 1
        client.send("echoed")
        assert [client.recv(timeout=10) for _ in range(4)] == ["fast 0", "fast 1", "fast 2", "echoed"]
        assert in_server(server, lambda: server.hub.slow_path_writes) == 0
        assert not server.events.find("not the fast path")


class CompressedEcho(EchoHandler):
    def get_compression_options(self) -> dict[str, Any]:
        return {}


def test_a_handler_with_compression_falls_back_loudly() -> None:
    """The one case without ready-made frames is counted and recorded, so a silent fallback would show."""
    with wstutorial.start_server(port=0, handlers={"/zip": CompressedEcho}) as server:
        with connect(server.ws_url("/zip"), open_timeout=10) as client:
            assert server.broadcast("/zip", "deflated") == 1
            assert client.recv(timeout=10) == "deflated"
            assert in_server(server, lambda: server.hub.slow_path_writes) == 1
        assert server.events.find("not the fast path: the handler offers compression")


def test_client_has_ended_follows_the_connection() -> None:
    async def run(url: str) -> tuple[bool, bool]:
        client = await wstutorial.connect(url)
        before = client.closed
        await client.close()
        return before, client.closed

    with wstutorial.start_server(port=0) as server:
        assert asyncio.run(run(server.ws_url("/echo"))) == (False, True)


def raw_clients(server: wstutorial.TutorialServer, count: int) -> list[socket.socket]:
    """``count`` WebSocket clients on ``/echo`` as bare sockets: they parse nothing (so allocate nothing) in this process."""
    sockets = [socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(count)]
    for sock in sockets:
        sock.sendall(
            f"GET /echo HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
    for sock in sockets:
        assert sock.recv(4096).startswith(b"HTTP/1.1 101")
    return sockets


def tracked_objects_made_by(function: Any) -> Any:
    """Run ``function``; return its result and how many objects the collector tracks that it left."""
    import gc

    gc.disable()  # so that no collection resets the count during the call
    try:
        before = gc.get_count()[0]
        result = function()
        return result, gc.get_count()[0] - before
    finally:
        gc.enable()


def test_broadcast_to_clients_that_keep_up_leaves_nothing_for_the_collector() -> None:
    """Frames that the sockets take at once need no Future per client (Futures made the collector pause).

    Counted, not timed: the objects the garbage collector tracks that one
    broadcast to 200 clients leaves behind. Tornado's ``IOStream.write`` would
    leave a Future and a scheduled callback for each client (400 or more).
    """
    clients = 200
    with wstutorial.start_server(port=0) as server:
        sockets = raw_clients(server, clients)
        try:
            sent, tracked = in_server(server, lambda: tracked_objects_made_by(lambda: server.hub.broadcast("/echo", "to everyone")))
            assert sent == clients
            assert tracked < clients // 4, f"one broadcast left {tracked} objects for the collector ({clients} clients)"
            for sock in sockets:
                assert sock.recv(4096).endswith(b"to everyone")
        finally:
            for sock in sockets:
                sock.close()


def test_a_connection_keeps_small_instance_dicts() -> None:
    """The handler and the protocol add no keys to their instance dicts beyond CPython's sharing limit.

    Counted, not timed: past 29 attributes an instance dict stops sharing its
    keys and costs about 1.3 kB more per connection (bench/broadcast.py
    measures memory per connection).
    """
    import sys

    with wstutorial.start_server(port=0) as server, connect(server.ws_url("/echo"), open_timeout=10):
        handler = in_server(server, lambda: server.hub.open_handlers("/echo")[0])
        sizes = in_server(server, lambda: (sys.getsizeof(handler.__dict__), sys.getsizeof(handler.ws_connection.__dict__)))
    assert sizes[0] < 1000 and sizes[1] < 1000, f"instance dicts of {sizes} bytes: an attribute too many (see handlers.py, tornado_internals.py)"


def test_pings_need_no_task_per_connection() -> None:
    """Pings come from one timer per loop (PingRound), not a Task per connection (``test_reliability`` shows a silent client is still closed)."""
    import contextlib

    from websockets.sync.client import connect as sync_connect

    def tasks() -> int:
        return len(asyncio.all_tasks())

    with wstutorial.start_server(port=0, ping_interval=0.2, ping_timeout=0.2) as server, contextlib.ExitStack() as stack:
        before = in_server(server, tasks)
        clients = [stack.enter_context(sync_connect(server.ws_url("/echo"), open_timeout=10)) for _ in range(20)]
        assert in_server(server, tasks) - before <= 20, "more than one Task per connection (Tornado's reading loop)"
        for client in clients:
            client.send("still here")
            assert client.recv(timeout=10) == "still here"


def test_a_ping_round_leaves_nothing_for_the_collector() -> None:
    """Pinging 200 clients writes ready-made frames: no Future per connection (counted, not timed)."""
    clients = 200
    with wstutorial.start_server(port=0, ping_interval=60) as server:
        sockets = raw_clients(server, clients)
        try:

            def ping_everyone_now() -> int:
                (round_,) = [r for r in tornado_internals.PingRound._rounds.values() if r.loop is tornado.ioloop.IOLoop.current()]
                for protocol in round_.members:
                    protocol._pinged_at -= 120  # as if the last ping were two minutes old
                round_._tick()
                return len(round_.members)

            members, tracked = in_server(server, lambda: tracked_objects_made_by(ping_everyone_now))
            assert members == clients
            assert tracked < clients // 4, f"one ping round left {tracked} objects for the collector ({clients} clients)"
            for sock in sockets:
                assert sock.recv(4096) == b"\x89\x00"  # an empty ping
        finally:
            for sock in sockets:
                sock.close()


# A masked ping from a client with no payload (RFC 6455 section 5.5.2): FIN + 0x9, mask bit, a zero mask.
CLIENT_PING = b"\x89\x80\x00\x00\x00\x00"


def ping_and_read_pongs(sockets: list[socket.socket]) -> None:
    for sock in sockets:
        sock.sendall(CLIENT_PING)
    for sock in sockets:
        assert sock.recv(4096) == b"\x8a\x00", "the server did not answer a ping with an empty pong"


def test_a_frame_from_an_idle_client_leaves_few_objects_waiting() -> None:
    """Each frame received renews what waits for the next one: few objects, so thousands of connections cause no full collection.

    Counted, not timed. What waits for an idle connection's next frame (a
    pong every ping interval) lives long enough to reach the collector's
    oldest generation; at 10,000 connections, 11 objects per frame (Tornado's
    coroutine per frame, a read per header field, the socket's reader
    registered again) made full collections of most of a second. The
    receive loop of ``ServerProtocol`` leaves 1: the stream's Future, with a
    callback (no coroutine waits on it).
    """
    import gc

    clients = 200
    with wstutorial.start_server(port=0, ping_interval=None) as server:
        sockets = raw_clients(server, clients)
        try:
            ping_and_read_pongs(sockets)  # every connection in its steady state
            gc.collect()
            gc.disable()  # what each frame leaves stays in the youngest generation, to be counted
            try:
                ping_and_read_pongs(sockets)
                waiting = in_server(server, lambda: len(gc.get_objects(generation=0)))
            finally:
                gc.enable()
            assert waiting < clients * 2, f"{waiting} objects wait after one frame from each of {clients} clients (fewer than 2 each)"
        finally:
            for sock in sockets:
                sock.close()


def test_a_coroutine_on_message_is_done_before_the_next_message_is_read() -> None:
    """As Tornado's own loop does: messages that arrive together reach an async ``on_message`` one at a time, in order."""
    from helpers import RawClient

    class Slow(wstutorial.TutorialHandler):
        async def on_message(self, message: str | bytes) -> None:
            self.record(f"start {message}")
            await asyncio.sleep(0.01)
            self.record(f"end {message}")

    with wstutorial.start_server(port=0, handlers={"/slow": Slow}) as server:
        with RawClient(server.ws_url("/slow")) as raw:
            raw.sock.sendall(b"".join(b"\x81\x81\x00\x00\x00\x00" + str(n).encode() for n in range(5)))  # five one-digit texts, one write
            server.events.wait_for("end 4")
        order = [e.text for e in server.events.snapshot() if e.text.startswith(("start ", "end "))]
    assert order == [f"{step} {n}" for n in range(5) for step in ("start", "end")]


def test_each_connection_is_pinged_on_its_own_schedule() -> None:
    """Only connections whose last ping is ``ping_interval`` old are pinged, oldest first; the timer ticks ten times per interval.

    So clients that connected at different times are not all pinged (and do
    not all answer) in one moment, which would hold up a broadcast.
    """
    clients = 3
    with wstutorial.start_server(port=0, ping_interval=60) as server:
        sockets = raw_clients(server, clients)
        try:

            def stagger_and_tick() -> tuple[float, list[int]]:
                (round_,) = [r for r in tornado_internals.PingRound._rounds.values() if r.loop is tornado.ioloop.IOLoop.current()]
                now = round_.loop.time()
                members = list(round_.order)
                for protocol, age in zip(members, (61, 59, 30), strict=True):
                    protocol._pinged_at = now - age  # only the first is due
                round_._tick()
                return round_.timer.callback_time, [members.index(p) for p in round_.order]

            tick_ms, order = in_server(server, stagger_and_tick)
            assert tick_ms == 6000, "the timer should tick every tenth of the ping interval"
            assert order == [1, 2, 0], "the pinged connection goes to the back of the round"
            import select

            # The tick wrote straight to the sockets (loopback): what was sent is there now.
            select.select(sockets, [], [], 10)
            readable, _, _ = select.select(sockets, [], [], 0)
            assert len(readable) == 1, f"{len(readable)} connections got a ping; only the one that was due should"
            assert readable[0].recv(4096) == b"\x89\x00"
        finally:
            for sock in sockets:
                sock.close()


def test_a_closed_connection_is_freed_without_the_collector() -> None:
    """No reference cycle keeps a closed connection's objects alive until the next collection (counted, not timed)."""
    import gc

    from helpers import RawClient, poll_until

    with wstutorial.start_server(port=0) as server:
        with connect(server.ws_url("/echo"), open_timeout=10):
            pass  # one connection first, so that what every server keeps once exists
        server.events.wait_for("connection closed")
        gc.collect()
        gc.disable()
        try:
            for n in range(20):
                if n % 2:  # a close handshake
                    with connect(server.ws_url("/echo"), open_timeout=10) as client:
                        client.send("hello")
                        assert client.recv(timeout=10) == "hello"
                else:  # the TCP connection just ends
                    with RawClient(server.ws_url("/echo")) as raw:
                        raw.send_text_bytes(b"hello")
            poll_until(lambda: in_server(server, lambda: len(server.hub.open_handlers("/echo"))) == 0)

            def alive() -> int:
                return in_server(server, lambda: sum(1 for o in gc.get_objects() if type(o) is tornado_internals.ServerProtocol))

            # The last callbacks of a closing connection may still be queued on the
            # server's loop: wait (bounded) for them; a reference cycle never ends.
            try:
                poll_until(lambda: alive() == 0, timeout=5)
            except AssertionError:
                pass
            left = alive()
        finally:
            gc.enable()
    assert left == 0, f"{left} closed connections wait for the garbage collector (a reference cycle)"


def test_an_open_connection_keeps_no_response_headers() -> None:
    """The 101 response carries its headers; afterwards the handler lets them go (about 0.8 kB per connection)."""
    with wstutorial.start_server(port=0) as server, connect(server.ws_url("/echo"), open_timeout=10) as client:
        assert client.response is not None and client.response.headers.get("X-Wstutorial-Server")
        handler = in_server(server, lambda: server.hub.open_handlers("/echo")[0])
        kept = in_server(server, lambda: list(handler._headers.get_all()))
    assert kept == [], f"the handler still holds the response headers {kept}"
