"""The tutorial's Tornado application: WebSocket routes plus the browser pages."""

from __future__ import annotations

import os
import re
import urllib.parse
from pathlib import Path
from types import TracebackType
from typing import Any, Mapping

import tornado.web
from tornado.httputil import HTTPServerRequest
from tornado.routing import Matcher, Rule

from ..address import is_loopback
from ..events import EventKind, EventLog
from ..identity import HEADER, ServerIdentity, header_value, this_process
from ..identity import PATH as IDENTITY_PATH
from ..packaged import packaged_file
from ..protocol import DEFAULT_MAX_MESSAGE_SIZE
from .context import ServerContext, TutorialApp
from .handlers import EchoHandler, HelloHandler, StreamingHandler, TutorialHandler
from .hub import Hub
from .jsonproto import JsonHandler
from .limits import ReceiveBudget
from .options import DEFAULT_PING_INTERVAL, HandlerSpec, ServerOptions
from .sensor import SensorHandler
from .streaming import Stream

__all__ = ["make_app", "static_dir", "masked_uri", "refuse_hidden_or_nul", "PageHandler", "DEFAULT_MAX_MESSAGE_SIZE", "DEFAULT_PING_INTERVAL"]

ROUTES: dict[str, HandlerSpec] = {
    "/ws": HelloHandler,
    "/streaming": StreamingHandler,
    "/echo": EchoHandler,
    "/sensor": SensorHandler,
    "/json": JsonHandler,
}


def static_dir() -> Path:
    """Where the browser pages are: inside the installed package, or ``static/`` in a checkout."""
    return packaged_file("static/hello.html", "the tutorial's pages").parent


# Query arguments whose values are secrets: never written into an event (the
# teacher's terminal may be on the projector).
SECRET_ARGUMENTS = ("token", "password", "secret")  # secret: a student's rejoin secret (classroom/board.py)


def masked_uri(uri: str) -> str:
    """``uri`` with the values of :data:`SECRET_ARGUMENTS` replaced by ``***``: ``/teacher?token=***``.

    Names are compared decoded, as Tornado reads them (``%74oken`` is ``token``).
    """
    path, mark, query = uri.partition("?")
    if not mark:
        return uri
    parts = re.split(r"([&;])", query)
    for index in range(0, len(parts), 2):
        name, equals, _ = parts[index].partition("=")
        if equals and urllib.parse.unquote_plus(name).strip().lower() in SECRET_ARGUMENTS:
            parts[index] = f"{name}=***"
    return f"{path}?{''.join(parts)}"


def _log_request(hub: Hub) -> Any:
    """Tornado's access log, as events: failed requests only (a 404 is worth seeing)."""

    def log_request(handler: tornado.web.RequestHandler) -> None:
        status = handler.get_status()
        if status >= 400:
            request = handler.request
            hub.events.record(f"HTTP {status} {request.method} {masked_uri(request.uri or '')}", kind=EventKind.HTTP, path=request.path)

    return log_request


def behind_jupyterhub(environ: Mapping[str, str] | None = None) -> bool:
    """True in a JupyterHub (or Binder) user server, which sets ``JUPYTERHUB_SERVICE_PREFIX``.

    There the browser runs on another machine and reaches this server only
    through the hub's proxy, which checks the login (and ``Host``) itself: a
    rebinding page re-points a name at the *browser's* machine, never at
    this one, so the Host check would only refuse the hub's own name.
    """
    return bool((os.environ if environ is None else environ).get("JUPYTERHUB_SERVICE_PREFIX"))


