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
from typing import Any, Callable, Coroutine, TypeVar

from tornado.ioloop import IOLoop
from tornado.netutil import bind_sockets

from ..address import (
    InvalidAddress,
    default_port,
    is_loopback,
    lan_addresses,
    listening_in_this_process,
    parse_host,
    parse_port,
)
from ..errors import Explained
from ..events import EventKind, EventLog
from ..identity import ServerIdentity, describe_holder, probe
from ..loopthread import LoopThread
from ..protocol import CloseCode
from ..wording import count
from .app import make_app
from .context import ServerContext
from .hub import Hub
from .limits import TutorialHTTPServer
from .options import ServerOptions, settings_doc, with_overrides
from .quietlog import quiet_thread, release_thread
from .streaming import Stream

T = TypeVar("T")

__all__ = ["ServerOptions", "TutorialServer", "start_server", "running_servers", "stop_all", "PortInUse", "ServerError"]


class ServerError(Explained, RuntimeError):
    """The server could not start; the message says why and what to do."""


class PortInUse(ServerError):
    """Another program already listens on the port; ``holder`` says which, when it could tell.

    ``holder`` is what :func:`wstutorial.identity.probe` found: the
    :class:`~wstutorial.identity.ServerIdentity` of another tutorial server,
    ``"jupyter"`` for a Jupyter server, or None for a program it does not know.
    """

    def __init__(self, host: str, port: int, holder: ServerIdentity | str | None = None) -> None:
        self.host = host
        self.port = port
        self.holder = holder
        if isinstance(holder, ServerIdentity) and holder.notebook and not holder.is_this_process:
            fix = (
                "shut that notebook's kernel down (in its tab: Kernel → Shut Down Kernel), "
                "or pass port=0 to pick a free port"
            )
        elif isinstance(holder, ServerIdentity):
            fix = "stop that server (server.stop(), or Ctrl-C in its terminal), or pass port=0 to pick a free port"
        elif holder == "jupyter":
            fix = "pass port=0 to pick a free port, or start JupyterLab on another port (jupyter lab --port 8890)"
        elif holder is None and listening_in_this_process(port):
            super().__init__(
                f"port {port} on {host} is already in use by this process itself (a server started earlier "
                "in this notebook or script, e.g. with app.listen()): stop that server (in a notebook: "
                "Kernel → Restart Kernel), or pass port=0 to pick a free port"
            )
            return
        else:
            fix = "stop that program, choose another port, or pass port=0 to pick a free one"
        super().__init__(f"port {port} on {host} is already in use by {describe_holder(holder)}: {fix}")


_registry: dict[int, "TutorialServer"] = {}
_registry_lock = threading.Lock()


class TutorialServer:
    """A running tutorial server. Create it with :func:`start_server`."""

    def __init__(
        self, host: str, port: int, options: ServerOptions, *, events: EventLog | None = None, quiet: bool = False
    ) -> None:
        self.host = parse_host(host)
        self.requested_port = parse_port(port)
        self.port = self.requested_port
        self.wanted_port = self.requested_port  # differs when start_server() moved to a free neighbour
        self.quiet = quiet
        self.options = options
        self.events = events if events is not None else EventLog()
        self._app = make_app(options, events=self.events, loopback=is_loopback(self.host))
        self.context: ServerContext = self._app.context
        self.hub: Hub = self.context.hub
        self.stream: Stream = self.context.stream
        self._loop_thread = LoopThread(f"wstutorial-server-{self.requested_port}")
        self._http_server: TutorialHTTPServer | None = None
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
        scheme = "https" if self.options.ssl_context is not None else "http"
        return f"{scheme}://{self._url_host}:{self.port}/"

    def page_url(self, page: str = "hello.html") -> str:
        """The address of a page, e.g. ``http://127.0.0.1:8888/hello.html`` (only while running)."""
        self._check_running()
        return f"{self.url}{page.lstrip('/')}"

    def ws_url(self, path: str = "/ws") -> str:
        """The WebSocket address of ``path``, e.g. ``ws://127.0.0.1:8888/ws`` (only while running).

        A stopped server has no address: its port may belong to another
        notebook's server by now, and a client must not silently reach that one.
        """
        self._check_running()
        if not path.startswith("/"):
            raise InvalidAddress(f"path must start with '/', got {path!r}")
        scheme = "wss" if self.options.ssl_context is not None else "ws"
        return f"{scheme}://{self._url_host}:{self.port}{path}"

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
        if self.quiet:
            quiet_thread(self._loop_thread.thread, self.events)
        try:
            self.port = self._loop_thread.run(self._listen(), timeout)
        except BaseException:
            self._loop_thread.stop(timeout)
            release_thread(self._loop_thread.thread)
            self._stopped.set()
            raise
        self.events.record(f"server listening on {self.url}", kind=EventKind.SERVER)

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
        options = self.options
        server = TutorialHTTPServer(
            self._app,
            events=self.events,
            max_connections=options.max_connections,
            header_timeout=options.header_timeout,
            ssl_options=options.ssl_context,
            xheaders=options.xheaders,
        )
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
        if self.quiet:
            release_thread(self._loop_thread.thread)
        self.events.record(f"server stopped ({count(closed, 'client')} closed with 1001)", kind=EventKind.SERVER)
        return closed

    def __enter__(self) -> "TutorialServer":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- working on the server's loop from any thread -------------------------------

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = 5.0) -> T:
        """Run ``coroutine`` on the server's loop and return its result (waits at most ``timeout`` s).

        The one way into the server's thread for code that touches the hub,
        the stream or a handler: they belong to that thread's loop.
        """
        if not self.running:
            coroutine.close()
            self._check_running()
        return self._loop_thread.run(coroutine, timeout)

    def call(self, function: Callable[..., T], *args: Any, timeout: float | None = 5.0) -> T:
        """Call ``function(*args)`` on the server's loop and return its result, e.g. ``server.call(server.hub.client_names)``."""

        async def invoke() -> T:
            return function(*args)

        return self.run(invoke(), timeout)

    def broadcast(self, path: str, message: str | bytes, timeout: float = 5.0) -> int:
        """Send ``message`` to every client on ``path``; returns how many it was sent to.

        Raises ``TypeError`` for anything but ``str`` (text) and ``bytes`` (binary).
        """
        if not isinstance(message, (str, bytes, bytearray, memoryview)):
            raise TypeError(f"a message is str (text) or bytes (binary), got {type(message).__name__}: {message!r:.60}")
        return self.call(self.hub.broadcast, path, message, timeout=timeout)

    def clients(self, path: str | None = None, timeout: float = 5.0) -> list[str]:
        """Names of the connected clients (on ``path``, or everywhere)."""
        if not self.running:
            return []
        return self.call(self.hub.client_names, path, timeout=timeout)

    def _check_running(self) -> None:
        if not self.running:
            raise ServerError(
                f"this server (port {self.port}) is stopped; run the cell with start_server() again "
                "(another notebook's server may use that port now)"
            )

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<TutorialServer {self.url} {state}>"


