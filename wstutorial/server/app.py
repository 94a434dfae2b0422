"""The tutorial's Tornado application: WebSocket routes plus the browser pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping

import tornado.web
from tornado.websocket import WebSocketHandler

from ..events import EventLog
from ..protocol import DEFAULT_MAX_MESSAGE_SIZE
from .handlers import EchoHandler, HelloHandler, StreamingHandler, TutorialHandler
from .hub import Hub
from .sensor import SensorHandler
from .streaming import Stream

__all__ = ["make_app", "static_dir", "DEFAULT_MAX_MESSAGE_SIZE", "DEFAULT_PING_INTERVAL"]

# Without pings, a client whose network silently drops is never noticed.
DEFAULT_PING_INTERVAL = 10.0

ROUTES: dict[str, type[TutorialHandler]] = {
    "/ws": HelloHandler,
    "/streaming": StreamingHandler,
    "/echo": EchoHandler,
    "/sensor": SensorHandler,
}


def static_dir() -> Path:
    """Where the browser pages are: inside the installed package, or ``static/`` in a checkout."""
    here = Path(__file__).resolve().parents[1]  # the wstutorial package
    for candidate in (here / "static", here.parent / "static"):
        if (candidate / "hello.html").is_file():
            return candidate
    raise FileNotFoundError(
        f"the tutorial's pages (hello.html) are neither in {here / 'static'} nor in {here.parent / 'static'}; "
        "reinstall the package with 'pip install .'"
    )


def _log_request(hub: Hub) -> Any:
    """Tornado's access log, as events: failed requests only (a 404 is worth seeing)."""

    def log_request(handler: tornado.web.RequestHandler) -> None:
        status = handler.get_status()
        if status >= 400:
            request = handler.request
            hub.events.record("http", f"HTTP {status} {request.method} {request.uri}", path=request.path)

    return log_request


class PageHandler(tornado.web.StaticFileHandler):
    """Serves the pages; never cached, so an edited page shows on reload."""

    def parse_url_path(self, url_path: str) -> str:
        # A NUL byte (%00) would make the file lookup raise, a 500; it is just a bad name.
        if "\x00" in url_path:
            raise tornado.web.HTTPError(400, "NUL byte in path")
        return super().parse_url_path(url_path)

    def set_extra_headers(self, path: str) -> None:
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Content-Type-Options", "nosniff")


def make_app(
    *,
    events: EventLog | None = None,
    interval: float = 2.0,
    allowed_origins: Iterable[str] = (),
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
    ping_interval: float | None = DEFAULT_PING_INTERVAL,
    ping_timeout: float | None = None,
    handlers: Mapping[str, type[WebSocketHandler]] | None = None,
    student_dir: str | Path | None = None,
    **settings: Any,
) -> tornado.web.Application:
    """Build the application: ``/ws``, ``/streaming``, ``/echo``, ``/sensor`` and the pages.

    ``handlers`` adds or replaces WebSocket routes (``{"/ws": MyHandler}``),
    e.g. a handler written in a notebook. ``student_dir``: a folder of the
    student's own pages, served at ``/my/`` (e.g. ``/my/send_on_open.html``).
    The hub is in ``app.settings["wstutorial_hub"]``.
    """
    if not isinstance(max_message_size, int) or max_message_size < 1:
        raise ValueError(f"max_message_size must be a positive number of bytes, got {max_message_size!r}")
    hub = Hub(events if events is not None else EventLog(), allowed_origins=allowed_origins)
    stream = Stream(hub, interval)
    routes: dict[str, type[WebSocketHandler]] = dict(ROUTES)
    for path, handler in (handlers or {}).items():
        if not path.startswith("/"):
            raise ValueError(f"a handler's path must start with '/', got {path!r}")
        if not (isinstance(handler, type) and issubclass(handler, WebSocketHandler)):
            raise TypeError(f"the handler for {path!r} must be a WebSocketHandler subclass, got {handler!r}")
        routes[path] = handler
    rules: list[Any] = [
        (path, handler, {"hub": hub}) if issubclass(handler, TutorialHandler) else (path, handler)
        for path, handler in routes.items()
    ]
    if student_dir is not None:
        folder = Path(student_dir).resolve()
        if not folder.is_dir():
            raise ValueError(f"student_dir must be a folder of pages, {str(student_dir)!r} is not one ({folder})")
        rules.append((r"/my/(.*)", PageHandler, {"path": str(folder), "default_filename": "index.html"}))
    rules.append((r"/(.*)", PageHandler, {"path": str(static_dir()), "default_filename": "index.html"}))
    return tornado.web.Application(
        rules,
        websocket_max_message_size=max_message_size,
        websocket_ping_interval=ping_interval,
        websocket_ping_timeout=ping_timeout,
        wstutorial_hub=hub,
        wstutorial_stream=stream,
        **{"log_function": _log_request(hub), **settings},
    )