class HostMatches(Matcher):
    """Matches requests whose ``Host`` the hub allows (see ``Hub.host_allowed``)."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def match(self, request: HTTPServerRequest) -> dict[str, Any] | None:
        # No proxy header (X-Forwarded-For, X-Real-IP, Forwarded,
        # X-ProxyContextPath) exempts a request: a rebinding page's fetch()
        # may add any of them, and a proxy passes the browser's Host on.
        return {} if self.hub.host_allowed(request.host) else None


class RefusalsAreEvents(tornado.web.RequestHandler):
    """A handler whose refusals (``HTTPError``: 400, 403, 404) are not logged by Tornado.

    The access log records each as an event already; Tornado's warning would
    be printed from the server's thread, into a random notebook cell.
    """

    def log_exception(
        self, typ: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not isinstance(value, tornado.web.HTTPError):
            super().log_exception(typ, value, tb)


class HostRefused(RefusalsAreEvents):
    """Every request whose ``Host`` is not this machine's: 403 and an event."""

    def initialize(self, hub: Hub) -> None:
        self.hub = hub

    def prepare(self) -> None:
        host = self.request.host
        self.hub.events.record(
            f"request for Host {host!r} refused (403): this server listens on loopback and answers only "
            "localhost, 127.0.0.1 and ::1 (a page that points its own name at 127.0.0.1, DNS rebinding, "
            f"says its own name); add {host.rsplit(':', 1)[0]!r} to allowed_hosts if you use that name",
            kind=EventKind.ORIGIN,
            path=self.request.path,
        )
        raise tornado.web.HTTPError(403, "this server answers only requests for localhost")


# jupyter-server-proxy says where a page was asked for: /user/ada/proxy/8888 (HTTP requests, not WebSockets).
PROXY_CONTEXT_HEADERS = ("X-ProxyContextPath", "X-Forwarded-Context")


class ProxiedForAnotherUser(Matcher):
    """Matches a request that another JupyterHub user's jupyter-server-proxy forwarded here.

    On a hub whose users share one machine (a local process spawner), every
    user's proxy reaches every port: a link that still names the port of a
    server this user stopped reaches whichever user's server took the port
    since. ``prefix`` is the hub prefix of the user whose kernel runs this
    server (``JUPYTERHUB_SERVICE_PREFIX``, e.g. ``/user/ada/``). Not a lock
    (the proxy's header is the proxy's word): the hub's login and, between
    users, containers are; this keeps a stale link from showing someone else's work.
    """

    def __init__(self, prefix: str) -> None:
        self.prefix = "/" + prefix.strip("/") + "/"

    def match(self, request: HTTPServerRequest) -> dict[str, Any] | None:
        context = next((request.headers[name] for name in PROXY_CONTEXT_HEADERS if name in request.headers), None)
        if context is None or (context.rstrip("/") + "/").startswith(self.prefix):
            return None
        return {}


class AnotherUsersLink(RefusalsAreEvents):
    """A page asked for through another hub user's proxy: 403, with what to do, and an event."""

    def initialize(self, hub: Hub, prefix: str) -> None:
        self.hub = hub
        self.prefix = prefix

    def prepare(self) -> None:
        asked = next((self.request.headers[name] for name in PROXY_CONTEXT_HEADERS if name in self.request.headers), "")
        self.hub.events.record(
            f"request through another user's proxy ({asked}) refused (403): this server belongs to {self.prefix}",
            kind=EventKind.ORIGIN, path=self.request.path,
        )
        self.set_status(403)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish("403: this tutorial server runs in another user's notebook: your link is out of date; run the cell that shows it again\n")


def refuse_hidden_or_nul(url_path: str) -> None:
    """400 for a NUL character, 404 for a hidden file or folder (``.env``, ``.git/config``), in the decoded path.

    A NUL byte (%00) would make the file lookup raise, a 500; it is just a
    bad name. A folder served as pages (``/my/``: the student's own) may
    hold dotfiles with secrets or a whole repository: never pages.
    """
    if "\x00" in url_path:
        raise tornado.web.HTTPError(400, "NUL byte in path")
    if any(part.startswith(".") for part in re.split(r"[/\\]", url_path)):
        raise tornado.web.HTTPError(404)


class PageHandler(RefusalsAreEvents, tornado.web.StaticFileHandler):
    """Serves the pages; never cached, so an edited page shows on reload."""

    def parse_url_path(self, url_path: str) -> str:
        refuse_hidden_or_nul(url_path)
        return super().parse_url_path(url_path)

    def set_extra_headers(self, path: str) -> None:
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Content-Type-Options", "nosniff")