def start_server(
    host: str = "127.0.0.1",
    port: int | None = None,
    *,
    options: ServerOptions | None = None,
    events: EventLog | None = None,
    timeout: float = 10.0,
    quiet: bool = False,
    **overrides: Any,
) -> TutorialServer:
    """Start the tutorial's server in a background thread; return once it listens.

    Args:
        host: address to listen on; ``127.0.0.1`` (only this machine) unless
            you mean to let others connect (``0.0.0.0``: every interface).
        port: port to listen on (default: $WSTUTORIAL_PORT, else 8888);
            ``0`` picks a free one (see ``.port``).
            A server this process already runs on that port is stopped first,
            so re-running a notebook cell works. When no port is given and
            the default one is taken (say, by the server of the notebook
            before, whose kernel still runs), the next free port after it is
            used and the event log says why.
        options: the settings as one ``ServerOptions`` (default: the defaults);
            keywords change single settings of it.
        events: an event log to record into (a new one by default).
        timeout: seconds to wait for the server to listen.
        quiet: keep Tornado's error messages (handler tracebacks) from this
            server's thread in ``events`` instead of printing them to stderr,
            i.e. into the notebook cell that runs at the time.
        **overrides: settings (below), e.g. ``interval=0.5``; checked before
            anything stops or starts, so a bad one leaves a running server alone.

    Raises:
        PortInUse: another program holds the port that was asked for; the
            message names it when it is a tutorial server or Jupyter.
        ServerError: the host cannot be used.
        InvalidAddress: host or port is not valid.
        TypeError, ValueError: a setting is not one, or its value is wrong.
    """
    options = with_overrides(options, overrides, "start_server")
    explicit = port is not None
    port = default_port() if port is None else parse_port(port)
    if port:
        # The server this process started for this port before (a re-run
        # cell), also one that had to move to a neighbouring port.
        with _registry_lock:
            previous = [s for p, s in list(_registry.items()) if p == port or s.wanted_port == port]
            for old in previous:
                _registry.pop(old.port, None)
        for old in previous:
            old.stop()

    def launch(candidate: int) -> TutorialServer:
        server = TutorialServer(host, candidate, options, events=events, quiet=quiet)
        server.wanted_port = port
        server._start(timeout)
        return server

    try:
        server = launch(port)
    except PortInUse:
        holder = probe(host, port)
        if explicit or not port:
            raise PortInUse(host, port, holder) from None
        # The default port is taken (typically by the previous notebook's
        # server, whose kernel still runs): this notebook's server takes the
        # next free port, and its event log says why.
        server = _launch_nearby(launch, host, port, holder)
        server.events.record(
            f"port {port} is used by {describe_holder(holder)}, so this server listens on {server.port} instead",
            kind=EventKind.SERVER,
        )
    with _registry_lock:
        _registry[server.port] = server
    return server


start_server.__doc__ = f"{start_server.__doc__}{settings_doc()}"

# How many ports after the default one start_server() tries when it is taken.
NEARBY_PORTS = 20


def _launch_nearby(
    launch: Callable[[int], TutorialServer], host: str, port: int, holder: ServerIdentity | str | None
) -> TutorialServer:
    for candidate in range(port + 1, min(port + 1 + NEARBY_PORTS, 65536)):
        try:
            return launch(candidate)
        except PortInUse:
            continue
    raise ServerError(
        f"port {port} on {host} is already in use by {describe_holder(holder)}, and so are the "
        f"{NEARBY_PORTS} ports after it: pass port=0 to pick a free port"
    )


def running_servers() -> list[TutorialServer]:
    """The servers this process runs, oldest first."""
    with _registry_lock:
        return list(_registry.values())


def stop_all() -> None:
    """Stop every server this process runs (also done at exit)."""
    for server in running_servers():
        server.stop()


atexit.register(stop_all)
