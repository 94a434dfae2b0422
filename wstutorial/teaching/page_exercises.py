"""The browser exercises of notebook 03: the student's own pages, and checks through what the server sees.

The starting points are in ``notebooks/exercises/*.html``; the student edits
copies in ``my-pages/`` (made once, never overwritten). Each check starts a
tutorial server of its own on a free port serving that folder at ``/my/``,
shows the page (an ``IFrame`` in the notebook), and watches the server's
events: did the page connect, did it send, what and when, did it try again
after the server went away, how fast, and from which delay once it had been
back. What counts is what reached the server; besides, the check serves each
page with a listener more, on its ``<head>`` line (so the page's own lines
keep their numbers), that reports an error of the page's script (its kind
and line, e.g. ``ws.send`` while still connecting) to the check's server,
so the sentence can name it. A check returns a :class:`CheckResult`, never
raises.
"""

from __future__ import annotations

import json
import mimetypes
import socket
import threading
import time
from pathlib import Path
from typing import Any, Callable

import tornado.web
from tornado.ioloop import IOLoop

from ..events import Event, EventKind, EventLog
from ..server.handlers import HelloHandler
from ..server.runner import TutorialServer, start_server
from ..wording import count
from .links import page_link
from .selfcheck import CheckResult, NotYet, run_check
from .student_copies import StudentCopies, copy_starting_points

__all__ = [
    "PAGES",
    "StudentPages",
    "student_pages",
    "check_send_on_open",
    "check_reconnect",
    "CONNECT_TIMEOUT",
    "SEND_TIMEOUT",
]

PAGES = ("send_on_open.html", "reconnect.html")

# How long a check waits for the page to connect (a browser shows the frame
# and runs the script within a second or two), and then for its first message.
CONNECT_TIMEOUT = 10.0
SEND_TIMEOUT = 5.0

Show = Callable[[str], None]


class StudentPages(StudentCopies):
    """The student's copies of the exercise pages."""

    def __str__(self) -> str:
        return (
            f"Your pages: {self.files()}. Open one from the file browser on the left "
            "(right-click > Open With > Editor), edit, save, then run its check. "
            "The tutorial never overwrites them; delete one to get its starting point back."
        )


def student_pages(folder: str | Path = "my-pages", starting_points: str | Path = "exercises",
                  names: tuple[str, ...] = PAGES) -> StudentPages:
    """Copy each starting page into ``folder`` unless the student has it already (never overwrites); the folder's pages."""
    return StudentPages(copy_starting_points(folder, starting_points, names, "starting pages"), names)


def show_in_notebook(url: str) -> None:
    """Show the page in the notebook, in a frame under the running cell."""
    from IPython.display import IFrame, display

    display(IFrame(url, width="100%", height=180))


# Reports an error of the page's script to the check's server (see the module's docstring).
REPORTER = (
    '<script>addEventListener("error",function(e){var x=new XMLHttpRequest();x.open("POST","/check/page-error");'
    'x.send(JSON.stringify({kind:(e.error&&e.error.name)||"Error",line:e.lineno||0}));});</script>'
)
# Its event: kind "error", this text, then the report as JSON.
ERROR_EVENT = "page script error "


def with_reporter(html: str) -> str:
    """``html`` with :data:`REPORTER` right after its ``<head>`` tag, on the same line (else at the start)."""
    at = html.lower().find("<head>")
    if at < 0:
        return REPORTER + html
    at += len("<head>")
    return html[:at] + REPORTER + html[at:]


class _StudentPage(tornado.web.RequestHandler):
    """``/my/<name>``: a file of the student's folder as it is on disk (a page with the reporter); never cached."""

    def initialize(self, folder: Path) -> None:
        self.folder = folder.resolve()

    def get(self, name: str) -> None:
        if "\x00" in name:
            raise tornado.web.HTTPError(400, "NUL byte in path")
        path = (self.folder / name).resolve()
        if not path.is_relative_to(self.folder) or not path.is_file():
            raise tornado.web.HTTPError(404)
        data = path.read_bytes()
        if path.suffix in (".html", ".htm"):
            data = with_reporter(data.decode("utf-8", errors="replace")).encode("utf-8")
        self.set_header("Content-Type", mimetypes.guess_type(path.name)[0] or "application/octet-stream")
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.write(data)


