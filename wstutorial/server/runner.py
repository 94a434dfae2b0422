"""Run the tutorial's application in a background thread, as a notebook needs.

``start_server`` returns once the server listens; notebook cells stay usable
because the server has its own thread and event loop. Re-running the cell
replaces the server on that port instead of failing with "Address already in
use". Other threads reach the server only through ``call_soon_threadsafe``
(``LoopThread.run``), the one thread-safe entry into an event loop.
"""

from __future__ import annotations

import atexit
import errno
import socket
import threading
from typing import Any, Iterable, Mapping

from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop
from tornado.netutil import bind_sockets
from tornado.websocket import WebSocketHandler

from ..address import (
    InvalidAddress,
    default_port,
    is_loopback,
    lan_addresses,
    parse_host,
    parse_port,
)
from ..events import EventLog
from ..loopthread import LoopThread
from ..protocol import DEFAULT_MAX_MESSAGE_SIZE, CloseCode
from .app import DEFAULT_PING_INTERVAL, make_app
from .hub import Hub
from .streaming import Stream

__all__ = ["TutorialServer", "start_server", "running_servers", "stop_all", "PortInUse", "ServerError"]


class ServerError(RuntimeError):
    """The server could not start; the message says why and what to do."""


class PortInUse(ServerError):
    """Another program already listens on the port."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        # JupyterLab's own default port is 8888 too, the tutorial's classic port.
        jupyter = " (JupyterLab itself listens on 8888 unless started with --port)" if port == 8888 else ""
        super().__init__(
            f"port {port} on {host} is already in use by another program{jupyter}; "
            f"stop that program, choose another port, or pass port=0 to pick a free one"
        )


_registry: dict[int, "TutorialServer"] = {}
_registry_lock = threading.Lock()


class TutorialServer:
    """A running tutorial server. Create it with :func:`start_server`."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        interval: float,
        allowed_origins: Iterable[str],
        max_message_size: int,
        ping_interval: float | None,
        handlers: Mapping[str, type[WebSocketHandler]] | None,
        events: EventLog | None,
        **settings: Any,
    ) -> None:
        self.host = parse_host(host)
        self.requested_port = parse_port(port)
        self.port = self.requested_port
        self.events = events if events is not None else EventLog()
        self._app = make_app(
            events=self.events,
            interval=interval,
            allowed_origins=allowed_origins,
            max_message_size=max_message_size,
            ping_interval=ping_interval,
            handlers=handlers,
            **settings,
        )
        self.hub: Hub = self._app.settings["wstutorial_hub"]
        self.stream: Stream = self._app.settings["wstutorial_stream"]
        self._loop_thread = LoopThread(f"wstutorial-server-{self.requested_port}")
        self._http_server: HTTPServer | None = None
        self._stopped = threading.Event()
        # Tornado's IOLoop of the server's thread: io_loop.add_callback(f) is the
        # one call other threads may make into it (set once the server listens).
        self.io_loop: IOLoop | None = None

    # -- addresses ------------------------------------------------------------------

    @property
    def _url_host(self) -> str:
        host = self.host
        if host in ("0.0.0.0", "", "::"):
            host = "127.0.0.1"  # reachable from this machine; students use lan_urls()
        return f"[{host}]" if ":" in host else host

    @property
    def url(self) -> str:
        """The address of the index page, e.g. ``http://127.0.0.1:8888/``."""
        return f"http://{self._url_host}:{self.port}/"

    def page_url(self, page: str = "hello.html") -> str:
        return f"{self.url}{page.lstrip('/')}"

    def ws_url(self, path: str = "/ws") -> str:
        """The WebSocket address of ``path``, e.g. ``ws://127.0.0.1:8888/ws``."""
        if not path.startswith("/"):
            raise InvalidAddress(f"path must start with '/', got {path!r}")
        return f"ws://{self._url_host}:{self.port}{path}"

    @property
    def exposed(self) -> bool:
        """True when other machines can reach the server (not bound to loopback)."""
        return not is_loopback(self.host)

    def lan_urls(self, path: str = "/") -> list[str]:
        """Addresses other machines would use (for a class), when the server listens on all interfaces."""
        if self.host in ("0.0.0.0", "", "::"):
            hosts = lan_addresses()
        elif self.exposed:
            hosts = [self.host]
        else:
            hosts = []
        return [f"http://{host}:{self.port}{path}" for host in hosts]

    # -- life cycle -----------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._loop_thread.is_alive() and not self._stopped.is_set()

    @property
    def thread(self) -> threading.Thread:
        return self._loop_thread.thread

    def _start(self, timeout: float) -> None:
        self._loop_thread.start(timeout)
        try:
            self.port = self._loop_thread.run(self._listen(), timeout)
        except BaseException:
            self._loop_thread.stop(timeout)
            self._stopped.set()
            raise
        self.events.record("server", f"server listening on {self.url}")

    async def _listen(self) -> int:
        try:
            sockets = bind_sockets(self.requested_port, self.host)
        except socket.gaierror as error:
            raise ServerError(
                f"cannot listen on host {self.host!r}: the name is not known ({error.strerror}); "
                "use 127.0.0.1, 0.0.0.0 or an address of this machine"
            ) from None
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise PortInUse(self.host, self.requested_port) from None
            if error.errno == errno.EADDRNOTAVAIL:
                raise ServerError(
                    f"cannot listen on {self.host!r}: it is not an address of this machine; "
                    "use 127.0.0.1 or 0.0.0.0"
                ) from None
            if error.errno == errno.EACCES:
                raise ServerError(
                    f"not allowed to listen on port {self.requested_port} (ports below 1024 need "
                    "administrator rights); use a port such as 8888, or port=0"
                ) from None
            raise
        server = HTTPServer(self._app)
        server.add_sockets(sockets)
        self._http_server = server
        self.io_loop = IOLoop.current()
        return int(sockets[0].getsockname()[1])

    async def _shutdown(self, timeout: float) -> int:
        assert self._http_server is not None
        self._http_server.stop()  # stop accepting; frees the port
        closed = await self.hub.close_all(CloseCode.GOING_AWAY, "server shutting down", timeout)
        self.stream.stop()
        await self._http_server.close_all_connections()
        return closed

    def stop(self, timeout: float = 5.0) -> int:
        """Close every WebSocket with 1001 (going away), free the port, end the thread.

        Safe to call twice. Returns how many WebSocket clients were closed.
        """
        with _registry_lock:
            if _registry.get(self.port) is self:
                del _registry[self.port]
        if self._stopped.is_set():
            return 0
        self._stopped.set()
        closed = 0
        if self._loop_thread.is_alive() and self._http_server is not None:
            try:
                closed = self._loop_thread.run(self._shutdown(min(3.0, timeout)), timeout)
            finally:
                self._loop_thread.stop(timeout)
        self.events.record("server", f"server stopped ({closed} clients closed with 1001)")
        return closed

    def __enter__(self) -> "TutorialServer":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- talking to clients from any thread ----------------------------------------

    def broadcast(self, path: str, message: str | bytes, timeout: float = 5.0) -> int:
        """Send ``message`` to every client on ``path``; returns how many it was sent to."""
        self._check_running()

        async def send() -> int:
            return self.hub.broadcast(path, message)

        return self._loop_thread.run(send(), timeout)

    def clients(self, path: str | None = None, timeout: float = 5.0) -> list[str]:
        """Names of the connected clients (on ``path``, or everywhere)."""
        if not self.running:
            return []

        async def names() -> list[str]:
            return self.hub.client_names(path)

        return self._loop_thread.run(names(), timeout)

    def _check_running(self) -> None:
        if not self.running:
            raise ServerError(f"the server on port {self.port} is stopped; start a new one with start_server()")

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<TutorialServer {self.url} {state}>"


