"""One process of a cluster: a plain Tornado server plus a Redis relay.

    python -m wstutorial.server.worker --redis redis://127.0.0.1:6379/0 --port 0

It is what runs in each process started by ``cluster.start_cluster``: the
tutorial's application (``/ws``, ``/streaming``, ``/echo``, ``/updates``),
listening on its own port, with a :class:`~.relay.Relay` that sends every
broadcast published on Redis to this process's clients.

It talks to the process that started it through its standard streams, which
works the same on Linux, macOS and Windows (no ``fork``): one JSON line per
event on stdout (``{"listening": PORT}`` once it listens, ``{"stopped": N}``
at the end), and it stops (closing its clients with 1001) when its standard
input is closed, or on Ctrl-C / SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import threading
from typing import Any, Awaitable, Coroutine, Mapping, Protocol, Sequence

from tornado.netutil import bind_sockets

from ..address import is_loopback
from ..events import Event, EventKind, EventLog
from .app import make_app
from .limits import TutorialHTTPServer
from .options import WORKER_SETTINGS, HandlerSpec, ServerOptions, with_overrides
from .redislink import RedisLink
from .relay import DEFAULT_CHANNEL, Relay, UpdatesHandler

__all__ = ["main", "serve", "emit", "Service", "worker_parser", "run_worker", "stop_signals"]


class Service(Protocol):
    """Something more a worker runs beside its server (e.g. the classroom's ``WorkerLink``)."""

    def start(self, app: Any) -> Awaitable[None]: ...

    def stop(self) -> Awaitable[None]: ...


def emit(line: dict[str, object]) -> None:
    # This is a process of its own: its stdout is a pipe that only the parent reads.
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


def _emit_event(event: Event) -> None:
    emit({"event": {"kind": event.kind, "client": event.client, "path": event.path, "text": event.text}})


def _settings(text: str) -> dict[str, Any]:
    """``--options``: a JSON object of :data:`~.options.WORKER_SETTINGS` (``ServerOptions.worker_settings()``)."""
    try:
        settings = json.loads(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--options must be a JSON object, got {text[:80]!r}") from None
    if not isinstance(settings, dict):
        raise argparse.ArgumentTypeError(f"--options must be a JSON object, got {text[:80]!r}")
    if not set(settings) <= set(WORKER_SETTINGS):
        raise argparse.ArgumentTypeError(f"--options takes only {', '.join(WORKER_SETTINGS)}, got {text[:80]!r}")
    return settings


def worker_parser(prog: str, description: str) -> argparse.ArgumentParser:
    """The arguments of every worker program: where to listen, the Redis, its channel, and ``--options JSON``.

    ``--options``: the server's settings, as the process that starts the workers has them.
    """
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--redis", required=True, help="Redis URL, e.g. redis://127.0.0.1:6379/0")
    parser.add_argument("--channel", default=DEFAULT_CHANNEL)
    parser.add_argument(
        "--options", type=_settings, default={}, metavar="JSON",
        help="server settings as JSON, e.g. {\"interval\": 0.5, \"allowed_origins\": [\"http://localhost:8889\"]}",
    )
    return parser


def stop_signals() -> list[int]:
    """The signals that stop a server: Ctrl-C, SIGTERM, and Ctrl-Break where it exists (Windows)."""
    numbers: list[int] = [signal.SIGINT, signal.SIGTERM]
    if hasattr(signal, "SIGBREAK"):
        numbers.append(signal.SIGBREAK)
    return numbers


def run_worker(serving: Coroutine[Any, Any, None]) -> int:
    """Run a worker's ``serve(...)`` until its stdin closes, Ctrl-C or SIGTERM; a failure is one JSON line and exit 1."""
    try:
        asyncio.run(_until_a_stop_signal(serving))
    except KeyboardInterrupt:  # before the loop ran
        pass
    except (ConnectionError, OSError, ValueError, TypeError) as error:  # ValueError, TypeError: a bad setting
        emit({"error": str(error)})
        return 1
    return 0


async def _until_a_stop_signal(serving: Coroutine[Any, Any, None]) -> None:
    """Await ``serving``; a stop signal cancels it, so that its ``finally`` closes the clients with 1001.

    Not a KeyboardInterrupt raised inside the loop: that cancels every task
    at once, Tornado's connections among them (1006). And taken over, not
    inherited: a process started with '&' by a script starts with Ctrl-C
    ignored. ``signal.signal`` (not ``add_signal_handler``) works on Windows too.
    """
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()

    def stop(signum: int, frame: object) -> None:
        loop.call_soon_threadsafe(task.cancel)

    for number in stop_signals():
        signal.signal(number, stop)
    try:
        await serving
    except asyncio.CancelledError:
        pass  # stopped by a signal: serve's finally has closed the clients


def _finish(future: "asyncio.Future[None]") -> None:
    if not future.done():
        future.set_result(None)


async def _stdin_closed() -> None:
    """Wait until the parent closes our standard input (or dies)."""
    loop = asyncio.get_running_loop()
    closed = loop.create_future()

    def read_until_eof() -> None:
        # The file descriptor, not sys.stdin.buffer: a daemon thread blocked
        # inside the buffered reader holds its lock, and Python aborts at exit
        # when it cannot take that lock (after Ctrl-C with stdin still open).
        descriptor = sys.stdin.fileno()
        while os.read(descriptor, 65536):
            pass
        loop.call_soon_threadsafe(_finish, closed)

    # A daemon thread, not the loop's executor: asyncio.run would wait for a
    # blocked executor thread at exit (e.g. after Ctrl-C).
    threading.Thread(target=read_until_eof, name="stdin-watch", daemon=True).start()
    await closed


async def serve(
    host: str,
    port: int,
    redis_url: str,
    channel: str = DEFAULT_CHANNEL,
    *,
    events: EventLog | None = None,
    handlers: Mapping[str, HandlerSpec] | None = None,
    services: Sequence[Service] = (),
    link: RedisLink | None = None,
    **overrides: Any,
) -> None:
    """Listen, subscribe, announce the port, and run until stdin closes.

    ``handlers`` adds routes, ``overrides`` are settings of :class:`ServerOptions`
    (e.g. ``max_message_size``), ``services`` start after the relay and stop
    after the clients are closed. ``link``: the process's one Redis link,
    when the services use it too (a classroom worker); else the relay makes its own.
    """
    events = events if events is not None else EventLog()
    events.subscribe(_emit_event)
    routes = {"/updates": UpdatesHandler, **(handlers or {})}
    settings = with_overrides(ServerOptions(handlers=routes), overrides, "serve")
    app = make_app(settings, events=events, loopback=is_loopback(host))
    hub = app.context.hub
    sockets = bind_sockets(port, host)
    # The same HTTP server as start_server's: its connection limit, header timeout and xheaders.
    server = TutorialHTTPServer(
        app,
        events=events,
        max_connections=settings.max_connections,
        header_timeout=settings.header_timeout,
        xheaders=settings.xheaders,
    )
    server.add_sockets(sockets)
    relay = Relay(hub, redis_url, channel, link)
    if link is None:
        await relay.start()
    started: list[Service] = []
    try:
        if link is not None:  # the services subscribe to their channels first; the link starts with them all
            await link.subscribe([channel], relay.deliver)
        for service in services:
            await service.start(app)
            started.append(service)
        if link is not None:
            await relay.start()  # its channel is subscribed already: this only says so
    except BaseException:
        for service in started:
            await service.stop()
        await relay.stop()
        if link is not None:
            await link.stop()
        raise
    emit({"listening": int(sockets[0].getsockname()[1])})
    try:
        await _stdin_closed()
    finally:
        server.stop()
        await relay.stop()
        closed = await hub.close_all(1001, "server shutting down")
        for service in reversed(started):  # after the clients: a service may still tell others they left
            await service.stop()
        if link is not None:
            await link.stop()
        app.context.stream.stop()
        await server.close_all_connections()
        events.record(f"worker stopped ({closed} clients closed with 1001)", kind=EventKind.SERVER)
        emit({"stopped": closed})


def main(argv: Sequence[str] | None = None) -> int:
    args = worker_parser("python -m wstutorial.server.worker", __doc__.split("\n")[0]).parse_args(argv)
    return run_worker(serve(args.host, args.port, args.redis, args.channel, **args.options))


if __name__ == "__main__":
    sys.exit(main())
