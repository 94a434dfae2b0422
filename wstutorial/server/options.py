"""A server's settings in one object, checked once: ``ServerOptions``.

Each setting is written once, as a field: its name, default, help text and
check. ``start_server(port=..., interval=...)`` turns its keywords into one
(:func:`with_overrides`), the command line's flags and the workers'
``--options`` are made from the fields, ``make_app`` and ``TutorialServer``
take it as it is.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import ssl
import textwrap
import types
from pathlib import Path
from typing import Any, Mapping, TypeAlias

from tornado.web import RequestHandler

from ..protocol import DEFAULT_MAX_MESSAGE_SIZE
from .hub import normalize_host_name, normalize_origin
from .limits import DEFAULT_HEADER_TIMEOUT, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_PARTIAL_BYTES

__all__ = [
    "ServerOptions", "HandlerSpec", "DEFAULT_PING_INTERVAL", "DEFAULT_INTERVAL", "WORKER_SETTINGS", "with_overrides",
]

# Without pings, a client whose network silently drops is never noticed.
DEFAULT_PING_INTERVAL = 10.0
# Part 2 of the original tutorial: "message: <n>" every two seconds.
DEFAULT_INTERVAL = 2.0

# A route's handler: the class, or the class with the keyword arguments its
# initialize() takes besides the server's context (as Tornado's URLSpec).
# Plain HTTP routes (a login form) are RequestHandlers.
HandlerSpec: TypeAlias = type[RequestHandler] | tuple[type[RequestHandler], Mapping[str, Any]]


def _setting(help: str, default: Any = dataclasses.MISSING, *, worker: bool = True, **field: Any) -> Any:
    """A field of :class:`ServerOptions` with its help text, the one place both are written.

    ``worker=False``: the setting cannot cross into a worker process (code or
    an object of this process), so it is not one of :data:`WORKER_SETTINGS`.
    """
    return dataclasses.field(default=default, metadata={"help": help, "worker": worker}, **field)


@dataclasses.dataclass(frozen=True)
class ServerOptions:
    """Everything a tutorial server can be told; invalid values raise ``ValueError``/``TypeError`` here.

    Each setting is a keyword of ``start_server`` (and ``start_classroom``,
    ``start_cluster``) too; :meth:`help` says what it does.
    """

    interval: float = _setting("seconds between two ``message: <n>`` of ``/streaming``", DEFAULT_INTERVAL)
    allowed_origins: tuple[str, ...] = _setting(
        "web pages from other origins allowed to connect, e.g. ``http://localhost:8889``; never ``*``", ()
    )
    max_message_size: int = _setting(
        "bytes a message may have; larger messages close the connection with 1009", DEFAULT_MAX_MESSAGE_SIZE
    )
    ping_interval: float | None = _setting(
        "seconds between pings that detect dead clients; None: no pings", DEFAULT_PING_INTERVAL
    )
    ping_timeout: float | None = _setting(
        "seconds to wait for a ping's answer before closing (default and upper bound: ``ping_interval``)", None
    )
    handlers: Mapping[str, HandlerSpec] = _setting(
        "extra or replaced WebSocket routes, ``{\"/ws\": MyHandler}``, "
        "or ``{\"/chat\": (ChatHandler, {\"room\": room})}``",
        worker=False, default_factory=dict,
    )
    student_dir: Path | None = _setting("a folder of the student's own pages, served at ``/my/``", None)
    routes: tuple[Any, ...] = _setting(
        "further Tornado rules (``(pattern, handler[, kwargs])``), e.g. plain HTTP handlers; matched before the pages",
        (), worker=False,
    )
    tornado_settings: Mapping[str, Any] = _setting(
        "further ``tornado.web.Application`` settings, e.g. ``cookie_secret``", worker=False, default_factory=dict
    )
    allowed_hosts: tuple[str, ...] = _setting(
        "names besides ``localhost``, ``127.0.0.1`` and ``::1`` that may appear in a request's ``Host`` "
        "when ``check_host`` is on, e.g. ``mylaptop.local``; other names get 403 (DNS rebinding)",
        (),
    )
    check_host: bool | None = _setting(
        "refuse requests for other ``Host`` names with 403 (DNS rebinding); None: on when the server "
        "listens on loopback only, off when it listens on the network or runs in a JupyterHub or Binder "
        "user server (the browser is on another machine there); a reverse proxy in front does not turn it "
        "off: the ``Host`` it passes on (the browser's) is checked",
        None,
    )
    ssl_context: ssl.SSLContext | None = _setting(
        "serve ``https://`` and ``wss://`` with this TLS context "
        "(``wstutorial.server.tls.LocalCA.server_context()``); None: plain ``http://`` and ``ws://``",
        None, worker=False,
    )
    xheaders: bool = _setting(
        "believe a reverse proxy's ``X-Real-Ip`` / ``X-Forwarded-For`` / ``X-Forwarded-Proto`` about the client "
        "(Tornado's ``xheaders``); only for a server reachable through that proxy alone: otherwise any "
        "client can claim any address",
        False,
    )
    max_connections: int | None = _setting(
        "TCP connections open at once (pages and WebSockets); None: the file limit (``ulimit -n``) less 100; "
        "beyond it new ones get 503 and one event says so",
        DEFAULT_MAX_CONNECTIONS,
    )
    header_timeout: float = _setting(
        "seconds a client has to send a request's headers; slower ones are closed", DEFAULT_HEADER_TIMEOUT
    )
    max_partial_bytes: int = _setting(
        "bytes of messages still arriving, all connections together; the client that would go over it "
        "is closed with 1013 (try again later)",
        DEFAULT_MAX_PARTIAL_BYTES,
    )

    def __post_init__(self) -> None:
        # Frozen: normalized values are set through object.__setattr__, once, here.
        def set(name: str, value: object) -> None:
            object.__setattr__(self, name, value)

        _check_seconds("interval", self.interval)
        if isinstance(self.allowed_origins, str):
            raise TypeError(f"allowed_origins is a list of origins, e.g. [{self.allowed_origins!r}], not one string")
        set("allowed_origins", tuple(normalize_origin(origin) for origin in self.allowed_origins))
        _check_count("max_message_size", self.max_message_size, "a positive number of bytes")
        _check_seconds("ping_interval", self.ping_interval, or_none=True)
        _check_seconds("ping_timeout", self.ping_timeout, or_none=True)
        handlers: dict[str, HandlerSpec] = {}
        for path, spec in dict(self.handlers or {}).items():
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
        set("routes", tuple(self.routes or ()))
        set("tornado_settings", types.MappingProxyType(dict(self.tornado_settings)))
        if isinstance(self.allowed_hosts, str):
            raise TypeError(f"allowed_hosts is a list of names, e.g. [{self.allowed_hosts!r}], not one string")
        set("allowed_hosts", tuple(normalize_host_name(name) for name in self.allowed_hosts))
        if self.check_host is not None and not isinstance(self.check_host, bool):
            raise TypeError(f"check_host is True, False or None (decided by the address), got {self.check_host!r}")
        if self.max_connections is not None:
            _check_count("max_connections", self.max_connections, "a positive whole number")
        _check_count("max_partial_bytes", self.max_partial_bytes, "a positive whole number")
        _check_seconds("header_timeout", self.header_timeout)

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

    @classmethod
    def help(cls, name: str) -> str:
        """What the setting ``name`` does, e.g. for ``--help``; the default is not part of it."""
        return str(_FIELDS[name].metadata["help"])


def _check_seconds(name: str, value: object, *, or_none: bool = False) -> None:
    if value is None and or_none:
        return
    # math.isfinite: no setting means "never" by being infinite (None does, where it may).
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a positive number of seconds{' or None' if or_none else ''}, got {value!r}")


def _check_count(name: str, value: object, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be {what}, got {value!r}")


_FIELDS = {field.name: field for field in dataclasses.fields(ServerOptions)}

# The settings a worker process (server/worker.py, classroom/worker.py) takes
# on its command line, as JSON (``worker --options``): all but code (handlers,
# routes: each worker program has its own) and objects of this process
# (ssl_context, tornado_settings), which worker_settings() refuses.
WORKER_SETTINGS = tuple(name for name, field in _FIELDS.items() if field.metadata["worker"])


def _settings_doc(indent: str) -> str:
    """Every setting with its help and default (where it is a value), as a docstring's section."""
    lines = []
    for name, field in _FIELDS.items():
        shown = field.default not in (dataclasses.MISSING, None, ())
        text = f"{name}: {field.metadata['help']}{f' (default {field.default!r})' if shown else ''}."
        lines.append(textwrap.fill(text, 100, break_on_hyphens=False, initial_indent=f"{indent}    ", subsequent_indent=f"{indent}        "))
    return "\n".join(lines)


ServerOptions.__doc__ = f"{ServerOptions.__doc__}\n    Attributes:\n{_settings_doc('    ')}\n"


def with_overrides(options: ServerOptions | None, overrides: Mapping[str, Any], caller: str) -> ServerOptions:
    """``options`` (default: ``ServerOptions()``) with the settings in ``overrides``, checked.

    ``caller`` names the function for the error about a name that is not a
    setting (``TypeError``, with the closest setting's name).
    """
    unknown = [name for name in overrides if name not in _FIELDS]
    if unknown:
        name = unknown[0]
        close = difflib.get_close_matches(name, _FIELDS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise TypeError(
            f"{caller}() has no setting {name!r}{hint}; the settings are {', '.join(_FIELDS)}, "
            "and Tornado's own Application settings go in tornado_settings={...}"
        )
    base = options if options is not None else ServerOptions()
    return base.replace(**overrides) if overrides else base


def settings_doc(indent: str = "    ") -> str:
    """The ``Settings:`` section that ``start_server``'s docstring (and others) end with."""
    return f"\n{indent}Settings (keywords, or all at once as ``options=ServerOptions(...)``):\n{_settings_doc(indent)}\n"
