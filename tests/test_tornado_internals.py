"""Tornado's undocumented internals: used only in wstutorial/tornado_internals.py, every private name listed, and still there.

If a Tornado release renames what the adapter relies on, these tests fail
instead of the server silently falling back to ``write_message`` or to
Tornado's own receive side; if the fence starts to rely on a private name
more, the guard fails until the name is listed here with where Tornado
defines it.
"""

from __future__ import annotations

import ast
import asyncio
import re
import socket
import threading
from pathlib import Path
from typing import Any

import tornado.httpclient
import tornado.ioloop
import tornado.tcpserver
import tornado.util
import tornado.websocket
from tornado.iostream import IOStream
from websockets.sync.client import connect

import wstutorial
from helpers import raw_clients, tracked_objects_made_by
from wstutorial import tornado_internals

PACKAGE = Path(wstutorial.__file__).parent
FENCE = PACKAGE / "tornado_internals.py"

# What only tornado_internals.py may touch.
INTERNALS = re.compile(
    r"ws_connection|\._abort\b|_handle_message|_receive_frame|_WebSocketParams|__class__\s*=|"
    r"\.protocol\s+is\s+None|WebSocketProtocol13|from tornado\.\w+ import _|\.stream\.(close|write)\("
)

# Every private (leading underscore) Tornado name the fence uses, and where
# Tornado defines it: a module, a class, or "instance" for attributes Tornado
# sets on each object (checked on real objects of a running server).
PRIVATE_NAMES: dict[str, Any] = {
    "_WebSocketParams": tornado.websocket,  # built in make_server_protocol
    "_websocket_mask": tornado.util,  # the C unmasking helper given to the Receiver
    "_receive_frame_loop": tornado.websocket.WebSocketProtocol13,  # replaced: our receive loop
    "_run_callback": tornado.websocket.WebSocketProtocol13,  # calls on_message, on_ping, on_pong as Tornado does
    "_abort": tornado.websocket.WebSocketProtocol13,  # closes the socket when the stream ends
    "_headers": "instance",  # RequestHandler's response headers, let go once sent
    "_sockets": "instance",  # TCPServer's listening sockets (add_guarded_sockets)
    "_handlers": "instance",  # ... and their accept handlers, which stop() removes
    "_handle_connection": tornado.tcpserver.TCPServer,  # wraps an accepted socket in an IOStream
    "_RequestProxy": tornado.httpclient,  # websocket_connect_noting_drops fills a request's defaults as websocket_connect does
    "_DEFAULTS": tornado.httpclient.HTTPRequest,  # ... with HTTPRequest's defaults
}


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def private_tornado_names(source: str) -> set[str]:
    """The private Tornado names ``source`` (the fence) uses, read from its syntax tree.

    Every name with a leading underscore imported from ``tornado``, read as an
    attribute, or defined as a method of a subclass of a Tornado class where
    the Tornado class has it (an override of a private hook), less the
    names the fence defines itself (its functions, classes, slots, and methods
    Tornado does not have).
    """
    tree = ast.parse(source)
    tornado_classes: dict[str, type] = {}
    used: set[str] = set()
    ours: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tornado"):
            module = __import__(node.module or "", fromlist=["_"])
            for alias in node.names:
                if _private(alias.name):
                    used.add(alias.name)
                if isinstance(getattr(module, alias.name, None), type):
                    tornado_classes[alias.asname or alias.name] = getattr(module, alias.name)
        elif isinstance(node, ast.Attribute) and _private(node.attr):
            used.add(node.attr)
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            ours.add(node.name)
        if not isinstance(node, ast.ClassDef):
            continue
        bases = [tornado_classes[b.id] for b in node.bases if isinstance(b, ast.Name) and b.id in tornado_classes]
        for item in node.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and _private(item.name):
                if any(hasattr(base, item.name) for base in bases):
                    used.add(item.name)  # overrides Tornado's
                else:
                    ours.add(item.name)
            elif isinstance(item, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__slots__" for t in item.targets):
                ours.update(ast.literal_eval(item.value))
    return used - ours


def test_only_tornado_internals_touches_tornado_internals() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "tornado_internals.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if INTERNALS.search(line)
    ]
    assert offenders == [], "move these into wstutorial/tornado_internals.py:\n" + "\n".join(offenders)


def test_every_private_tornado_name_the_fence_uses_is_listed() -> None:
    """The names read from the fence's source are exactly PRIVATE_NAMES: a new one fails here until listed."""
    found = private_tornado_names(FENCE.read_text())
    assert found == set(PRIVATE_NAMES), (
        f"tornado_internals.py now uses {sorted(found - set(PRIVATE_NAMES))} and no longer {sorted(set(PRIVATE_NAMES) - found)}: "
        "list each in PRIVATE_NAMES with where Tornado defines it, and say in the fence what it relies on"
    )


def test_the_guard_sees_a_new_private_use() -> None:
    """The guard itself can fail: an added private read, import or override shows in what it finds."""
    source = FENCE.read_text()
    added = source + (
        "\nfrom tornado.web import _has_stream_request_body\n"
        "\n\ndef peek(stream: IOStream) -> int:\n    return len(stream._read_buffer)\n"
        "\n\nclass Louder(WebSocketProtocol13):\n    def _send_pong(self, data: bytes) -> None: ...\n    def _ours(self) -> None: ...\n"
    )
    assert private_tornado_names(added) - private_tornado_names(source) == {"_has_stream_request_body", "_read_buffer", "_send_pong"}