class _PageError(tornado.web.RequestHandler):
    """``POST /check/page-error``: records the kind and line of an error in the page's script."""

    def initialize(self, events: EventLog) -> None:
        self.events = events

    def check_xsrf_cookie(self) -> None:  # the page's own report, not a form
        pass

    def post(self) -> None:
        try:
            report = json.loads(self.request.body[:1000])
            kind, line = str(report.get("kind", "Error"))[:40], int(report.get("line", 0))
        except (ValueError, TypeError, AttributeError):
            raise tornado.web.HTTPError(400) from None
        self.events.record(ERROR_EVENT + json.dumps({"kind": kind, "line": line}), kind=EventKind.ERROR)
        self.set_status(204)


# How long the check's /ws waits before it greets: a page that sends in its
# "message" listener (after the greeting) instead of its "open" one shows.
GREETING_DELAY = 1.5


class _LateHello(HelloHandler):
    """The tutorial's /ws, greeting only after :data:`GREETING_DELAY` seconds."""

    _gone = False

    def open(self, *args: Any, **kwargs: Any) -> None:
        self.record("new connection", kind=EventKind.OPEN)
        IOLoop.current().call_later(GREETING_DELAY, self._greet)

    def _greet(self) -> None:
        if not self._gone:
            self.record("greeting sent", kind=EventKind.MESSAGE)
            self.hub.send(self, "Hello World")

    def on_close(self) -> None:
        self._gone = True
        super().on_close()


def _serve(folder: Path, port: int = 0, events: EventLog | None = None, late_greeting: bool = False) -> TutorialServer:
    # Its own server and port: the check never disturbs the notebook's server.
    events = events if events is not None else EventLog()
    routes = [
        (r"/my/(.*)", _StudentPage, {"folder": folder}),
        (r"/check/page-error", _PageError, {"events": events}),
    ]
    handlers = {"/ws": _LateHello} if late_greeting else {}
    return start_server(
        "127.0.0.1", port, ping_interval=None, events=events, routes=routes, handlers=handlers, quiet=True
    )


def _wait(server: TutorialServer, text: str, timeout: float, after: int, client: str = "") -> Event | None:
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        try:
            event = server.events.wait_for(text, max(left, 0.0), after=after)
        except TimeoutError:
            return None
        if not client or event.client == client:
            return event
        after = event.seq + 1


def _page_file(folder: str | Path, page: str) -> Path:
    path = Path(folder) / page
    if not path.is_file():
        raise NotYet(f"there is no {path}: run the cell with student_pages() first (it copies the starting points)")
    return path


_SCRIPT_ERRORS = {
    "InvalidStateError": "it called ws.send(...) while the socket was still connecting: send in the open event's listener",
    "SyntaxError": "the script cannot be read there (a missing bracket, brace or quote?), so none of it ran",
    "ReferenceError": "a name there is not defined (a typo, or a variable of another function?)",
    "TypeError": "a value there is not what the code expects (calling something that is not a function?)",
}


def _script_error(events: EventLog, path: Path, after: int = 0) -> str | None:
    """The sentence for the first error the page's script reported, quoting its line; None if none came."""
    for event in events.snapshot(after):
        if event.kind != EventKind.ERROR or not event.text.startswith(ERROR_EVENT):
            continue
        report = json.loads(event.text.removeprefix(ERROR_EVENT))
        line = int(report["line"])
        try:
            code = path.read_text(encoding="utf-8").splitlines()[line - 1].strip()
        except (OSError, IndexError, UnicodeDecodeError):
            code = ""
        where = f"at line {line} ({code})" if code else f"at line {line}"
        what = _SCRIPT_ERRORS.get(report["kind"], "the browser's console (right-click > Inspect > Console) says more")
        return f"your page's script stopped {where} with {report['kind']}: {what}"
    return None


