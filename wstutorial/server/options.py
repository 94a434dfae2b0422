"""A server's settings in one object, checked once: ``ServerOptions``.

``start_server(port=..., interval=..., ...)`` builds it from its keywords;
``make_app`` and ``TutorialServer`` take it as it is, so a setting is
named, defaulted and checked in one place only.
"""

from __future__ import annotations

import dataclasses
import ssl
import types
from pathlib import Path
from typing import Any, Mapping, TypeAlias

from tornado.web import RequestHandler

from ..protocol import DEFAULT_MAX_MESSAGE_SIZE
from .hub import normalize_host_name, normalize_origin
from .limits import DEFAULT_HEADER_TIMEOUT, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_PARTIAL_BYTES

__all__ = ["ServerOptions", "HandlerSpec", "DEFAULT_PING_INTERVAL", "DEFAULT_INTERVAL", "WORKER_SETTINGS"]

# Without pings, a client whose network silently drops is never noticed.
DEFAULT_PING_INTERVAL = 10.0
# Part 2 of the original tutorial: "message: <n>" every two seconds.
DEFAULT_INTERVAL = 2.0

# A route's handler: the class, or the class with the keyword arguments its
# initialize() takes besides the server's context (as Tornado's URLSpec).
# Plain HTTP routes (a login form) are RequestHandlers.
HandlerSpec: TypeAlias = type[RequestHandler] | tuple[type[RequestHandler], Mapping[str, Any]]

# The settings a worker process (server/worker.py, classroom/worker.py) takes
# on its command line, as JSON: the plain values. Not interval (its own
# --interval), nor handlers and routes (code: each worker program has its own),
# nor ssl_context and tornado_settings (objects), which worker_settings() refuses.
WORKER_SETTINGS = (
    "allowed_origins", "max_message_size", "ping_interval", "ping_timeout", "student_dir", "allowed_hosts",
    "check_host", "xheaders", "max_connections", "header_timeout", "max_partial_bytes",
)