def test_every_listed_private_name_is_still_in_tornado() -> None:
    """Each listed name exists in the installed Tornado: on its module or class, or on each object Tornado makes."""
    import inspect

    import tornado.web

    missing = [name for name, owner in PRIVATE_NAMES.items() if owner != "instance" and not hasattr(owner, name)]
    listening = tornado.tcpserver.TCPServer()  # a real one, untouched by the fence
    missing += [name for name in ("_sockets", "_handlers") if not hasattr(listening, name)]
    # The fence sets a handler's _headers itself, so a handler of ours would always have one: read Tornado's code.
    if "self._headers = httputil.HTTPHeaders(" not in inspect.getsource(tornado.web.RequestHandler.clear):
        missing.append("_headers")
    assert missing == [], f"Tornado {tornado.version} no longer has {missing}: see what wstutorial/tornado_internals.py says it relies on"


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


def test_client_has_ended_follows_the_connection() -> None:
    async def run(url: str) -> tuple[bool, bool]:
        client = await wstutorial.connect(url)
        before = client.closed
        await client.close()
        return before, client.closed

    with wstutorial.start_server(port=0) as server:
        assert asyncio.run(run(server.ws_url("/echo"))) == (False, True)


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

    from wstutorial.server.handlers import EchoHandler

    # A class of its own: CPython lays out a class's shared keys after its FIRST
    # instance, and one refused before its upgrade (a plain GET, a bad query in
    # another test of this process) leaves every later instance unshared.
    class FreshEcho(EchoHandler):
        pass

    with wstutorial.start_server(port=0, handlers={"/echo": FreshEcho}) as server, connect(server.ws_url("/echo"), open_timeout=10):
        handler = in_server(server, lambda: server.hub.open_handlers("/echo")[0])
        sizes = in_server(server, lambda: (sys.getsizeof(handler.__dict__), sys.getsizeof(handler.ws_connection.__dict__)))
    assert sizes[0] < 1000 and sizes[1] < 1000, f"instance dicts of {sizes} bytes: an attribute too many (see handlers.py, tornado_internals.py)"


def test_pings_need_no_task_per_connection() -> None:
    """Pings come from one timer per loop (PingRound), not a Task per connection (``test_reliability`` shows a silent client is still closed).

    Tornado makes its ping Task when a connection opens, whatever the
    interval: a long one (nothing times out on a loaded machine) shows it as
    well as a short one.
    """
    import contextlib

    from websockets.sync.client import connect as sync_connect

    from wstutorial.server.pings import PingRound

    def tasks_and_rounds() -> tuple[int, list[int]]:
        loop = tornado.ioloop.IOLoop.current()
        return len(asyncio.all_tasks()), [len(r.members) for r in PingRound._rounds.values() if r.loop is loop]

    clients = 20
    with wstutorial.start_server(port=0, ping_interval=60) as server, contextlib.ExitStack() as stack:
        before, _ = in_server(server, tasks_and_rounds)
        connections = [stack.enter_context(sync_connect(server.ws_url("/echo"), open_timeout=10)) for _ in range(clients)]
        after, rounds = in_server(server, tasks_and_rounds)
        assert rounds == [clients], "every connection is pinged from its loop's one round"
        # Each connection's Task is Tornado's reading loop (the handler's get());
        # one more may be the round's timer, a Task while its tick waits to run.
        assert after - before <= clients + 1, "more than one Task per connection (Tornado's reading loop)"
        for client in connections:
            client.send("still here")
            assert client.recv(timeout=10) == "still here"


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


def test_a_closed_connection_is_freed_without_the_collector() -> None:
    """No reference cycle keeps a closed connection's objects alive until the next collection (counted, not timed)."""
    import gc

    from helpers import RawClient, poll_until

    class Stalls(wstutorial.TutorialHandler):
        entered, release = threading.Event(), threading.Event()

        def on_message(self, message: str | bytes) -> None:
            self.entered.set()
            self.release.wait(10)
            self.release.clear()

    with wstutorial.start_server(port=0, handlers={"/stall": Stalls}) as server:
        with connect(server.ws_url("/echo"), open_timeout=10):
            pass  # one connection first, so that what every server keeps once exists
        server.events.wait_for("connection closed")
        gc.collect()
        gc.disable()
        try:
            for n in range(21):
                if n % 3 == 0:  # a close handshake
                    with connect(server.ws_url("/echo"), open_timeout=10) as client:
                        client.send("hello")
                        assert client.recv(timeout=10) == "hello"
                elif n % 3 == 1:  # the TCP connection just ends
                    with RawClient(server.ws_url("/echo")) as raw:
                        raw.send_text_bytes(b"hello")
                else:  # a killed client, reset while on_message runs: the read after it meets the
                    # reset, which Tornado keeps on stream.error with the reading frames' traceback
                    raw = RawClient(server.ws_url("/stall"))
                    raw.send_text_bytes(b"hello")
                    assert Stalls.entered.wait(10)
                    Stalls.entered.clear()
                    raw.reset()
                    Stalls.release.set()
            poll_until(lambda: in_server(server, lambda: len(server.hub.open_handlers("/echo") + server.hub.open_handlers("/stall"))) == 0)

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