def _connected(server: TutorialServer, path: Path, show: Show, timeout: float) -> Event:
    mark = server.events.next_seq
    show(page_link(server, f"my/{path.name}").url)
    deadline = time.monotonic() + timeout
    while True:
        opened = _wait(server, "new connection", min(0.2, max(deadline - time.monotonic(), 0.0)), mark)
        if opened is not None:
            return opened
        broken = _script_error(server.events, path, mark)
        if broken is not None:
            raise NotYet(broken)
        if time.monotonic() >= deadline:
            raise NotYet(
                f"your page did not connect within {timeout:g} s. Is it shown above? Its script must run "
                "new WebSocket(url) when the page loads; the browser's console (right-click > Inspect > Console) "
                "shows errors in it"
            )


EXPECTED_TEXT = "hello from my page"


def check_send_on_open(folder: str | Path = "my-pages", page: str = "send_on_open.html", *,
                       show: Show = show_in_notebook, connect_timeout: float = CONNECT_TIMEOUT,
                       send_timeout: float = SEND_TIMEOUT) -> CheckResult:
    """Exercise "send on open": the page sends "hello from my page" as soon as its WebSocket opens.

    Serves ``folder`` on a server of its own, shows ``page`` with ``show(url)``
    and waits for the page's connection, then for its message. That
    server's ``/ws`` greets only after :data:`GREETING_DELAY` seconds, so a
    page that waits for the server's first message (sending in the
    ``message`` listener) is told apart from one that sends on open.
    """

    def body() -> str:
        path = _page_file(folder, page)
        server = _serve(path.parent, late_greeting=True)
        try:
            opened = _connected(server, path, show, connect_timeout)
            deadline = time.monotonic() + send_timeout
            sent = None
            while sent is None and time.monotonic() < deadline:
                sent = _wait(server, "message received", 0.2, opened.seq, client=opened.client)
                # From the server's first event on: the error may come before the connection is open.
                broken = _script_error(server.events, path)
                if sent is None and broken is not None:
                    raise NotYet(broken)
            if sent is None:
                raise NotYet(
                    f"your page connected but sent nothing within {send_timeout:g} s: "
                    f"call ws.send({json.dumps(EXPECTED_TEXT)}) in the open event's listener"
                )
            said = sent.text.removeprefix("message received ")
            greeted = server.events.find("greeting sent", opened.seq)
            if greeted is not None and greeted.seq < sent.seq:
                raise NotYet(
                    "your page sent only after the server's first message came (in the message listener): "
                    "send in the open event's listener, as soon as the socket opens"
                )
            if said != EXPECTED_TEXT:
                raise NotYet(f"your page sent {said!r}, expected {EXPECTED_TEXT!r}: send exactly that text")
            return f"your page connected and sent {said!r} as soon as the socket opened."
        finally:
            server.stop()

    return run_check(body)


def _is_websocket_upgrade(connection: socket.socket, timeout: float = 0.5) -> bool:
    """True when what arrives on ``connection`` is a WebSocket handshake (``Upgrade: websocket``)."""
    connection.settimeout(timeout)
    head = b""
    try:
        while b"\r\n\r\n" not in head and len(head) < 8192:
            chunk = connection.recv(4096)
            if not chunk:
                break
            head += chunk
    except OSError:  # includes the timeout: nothing (more) came
        pass
    return b"upgrade: websocket" in head.lower()


class _Refuser:
    """Stands on a port while 'the server is down': accepts each try and drops it at once, noting when."""

    def __init__(self, port: int) -> None:
        self.socket = socket.create_server(("127.0.0.1", port))  # SO_REUSEADDR on POSIX
        self.socket.settimeout(0.1)
        self.times: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wstutorial-refuser", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.socket.accept()
            except (socket.timeout, OSError):
                continue
            arrived = time.monotonic()
            if _is_websocket_upgrade(connection):
                # Only the page's WebSocket tries count: a browser also opens
                # connections of its own (a favicon, a preconnect).
                self.times.append(arrived)
            connection.close()  # no HTTP answer: the browser sees the connection fail

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.socket.close()