class IdentityHandler(tornado.web.RequestHandler):
    """``GET /wstutorial-server.json``: which process and notebook run this server (this machine only)."""

    def initialize(self, identity: ServerIdentity) -> None:
        self.identity = identity

    def get(self) -> None:
        if not is_loopback(self.request.remote_ip or ""):
            raise tornado.web.HTTPError(404)
        self.set_header("Cache-Control", "no-store")
        self.write(self.identity.as_json())


class IdentityHeader(tornado.web.OutputTransform):
    """Adds ``X-Wstutorial-Server`` to every answer, the WebSocket handshake's 101 included."""

    value = ""

    def transform_first_chunk(self, status_code: int, headers: Any, chunk: bytes, finishing: bool) -> Any:
        headers[HEADER] = self.value
        return status_code, headers, chunk


def make_app(
    options: ServerOptions | None = None, *, events: EventLog | None = None, loopback: bool = True
) -> TutorialApp:
    """Build the application: ``/ws``, ``/streaming``, ``/echo``, ``/sensor``, ``/json`` and the pages.

    ``options.handlers`` adds or replaces WebSocket routes (``{"/ws": MyHandler}``),
    e.g. a handler written in a notebook; ``options.student_dir`` is a folder
    of the student's own pages, served at ``/my/`` (e.g. ``/my/send_on_open.html``).
    Handlers get the server's ``ServerContext`` (also ``app.context``).
    ``loopback``: the server listens on loopback only, so ``Host`` is checked
    unless ``options.check_host`` says otherwise.
    """
    options = options if options is not None else ServerOptions()
    hub = Hub(
        events if events is not None else EventLog(),
        allowed_origins=options.allowed_origins,
        allowed_hosts=options.allowed_hosts,
        check_host=(loopback and not behind_jupyterhub()) if options.check_host is None else options.check_host,
    )
    context = ServerContext(
        hub=hub,
        stream=Stream(hub, options.interval),
        options=options,
        receive_budget=ReceiveBudget(options.max_partial_bytes),
    )
    routes: dict[str, HandlerSpec] = {**ROUTES, **options.handlers}
    rules: list[Any] = []
    for path, spec in routes.items():
        handler, extra = spec if isinstance(spec, tuple) else (spec, {})
        if issubclass(handler, TutorialHandler):
            rules.append((path, handler, {"context": context, **extra}))
        else:
            rules.append((path, handler, dict(extra)) if extra else (path, handler))
    rules.extend(options.routes)
    if options.student_dir is not None:
        rules.append((r"/my/(.*)", PageHandler, {"path": str(options.student_dir), "default_filename": "index.html"}))
    identity = this_process()
    rules.append((IDENTITY_PATH, IdentityHandler, {"identity": identity}))
    rules.append((r"/(.*)", PageHandler, {"path": str(static_dir()), "default_filename": "index.html"}))
    identify = type("IdentityHeader", (IdentityHeader,), {"value": header_value(identity)})
    served: list[Any] = [Rule(HostMatches(hub), rules), (r"/.*", HostRefused, {"hub": hub})]
    hub_user = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "").strip("/")
    if hub_user:  # in a JupyterHub user's kernel: another user's proxy finds only AnotherUsersLink
        served.insert(0, Rule(ProxiedForAnotherUser(hub_user), AnotherUsersLink, {"hub": hub, "prefix": f"/{hub_user}/"}))
    app = TutorialApp(
        # Requests for a Host that is not this machine's (DNS rebinding) find only HostRefused.
        served,
        transforms=[identify],
        websocket_max_message_size=options.max_message_size,
        websocket_ping_interval=options.ping_interval,
        websocket_ping_timeout=options.ping_timeout,
        **{"log_function": _log_request(hub), **options.tornado_settings},
    )
    app.context = context
    return app