def start_server(
    host: str = "127.0.0.1",
    port: int | None = None,
    *,
    interval: float = 2.0,
    allowed_origins: Iterable[str] = (),
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
    ping_interval: float | None = DEFAULT_PING_INTERVAL,
    ping_timeout: float | None = None,
    handlers: Mapping[str, type[WebSocketHandler]] | None = None,
    events: EventLog | None = None,
    timeout: float = 10.0,
    **settings: Any,
) -> TutorialServer:
    """Start the tutorial's server in a background thread; return once it listens.

    Args:
        host: address to listen on; ``127.0.0.1`` (only this machine) unless
            you mean to let others connect (``0.0.0.0``: every interface).
        port: port to listen on (default: $WSTUTORIAL_PORT, else 8888);
            ``0`` picks a free one (see ``.port``).
            A server this process already runs on that port is stopped first,
            so re-running a notebook cell works.
        interval: seconds between two ``message: <n>`` of ``/streaming``.
        allowed_origins: web pages from other origins allowed to connect,
            e.g. ``["http://localhost:8889"]`` (never ``*``).
        max_message_size: larger messages close the connection with 1009.
        ping_interval: seconds between pings that detect dead clients; None to disable.
        ping_timeout: seconds to wait for the answer to a ping before closing
            (default and upper bound: ``ping_interval``).
        handlers: extra or replaced WebSocket routes, ``{"/ws": MyHandler}``.
        events: an event log to record into (a new one by default).
        **settings: further ``tornado.web.Application`` settings.

    Raises:
        PortInUse: another program holds the port.
        ServerError: the host cannot be used.
        InvalidAddress: host or port is not valid.
    """
    port = default_port() if port is None else parse_port(port)
    if port:
        with _registry_lock:
            previous = _registry.pop(port, None)
        if previous is not None:
            previous.stop()
    server = TutorialServer(
        host,
        port,
        interval=interval,
        allowed_origins=allowed_origins,
        max_message_size=max_message_size,
        ping_interval=ping_interval,
        handlers=handlers,
        events=events,
        ping_timeout=ping_timeout,
        **settings,
    )
    server._start(timeout)
    with _registry_lock:
        _registry[server.port] = server
    return server


def running_servers() -> list[TutorialServer]:
    """The servers this process runs, oldest first."""
    with _registry_lock:
        return list(_registry.values())


def stop_all() -> None:
    """Stop every server this process runs (also done at exit)."""
    for server in running_servers():
        server.stop()


atexit.register(stop_all)