@dataclasses.dataclass(frozen=True)
class ServerOptions:
    """Everything a tutorial server can be told; invalid values raise ``ValueError``/``TypeError`` here.

    Attributes:
        interval: seconds between two ``message: <n>`` of ``/streaming``.
        allowed_origins: web pages from other origins allowed to connect,
            e.g. ``("http://localhost:8889",)``; never ``*``. Kept normalized.
        max_message_size: larger messages close the connection with 1009.
        ping_interval: seconds between pings that detect dead clients; None: no pings.
        ping_timeout: seconds to wait for a ping's answer (default and upper
            bound: ``ping_interval``).
        handlers: extra or replaced WebSocket routes, ``{"/ws": MyHandler}``,
            or ``{"/chat": (ChatHandler, {"room": room})}``.
        student_dir: a folder of the student's own pages, served at ``/my/``.
        routes: further Tornado rules (``(pattern, handler[, kwargs])``), e.g.
            plain HTTP handlers; matched before the pages.
        tornado_settings: further ``tornado.web.Application`` settings.
        allowed_hosts: names besides ``localhost``, ``127.0.0.1`` and ``::1``
            that may appear in a request's ``Host`` when ``check_host`` is on,
            e.g. ``("mylaptop.local",)``. Kept normalized.
        check_host: refuse requests for other ``Host`` names with 403 (DNS
            rebinding); None (the default): on when the server listens on
            loopback only, off when it listens on the network or runs in a
            JupyterHub or Binder user server (the browser is on another
            machine there). A reverse proxy in front does not turn it off:
            the proxy's ``Host`` (the browser's) is checked.
        ssl_context: serve ``https://`` and ``wss://`` with this TLS context
            (``wstutorial.server.tls.LocalCA.server_context()``); None: plain
            ``http://`` and ``ws://``.
        xheaders: believe a reverse proxy's ``X-Real-Ip`` / ``X-Forwarded-For``
            / ``X-Forwarded-Proto`` about the client (Tornado's ``xheaders``).
            Only for a server reachable through that proxy alone: otherwise
            any client can claim any address.
        max_connections: TCP connections open at once (pages and WebSockets);
            None (the default): the file limit (``ulimit -n``) less 100.
            Beyond it new ones get 503 and one event says so.
        header_timeout: seconds a client has to send a request's headers
            (default 10); slower ones are closed.
        max_partial_bytes: bytes of messages still arriving, all connections
            together (default 16 MiB); the client that would go over it is
            closed with 1013 (try again later).
    """

    interval: float = DEFAULT_INTERVAL
    allowed_origins: tuple[str, ...] = ()
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE
    ping_interval: float | None = DEFAULT_PING_INTERVAL
    ping_timeout: float | None = None
    handlers: Mapping[str, HandlerSpec] = dataclasses.field(default_factory=dict)
    student_dir: Path | None = None
    routes: tuple[Any, ...] = ()
    tornado_settings: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    allowed_hosts: tuple[str, ...] = ()
    check_host: bool | None = None
    ssl_context: ssl.SSLContext | None = None
    xheaders: bool = False
    max_connections: int | None = DEFAULT_MAX_CONNECTIONS
    header_timeout: float = DEFAULT_HEADER_TIMEOUT
    max_partial_bytes: int = DEFAULT_MAX_PARTIAL_BYTES

    def __post_init__(self) -> None:
        # Frozen: normalized values are set through object.__setattr__, once, here.
        def set(name: str, value: object) -> None:
            object.__setattr__(self, name, value)

        if isinstance(self.interval, bool) or not isinstance(self.interval, (int, float)) or not self.interval > 0:
            raise ValueError(f"interval must be a positive number of seconds, got {self.interval!r}")
        if isinstance(self.allowed_origins, str):
            raise TypeError(f"allowed_origins is a list of origins, e.g. [{self.allowed_origins!r}], not one string")
        set("allowed_origins", tuple(normalize_origin(origin) for origin in self.allowed_origins))
        if isinstance(self.max_message_size, bool) or not isinstance(self.max_message_size, int) or self.max_message_size < 1:
            raise ValueError(f"max_message_size must be a positive number of bytes, got {self.max_message_size!r}")
        for name in ("ping_interval", "ping_timeout"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0):
                raise ValueError(f"{name} must be a positive number of seconds or None, got {value!r}")
        handlers: dict[str, HandlerSpec] = {}
        for path, spec in dict(self.handlers).items():
            handler = spec[0] if isinstance(spec, tuple) else spec
            if not isinstance(path, str) or not path.startswith("/"):
                raise ValueError(f"a handler's path must start with '/', got {path!r}")
            if not (isinstance(handler, type) and issubclass(handler, RequestHandler)):
                raise TypeError(
                    f"the handler for {path!r} must be a WebSocketHandler subclass "
                    f"(or a RequestHandler subclass for plain HTTP), got {handler!r}"
                )
            handlers[path] = spec
        set("handlers", types.MappingProxyType(handlers))
        if self.student_dir is not None:
            folder = Path(self.student_dir).resolve()
            if not folder.is_dir():
                raise ValueError(f"student_dir must be a folder of pages, {str(self.student_dir)!r} is not one ({folder})")
            set("student_dir", folder)
        set("routes", tuple(self.routes))
        set("tornado_settings", types.MappingProxyType(dict(self.tornado_settings)))
        if isinstance(self.allowed_hosts, str):
            raise TypeError(f"allowed_hosts is a list of names, e.g. [{self.allowed_hosts!r}], not one string")
        set("allowed_hosts", tuple(normalize_host_name(name) for name in self.allowed_hosts))
        if self.check_host is not None and not isinstance(self.check_host, bool):
            raise TypeError(f"check_host is True, False or None (decided by the address), got {self.check_host!r}")
        for name in ("max_connections", "max_partial_bytes"):
            value = getattr(self, name)
            if value is None and name == "max_connections":
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive whole number, got {value!r}")
        timeout = self.header_timeout
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
            raise ValueError(f"header_timeout must be a positive number of seconds, got {timeout!r}")

    def worker_settings(self) -> dict[str, Any]:
        """The :data:`WORKER_SETTINGS` as JSON values, for ``worker --options JSON``: a worker's ``ServerOptions(**them)`` equals these.

        Raises ``ValueError`` for what cannot cross into another process.
        """
        if self.ssl_context is not None:
            raise ValueError(
                "worker processes cannot be given an ssl_context (a TLS context is an object of this process): "
                "serve https:// and wss:// from nginx in front of the workers (deploy/nginx/wstutorial.conf), "
                "or run without workers"
            )
        if self.tornado_settings:
            raise ValueError(
                f"worker processes cannot be given further Tornado settings ({', '.join(sorted(self.tornado_settings))}); "
                "leave them out, or run without workers"
            )
        settings = {name: getattr(self, name) for name in WORKER_SETTINGS}
        settings["allowed_origins"] = list(self.allowed_origins)
        settings["allowed_hosts"] = list(self.allowed_hosts)
        settings["student_dir"] = None if self.student_dir is None else str(self.student_dir)
        return settings

    def replace(self, **changes: Any) -> ServerOptions:
        """A copy with ``changes`` (checked like the original)."""
        return dataclasses.replace(self, **changes)
