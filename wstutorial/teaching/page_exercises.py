"""The browser exercises of notebook 03: the student's own pages, and checks through what the server sees.

The starting points are in ``notebooks/exercises/*.html``; the student edits
copies in ``my-pages/`` (made once, never overwritten). Each check starts a
tutorial server of its own on a free port serving that folder at ``/my/``,
shows the page (an ``IFrame`` in the notebook), and watches the server's
events: did the page connect, did it send, did it try again after the server
went away, and how fast. The browser itself is never asked: what counts is
what reached the server. A check returns a :class:`CheckResult`, never raises.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from pathlib import Path
from typing import Callable

from ..events import Event
from ..server.runner import TutorialServer, start_server
from .exercises import CheckResult
from .links import page_link

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


class StudentPages:
    """The student's copies of the exercise pages: where they are, which exist."""

    def __init__(self, folder: Path, names: tuple[str, ...]) -> None:
        self.folder = folder
        self.names = names

    def path(self, name: str) -> Path:
        return self.folder / name

    def __str__(self) -> str:
        files = ", ".join(f"{self.folder.name}/{name}" for name in self.names)
        return (
            f"Your pages: {files}. Open one from the file browser on the left "
            "(right-click > Open With > Editor), edit, save, then run its check. "
            "The tutorial never overwrites them; delete one to get its starting point back."
        )

    def __repr__(self) -> str:
        return str(self)

    def _repr_pretty_(self, printer: object, cycle: bool) -> None:
        printer.text(str(self))  # type: ignore[attr-defined]


def student_pages(folder: str | Path = "my-pages", starting_points: str | Path = "exercises",
                  names: tuple[str, ...] = PAGES) -> StudentPages:
    """Copy each starting page into ``folder`` unless the student has it already; return the folder's pages.

    Never overwrites: a file that exists is the student's work.
    """
    target = Path(folder)
    source = Path(starting_points)
    missing = [name for name in names if not (source / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"the starting pages {missing} are not in {source.resolve()}; run this from the notebooks folder"
        )
    target.mkdir(parents=True, exist_ok=True)
    for name in names:
        if not (target / name).exists():
            shutil.copyfile(source / name, target / name)
    return StudentPages(target, names)


def show_in_notebook(url: str) -> None:
    """Show the page in the notebook, in a frame under the running cell."""
    from IPython.display import IFrame, display

    display(IFrame(url, width="100%", height=180))


class _Failed(Exception):
    """Ends a check with the sentence to show."""


def _serve(folder: Path, port: int = 0, events: object = None) -> TutorialServer:
    # Its own server and port: the check never disturbs the notebook's server.
    return start_server("127.0.0.1", port, student_dir=folder, ping_interval=None, events=events)  # type: ignore[arg-type]


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
        raise _Failed(f"there is no {path}: run the cell with student_pages() first (it copies the starting points)")
    return path


def _connected(server: TutorialServer, page: str, show: Show, timeout: float) -> Event:
    mark = server.events.next_seq
    show(page_link(server, f"my/{page}").url)
    opened = _wait(server, "new connection", timeout, mark)
    if opened is None:
        raise _Failed(
            f"your page did not connect within {timeout:g} s. Is it shown above? Its script must run "
            "new WebSocket(url) when the page loads; the browser's console (right-click > Inspect > Console) "
            "shows errors in it"
        )
    return opened


def _run(body: Callable[[], str]) -> CheckResult:
    try:
        return CheckResult(True, body())
    except _Failed as failure:
        return CheckResult(False, str(failure))
    except Exception as error:  # never a traceback for the learner
        return CheckResult(False, f"the check stopped: {type(error).__name__}: {error}")


def check_send_on_open(folder: str | Path = "my-pages", page: str = "send_on_open.html", *,
                       show: Show = show_in_notebook, connect_timeout: float = CONNECT_TIMEOUT,
                       send_timeout: float = SEND_TIMEOUT) -> CheckResult:
    """Exercise "send on open": the page sends a message as soon as its WebSocket opens.

    Serves ``folder`` on a server of its own, shows ``page`` with ``show(url)``
    and waits for the page's connection, then for a message from it.
    """

    def body() -> str:
        path = _page_file(folder, page)
        server = _serve(path.parent)
        try:
            opened = _connected(server, page, show, connect_timeout)
            sent = _wait(server, "message received", send_timeout, opened.seq, client=opened.client)
            if sent is None:
                raise _Failed(
                    f"your page connected but sent nothing within {send_timeout:g} s: "
                    "call ws.send(\"hello from my page\") in the open event's listener"
                )
            said = sent.text.removeprefix("message received ")
            return f"your page connected and sent {said!r} as soon as the socket opened."
        finally:
            server.stop()

    return _run(body)


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
                    downtime: float = 5.0, back_timeout: float = 12.0) -> CheckResult:
    """Exercise "reconnect": after the server goes away, the page tries again with growing delays.

    The check shows the page, waits for its connection, stops its server
    (the page gets close code 1001), answers every try for ``downtime``
    seconds by dropping the connection (the page gets ``error``, then close
    code 1006), then starts the server again on the same port and waits
    ``back_timeout`` seconds for the page to reconnect. It passes when the
    page tried at least three times during the outage, each wait at least as
    long as the one before and the last at least 1.5 times the first, and
    reconnected.
    """

    def body() -> str:
        path = _page_file(folder, page)
        server = _serve(path.parent)
        port, events = server.port, server.events
        refuser: _Refuser | None = None
        try:
            _connected(server, page, show, connect_timeout)
            server.stop()
            down = time.monotonic()
            refuser = _Refuser(port)
            time.sleep(downtime)
            refuser.close()
            tries = list(refuser.times)
            refuser = None
            mark = events.next_seq
            server = _serve(path.parent, port, events)
            back = _wait(server, "new connection", back_timeout, mark)
        finally:
            if refuser is not None:
                refuser.close()
            server.stop()
        if not tries and back is None:
            raise _Failed(
                "after the server went away your page never tried again: in the close event's listener, "
                "call setTimeout(connect, delay)"
            )
        gaps = [later - earlier for earlier, later in zip([down, *tries], tries, strict=False)]
        if len(tries) > 4 * downtime:
            raise _Failed(
                f"your page tried {len(tries)} times in {downtime:g} s: wait before each new try "
                "(0.5 s, then twice as long after each failure)"
            )
        if len(tries) < 3:
            raise _Failed(
                f"your page tried {len(tries)} time(s) in the {downtime:g} s the server was down "
                f"(waits: {_describe_tries(gaps) if gaps else 'none'}): start with a short delay (0.5 s) "
                "and try again after each failure, not only once"
            )
        growing = all(later >= earlier * 0.8 for earlier, later in zip(gaps[1:], gaps[2:], strict=False))
        if not growing or gaps[-1] < 1.5 * gaps[1]:
            raise _Failed(
                f"your page waited {_describe_tries(gaps[1:])} between tries: double the delay after each "
                "failure (exponential backoff), so a server that restarts is not flooded by its clients"
            )
        if back is None:
            raise _Failed(
                f"your page tried {len(tries)} times while the server was down, but had not reconnected "
                f"{back_timeout:g} s after it came back: keep trying (at most 8 s apart)"
            )
        return (
            f"your page tried {len(tries)} times while the server was down, waiting "
            f"{_describe_tries(gaps[1:])} between tries, and reconnected when it came back."
        )

    return _run(body)