def _describe_tries(gaps: list[float]) -> str:
    return ", ".join(f"{gap:.1f}" for gap in gaps) + " s"


def check_reconnect(folder: str | Path = "my-pages", page: str = "reconnect.html", *,
                    show: Show = show_in_notebook, connect_timeout: float = CONNECT_TIMEOUT,
                    downtime: float = 5.0, back_timeout: float = 12.0, reset_timeout: float = 2.0) -> CheckResult:
    """Exercise "reconnect": after the server goes away, the page tries again with growing delays.

    The check shows the page, waits for its connection, stops its server
    (the page gets close code 1001), answers every try for ``downtime``
    seconds by dropping the connection (the page gets ``error``, then close
    code 1006), then starts the server again on the same port and waits
    ``back_timeout`` seconds for the page to reconnect. Then it stops the
    server once more: a page that set its delay back to the short one when
    it reconnected tries again within ``reset_timeout`` seconds. It passes
    when the page tried at least three times during the outage, each wait
    at least as long as the one before and the last at least 1.5 times the
    first, reconnected, and started short again.
    """

    def body() -> str:
        path = _page_file(folder, page)
        server = _serve(path.parent)
        port, events = server.port, server.events
        refuser: _Refuser | None = None
        again: list[float] = []
        try:
            _connected(server, path, show, connect_timeout)
            server.stop()
            down = time.monotonic()
            refuser = _Refuser(port)
            time.sleep(downtime)
            refuser.close()
            tries = list(refuser.times)
            refuser = None
            mark = events.next_seq
            server = _serve(path.parent, port, events)
            # A page that never tried while the server was down will not come back now either: do not wait long.
            back = _wait(server, "new connection", back_timeout if tries else min(back_timeout, 3.0), mark)
            if back is not None and len(tries) >= 3:
                # A second outage: a page that set its delay back when it reconnected tries again soon.
                server.stop()
                second = time.monotonic()
                refuser = _Refuser(port)
                deadline = second + reset_timeout
                while not refuser.times and time.monotonic() < deadline:
                    time.sleep(0.05)
                again = [moment - second for moment in refuser.times]
        finally:
            if refuser is not None:
                refuser.close()
            server.stop()
        if not tries and back is None:
            raise NotYet(
                _script_error(events, path)
                or "after the server went away your page never tried again: in the close event's listener, "
                "call setTimeout(connect, delay)"
            )
        gaps = [later - earlier for earlier, later in zip([down, *tries], tries, strict=False)]
        if len(tries) > 4 * downtime:
            raise NotYet(
                f"your page tried {len(tries)} times in {downtime:g} s: wait before each new try "
                "(0.5 s, then twice as long after each failure)"
            )
        if len(tries) < 3:
            raise NotYet(
                f"your page tried {count(len(tries), 'time')} in the {downtime:g} s the server was down "
                f"(waits: {_describe_tries(gaps) if gaps else 'none'}): start with a short delay (0.5 s) "
                "and try again after each failure, not only once"
            )
        growing = all(later >= earlier * 0.8 for earlier, later in zip(gaps[1:], gaps[2:], strict=False))
        if not growing or gaps[-1] < 1.5 * gaps[1]:
            raise NotYet(
                f"your page waited {_describe_tries(gaps[1:])} between tries: double the delay after each "
                "failure (exponential backoff), so a server that restarts is not flooded by its clients"
            )
        if back is None:
            raise NotYet(
                f"your page tried {len(tries)} times while the server was down, but had not reconnected "
                f"{back_timeout:g} s after it came back: keep trying (at most 8 s apart)"
            )
        if not again:
            raise NotYet(
                "your page reconnected, but when the server went away once more it did not try again within "
                f"{reset_timeout:g} s: set the delay back to 0.5 s in the open event's listener, once a connection opens"
            )
        return (
            f"your page tried {len(tries)} times while the server was down, waiting "
            f"{_describe_tries(gaps[1:])} between tries, reconnected when it came back, and started from a "
            f"short delay again ({again[0]:.1f} s) the next time."
        )

    return run_check(body)
