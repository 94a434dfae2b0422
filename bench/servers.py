"""The servers under test, each run in its own process: ``python -m bench.servers KIND``.

Kinds:
  thread      the tutorial's ``start_server()`` in a process whose main thread
              runs a busy asyncio loop, as a Jupyter kernel's does
  standalone  the same application (``make_app``) on the main thread's loop
  tornado     plain Tornado, as its documentation says: an echo handler; a push
              loop that awaits each ``write_message`` (its Future "can be used
              for flow control"; Tornado wraps it in a Task per message, which
              is Tornado's cost, not the benchmark's); a broadcast that calls
              ``write_message`` on each client, as Tornado's chat demo does
  websockets  the ``websockets`` library, as its documentation says: echo with
              ``async for``/``send``; a push loop that awaits each ``send()``
              (it waits only while the write buffer is above its high-water
              mark); ``broadcast()`` for the broadcast (no Future per client)
  tcp         raw asyncio TCP (the loopback floor): echoes bytes, or pushes
              ready-made frames when the client's first bytes are ``PUSH``

Every kind serves ``/echo`` (echo; the broadcast target) and a push route
(``/streaming`` for the tutorial's, ``/push`` for the others). The process
prints ``PORT <n>`` once it listens, then reads commands on stdin:
``broadcast <text>`` sends <text> to every ``/echo`` client and answers
``ok <count>``; ``stats`` answers ``stats <json>``: the process's resident
memory and the garbage collector's pauses since the last ``stats``;
``settle`` runs a full collection and answers ``settled <n>``: how many
objects the collector tracks (what each full collection must scan). End of
stdin ends the process.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
import time
from typing import Callable

__all__ = ["KINDS", "PUSH_PATH", "main"]

KINDS = ("thread", "standalone", "tornado", "websockets", "tcp")
PUSH_PATH = {"thread": "/streaming", "standalone": "/streaming", "tornado": "/push", "websockets": "/push", "tcp": "/push"}


# The collector's pauses, (generation, seconds), recorded by a gc callback in
# whichever thread triggered the collection.
_gc_pauses: list[tuple[int, float]] = []
_gc_started = 0.0


def _on_gc(phase: str, info: dict[str, int]) -> None:
    global _gc_started
    if phase == "start":
        _gc_started = time.perf_counter()
    else:
        _gc_pauses.append((info["generation"], time.perf_counter() - _gc_started))


def _rss_bytes() -> int:
    with open("/proc/self/status") as status:  # the benchmark runs on Linux
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def _stats() -> str:
    pauses = list(_gc_pauses)
    _gc_pauses.clear()
    full = [seconds for generation, seconds in pauses if generation == 2]
    return json.dumps(
        {
            "rss": _rss_bytes(),
            "gc_collections": len(pauses),
            "gc_full_collections": len(full),
            "gc_max_ms": max((seconds for _, seconds in pauses), default=0.0) * 1e3,
            "gc_total_ms": sum(seconds for _, seconds in pauses) * 1e3,
        }
    )


def _stream_text(n: int) -> str:
    return f"message: {n}"


def _watch_stdin(loop: asyncio.AbstractEventLoop, broadcast: Callable[[str], int], done: asyncio.Future[None]) -> None:
    """Run ``broadcast`` for each ``broadcast <text>`` line; end at end of stdin."""
    fd = sys.stdin.fileno()
    os.set_blocking(fd, False)
    pending = b""

    def readable() -> None:
        nonlocal pending
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return
        if not data:
            loop.remove_reader(fd)
            if not done.done():
                done.set_result(None)
            return
        pending += data
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            command, _, text = line.decode().partition(" ")
            if command == "broadcast":
                count = broadcast(text)
                print(f"ok {count}", flush=True)
            elif command == "stats":
                print(f"stats {_stats()}", flush=True)
            elif command == "settle":
                gc.collect()
                print(f"settled {len(gc.get_objects())}", flush=True)

    loop.add_reader(fd, readable)


async def _until_stdin_closes(broadcast: Callable[[str], int], port: int, background: Callable[[], None] | None = None) -> None:
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()
    _watch_stdin(loop, broadcast, done)
    print(f"PORT {port}", flush=True)
    if background is None:
        await done
        return
    while not done.done():  # the kernel-like main loop: wakes every tick, works a little
        await asyncio.sleep(KERNEL_TICK)
        background()


# The kernel-like main loop (kind "thread"): wakes every KERNEL_TICK seconds
# and works KERNEL_WORK seconds holding the GIL (2% of a core by default).
KERNEL_TICK = float(os.environ.get("BENCH_KERNEL_TICK", 0.01))
# Seconds between pings for the tutorial's servers and `websockets` (unset:
# each library's default, 10 s and 20 s); `bench idle` sets it.
PING_INTERVAL = float(os.environ["BENCH_PING_INTERVAL"]) if os.environ.get("BENCH_PING_INTERVAL") else None
KERNEL_WORK = float(os.environ.get("BENCH_KERNEL_WORK", 0.0002))
# permessage-deflate on for the peers too (--deflate): each as its documentation
# turns it on (Tornado: get_compression_options; websockets: compression="deflate").
# The tutorial's server has it on by default.
DEFLATE = os.environ.get("BENCH_DEFLATE") == "1"


def _kernel_work() -> None:
    """About KERNEL_WORK seconds of pure-Python work holding the GIL (a kernel handling a message)."""
    end = time.perf_counter() + KERNEL_WORK
    while time.perf_counter() < end:
        pass


async def run_thread(interval: float) -> None:
    import wstutorial

    pings = {} if PING_INTERVAL is None else {"ping_interval": PING_INTERVAL}
    server = wstutorial.start_server(port=0, interval=interval, **pings)
    try:
        await _until_stdin_closes(lambda text: server.broadcast("/echo", text), server.port, _kernel_work)
    finally:
        server.stop()


async def run_standalone(interval: float) -> None:
    from tornado.httpserver import HTTPServer
    from tornado.netutil import bind_sockets

    from wstutorial.server.app import make_app
    from wstutorial.server.options import ServerOptions

    pings = {} if PING_INTERVAL is None else {"ping_interval": PING_INTERVAL}
    app = make_app(ServerOptions(interval=interval, **pings))
    sockets = bind_sockets(0, "127.0.0.1")
    server = HTTPServer(app)
    server.add_sockets(sockets)
    hub = app.context.hub
    await _until_stdin_closes(lambda text: hub.broadcast("/echo", text), sockets[0].getsockname()[1])
    server.stop()
    await hub.close_all(1001, "benchmark done", 1.0)


async def run_tornado() -> None:
    import tornado.web
    from tornado.httpserver import HTTPServer
    from tornado.netutil import bind_sockets
    from tornado.websocket import WebSocketClosedError, WebSocketHandler

    clients: set[WebSocketHandler] = set()

    class Echo(WebSocketHandler):
        def get_compression_options(self) -> dict[str, object] | None:
            return {} if DEFLATE else None

        def open(self) -> None:
            clients.add(self)

        def on_message(self, message: str | bytes) -> None:
            self.write_message(message, binary=isinstance(message, bytes))

        def on_close(self) -> None:
            clients.discard(self)

    class Push(WebSocketHandler):
        def open(self) -> None:
            asyncio.get_running_loop().create_task(self.push())

        async def push(self) -> None:
            n = 0
            try:
                while True:  # the usual way: await each write (flow control)
                    await self.write_message(_stream_text(n))
                    n += 1
            except WebSocketClosedError:
                pass

    def broadcast(text: str) -> int:
        for client in list(clients):
            client.write_message(text)
        return len(clients)

    sockets = bind_sockets(0, "127.0.0.1")
    server = HTTPServer(tornado.web.Application([("/echo", Echo), ("/push", Push)]))
    server.add_sockets(sockets)
    await _until_stdin_closes(broadcast, sockets[0].getsockname()[1])
    server.stop()


async def run_websockets() -> None:
    from websockets.asyncio.server import ServerConnection, broadcast, serve
    from websockets.exceptions import ConnectionClosed

    clients: set[ServerConnection] = set()

    async def handler(connection: ServerConnection) -> None:
        try:
            if connection.request is not None and connection.request.path == "/push":
                n = 0
                while True:
                    await connection.send(_stream_text(n))
                    n += 1
            clients.add(connection)
            async for message in connection:
                await connection.send(message)
        except ConnectionClosed:
            pass
        finally:
            clients.discard(connection)

    def send_all(text: str) -> int:
        broadcast(clients, text)
        return len(clients)

    pings = {} if PING_INTERVAL is None else {"ping_interval": PING_INTERVAL, "ping_timeout": PING_INTERVAL}
    async with serve(handler, "127.0.0.1", 0, compression="deflate" if DEFLATE else None, **pings) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        await _until_stdin_closes(send_all, port)


def server_frame(payload: bytes) -> bytes:
    """An unmasked server text frame (the floor writes frames it built itself).

    Written out rather than taken from wstutorial.protocol.frame_header: the
    floor's process does not import the package (nor Tornado) it is compared with.
    """
    n = len(payload)
    if n < 126:
        return bytes((0x81, n)) + payload
    return bytes((0x81, 126)) + n.to_bytes(2, "big") + payload


async def run_tcp() -> None:
    loop = asyncio.get_running_loop()
    echoing: set[asyncio.Transport] = set()

    class Floor(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            assert isinstance(transport, asyncio.Transport)
            self.transport = transport
            self.mode = ""
            self.resume: asyncio.Future[None] | None = None

        def data_received(self, data: bytes) -> None:
            if self.mode == "echo":
                self.transport.write(data)
            elif not self.mode:
                if data.startswith(b"PUSH"):
                    self.mode = "push"
                    self.pusher = loop.create_task(self.push())  # a reference, or the task may be collected
                else:
                    self.mode = "echo"
                    echoing.add(self.transport)
                    self.transport.write(data)

        def pause_writing(self) -> None:
            self.resume = loop.create_future()

        def resume_writing(self) -> None:
            if self.resume is not None and not self.resume.done():
                self.resume.set_result(None)
            self.resume = None

        def connection_lost(self, exc: Exception | None) -> None:
            echoing.discard(self.transport)
            self.resume_writing()

        async def push(self) -> None:
            n = 0
            while not self.transport.is_closing():
                self.transport.write(b"".join(server_frame(_stream_text(n + i).encode()) for i in range(64)))
                n += 64
                if self.resume is not None:
                    await self.resume
                else:
                    await asyncio.sleep(0)

    def broadcast(text: str) -> int:
        frame = server_frame(text.encode())
        for transport in list(echoing):
            transport.write(frame)
        return len(echoing)

    server = await loop.create_server(Floor, "127.0.0.1", 0)
    await _until_stdin_closes(broadcast, server.sockets[0].getsockname()[1])
    server.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.servers")
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("--interval", type=float, default=1e-6, help="the tutorial stream's interval (default: full speed)")
    args = parser.parse_args(argv)
    gc.callbacks.append(_on_gc)
    runners = {
        "thread": lambda: run_thread(args.interval),
        "standalone": lambda: run_standalone(args.interval),
        "tornado": run_tornado,
        "websockets": run_websockets,
        "tcp": run_tcp,
    }
    asyncio.run(runners[args.kind]())


if __name__ == "__main__":
    main()
