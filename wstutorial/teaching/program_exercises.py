"""Notebook 03's standalone exercise: the student's own Tornado program, serving its page and its WebSocket.

The student writes ``my-program/hello_app.py`` (copied once from
``notebooks/exercises/``, never overwritten) with Tornado alone: an
``Application`` with a ``RequestHandler`` for the page at ``/`` and a
``WebSocketHandler`` at ``/ws``, ``listen``, ``asyncio.run(main(...))``.
:func:`check_hello_app` runs it as a process of its own (``programs.run_program``,
on a free port given as its first argument) and talks to it as a browser
would: it fetches the page over HTTP, then opens the WebSocket with the
page's ``Origin``, and also as a page opened from disk (``Origin: null``)
and as another site's page, which plain Tornado must refuse with 403. When
everything holds, the program keeps running and its page is shown below the
check, connected; when not, the program is stopped and the sentence says what
to change. A check returns a :class:`CheckResult`, never raises: it ends
early with :class:`NotYet`, the checks' one failure type (``selfcheck.py``).

Every sentence is in :data:`MESSAGES`, so the wording lives in one place.
"""

from __future__ import annotations

import ast
import re
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable

from ..address import free_port
from ..client import BlockingClient, ConnectionClosed, ConnectionFailed, connect_blocking
from .links import page_link
from .programs import Program, ProgramError, port_in_use, run_program
from .selfcheck import CheckResult, NotYet, run_check
from .student_copies import StudentCopies, copy_starting_points

__all__ = [
    "MESSAGES",
    "PROGRAM_FILES",
    "StudentProgram",
    "student_program",
    "check_hello_app",
    "LISTEN_TIMEOUT",
    "ANSWER_TIMEOUT",
]

PROGRAM_FILES = ("hello_app.py", "hello_app.html")
GREETING = "Hello World"
PROBE = "hi from the check"
OTHER_SITE = "http://evil.example"

# A Tornado program imports and listens within a second; this bounds the wait
# for one that never does. Answers over loopback take milliseconds.
LISTEN_TIMEOUT = 10.0
ANSWER_TIMEOUT = 3.0

# What the check says, by what went wrong. {placeholders} are filled in; each
# sentence names what to change in the program.
MESSAGES: dict[str, str] = {
    "no_file": "there is no {path}: run the cell with student_program() first (it copies the starting point)",
    "not_python": "line {line} of {name} is not valid Python ({problem}): fix that line",
    "imports_wstutorial": (
        "your program imports wstutorial: write it with Tornado alone "
        "(import tornado.web and tornado.websocket), as you would on a machine without this tutorial"
    ),
    "never_runs_main": (
        "your program ended at once without listening: nothing runs main(). End the file with "
        "if __name__ == \"__main__\": asyncio.run(main(int(sys.argv[1])))"
    ),
    "main_returns": (
        "your program ended right after starting (exit code 0): main() returned, and with it asyncio.run(). "
        "After listen(...), keep main() running: await asyncio.Event().wait()"
    ),
    "crashed": (
        "your program stopped with {error} at line {line}{source}: fix that line "
        "(in a terminal, python {name} 8888 shows the whole message)"
    ),
    "crashed_nowhere": "your program stopped with {error} (exit code {code}): in a terminal, python {name} 8888 shows the whole message",
    "never_listens": (
        "your program runs, but nothing listens on port {port} after {timeout:g} s: "
        "in main(), call application.listen(port, address=\"127.0.0.1\")"
    ),
    "fixed_port": (
        "your program runs, but does not listen on port {port}, the port it was given as its first argument: "
        "read it from the command line, int(sys.argv[1]), and pass that to listen() (a fixed 8888 is the usual slip)"
    ),
    "wrong_port": (
        "your program runs, but nothing listens on port {port}, the port it was given as sys.argv[1], "
        "after {timeout:g} s: pass that port to application.listen(...)"
    ),
    "no_page": (
        "your program has no page at / (HTTP 404): add (r\"/\", PageHandler) to the Application, "
        "next to (r\"/ws\", WSHandler), so the page and its WebSocket come from the same origin"
    ),
    "page_is_websocket": (
        "/ answers like a WebSocket (HTTP {status}), not with a page: route r\"/\" to PageHandler "
        "and r\"/ws\" to WSHandler"
    ),
    "page_failed": (
        "your page handler failed (HTTP {status}){where}: PageHandler.get must self.write(...) the text of hello_app.html"
    ),
    "page_unreachable": (
        "your program listens on port {port} but its page could not be fetched ({reason}): "
        "let main() keep serving (await asyncio.Event().wait()) and answer GET / with the page"
    ),
    "page_status": "your program answered HTTP {status} for its page at /: PageHandler.get must self.write(...) the page",
    "page_empty": "your program answered its page at / with nothing: in PageHandler.get, self.write(PAGE.read_text(encoding=\"utf-8\"))",
    "page_without_websocket": (
        "the page at / opens no WebSocket: serve hello_app.html (its script runs new WebSocket(url)), "
        "not another text"
    ),
    "page_fixed_address": (
        "your page connects to a fixed address ({address}): build it from the page's own location, "
        "(location.protocol === \"https:\" ? \"wss://\" : \"ws://\") + location.host + \"/ws\", so it works on any port"
    ),
    "no_websocket": (
        "no WebSocket at /ws (HTTP 404): route r\"/ws\" to your WSHandler in the Application"
    ),
    "ws_not_a_websocket": (
        "/ws answered HTTP {status}, not a WebSocket handshake: route r\"/ws\" to WSHandler, a "
        "tornado.websocket.WebSocketHandler"
    ),
    "own_page_refused": (
        "your program refused its own page's origin ({origin}, 403): leave check_origin alone; Tornado's "
        "own check accepts a page served by the same program"
    ),
    "ws_failed": "the page's WebSocket could not connect to /ws: {reason}",
    "no_greeting": (
        "your WebSocket sent nothing within {timeout:g} s of opening: in open(), self.write_message(\"Hello World\")"
    ),
    "wrong_greeting": "your WebSocket greeted with {got!r}; send {expected!r} in open()",
    "closed_at_open": (
        "your WebSocket closed right after opening{code}: open() must send \"Hello World\" and keep the connection"
    ),
    "no_open_print": "the connection opened, but your program did not print \"new connection\": print it in open()",
    "no_message_print": (
        "your program did not print \"message received {probe}\" after the page sent {probe!r}: "
        "in on_message, print(\"message received %s\" % message)"
    ),
    "no_close_print": "your program did not print \"connection closed\" when the page left: print it in on_close()",
    "accepts_null": (
        "your program let a page opened from disk (Origin: null) connect: any file anyone sends you could "
        "use it. Remove your check_origin override; serving the page from the program is the fix for Origin: null"
    ),
    "accepts_other_site": (
        "your program let a page from {origin} connect: remove your check_origin override, or make it "
        "return True only for the origins you list"
    ),
    "passed": (
        "your program serves its page at / and its WebSocket at /ws on the port it was given, greets with "
        "\"Hello World\" and prints the three lines; the page's own origin is accepted, a page from disk "
        "(Origin: null) and {other} are refused with 403. It keeps running: its page is above."
    ),
}


def _say(key: str, **values: object) -> str:
    return MESSAGES[key].format(**values)


class _Failed(NotYet):
    """Ends the check with the sentence of ``MESSAGES[key]``."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(_say(key, **values))
        self.key = key


class StudentProgram(StudentCopies):
    """The student's program folder: the program first, then its page."""

    @property
    def program(self) -> Path:
        return self.path(self.names[0])

    def __str__(self) -> str:
        return (
            f"Your program: {self.files()}. Open {self.folder.name}/{self.names[0]} from the file browser on the left "
            "(a double-click opens it in the editor), write it, save (Ctrl+S), then run its check. "
            "The tutorial never overwrites it; delete a file to get its starting point back."
        )


def student_program(folder: str | Path = "my-program", starting_points: str | Path = "exercises",
                    names: tuple[str, ...] = PROGRAM_FILES) -> StudentProgram:
    """Copy each starting file into ``folder`` unless the student has it already (never overwrites); the program folder."""
    return StudentProgram(copy_starting_points(folder, starting_points, names, "starting files"), names)


# -- what the source says (only to choose the sentence; the run decides) ---------------------


class _Source:
    """What the student's file contains, read with ``ast``: imports, calls, names used."""

    def __init__(self, text: str) -> None:
        self.tree = ast.parse(text)
        self.imports: set[str] = set()
        self.calls: set[str] = set()
        self.names: set[str] = set()
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Import):
                self.imports.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                self.imports.add(node.module.split(".")[0])
            elif isinstance(node, ast.Call):
                function = node.func
                if isinstance(function, ast.Attribute):
                    self.calls.add(function.attr)
                elif isinstance(function, ast.Name):
                    self.calls.add(function.id)
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                self.names.add(f"{node.value.id}.{node.attr}")

    @property
    def reads_argv(self) -> bool:
        return "sys.argv" in self.names


def _read_source(path: Path) -> _Source:
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        source = _Source(text)
    except SyntaxError as error:
        raise _Failed("not_python", line=error.lineno or "?", name=path.name, problem=error.msg) from None
    if "wstutorial" in source.imports:
        raise _Failed("imports_wstutorial")
    return source


# -- the run ------------------------------------------------------------------------------------

_FILE_LINE = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+)')
_EXCEPTION = re.compile(r"^(?P<type>[A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit))\b")


def _error_in(program: Program, path: Path) -> tuple[str, int | None, str] | None:
    """(kind of error, line in the student's file, that line's text) from a traceback the program printed."""
    lines = program.output.splitlines()
    kind = next((match.group("type") for line in reversed(lines) if (match := _EXCEPTION.match(line.strip()))), None)
    if kind is None:
        return None
    number = None
    for line in lines:
        match = _FILE_LINE.search(line)
        if match and Path(match.group("file")).name == path.name:
            number = int(match.group("line"))
    text = ""
    if number is not None:
        try:
            text = path.read_text(encoding="utf-8").splitlines()[number - 1].strip()
        except (OSError, IndexError):
            text = ""
    return kind.rsplit(".", 1)[-1], number, text


def _an(kind: str) -> str:
    return f"{'an' if kind[:1].lower() in 'aeiou' else 'a'} {kind}"


def _wait_listening(program: Program, path: Path, source: _Source, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_in_use(port):
            return
        if not program.running and program.returncode is not None:
            break
        time.sleep(0.05)
    else:
        if "listen" not in source.calls:
            raise _Failed("never_listens", port=port, timeout=timeout)
        if not source.reads_argv:
            raise _Failed("fixed_port", port=port)
        raise _Failed("wrong_port", port=port, timeout=timeout)
    raise _ended(program, path, source, port)


def _ends_soon(program: Program, within: float = 1.0) -> bool:
    """True when the program ends within ``within`` seconds (a connection it dropped may be its last act)."""
    deadline = time.monotonic() + within
    while program.running:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _ended(program: Program, path: Path, source: _Source, port: int) -> _Failed:
    """Why the program ended (it should run until stopped), as the sentence to show."""
    program_ended = time.monotonic() + 2.0
    while program.running and time.monotonic() < program_ended:
        time.sleep(0.05)
    time.sleep(0.2)  # let the reader thread collect its last lines
    code = program.returncode
    error = _error_in(program, path)
    if error is not None:
        kind, line, text = error
        if kind == "OSError" and "address already in use" in program.output.lower() and not source.reads_argv:
            return _Failed("fixed_port", port=port)
        if line is None:
            return _Failed("crashed_nowhere", error=_an(kind), code=code, name=path.name)
        return _Failed("crashed", error=_an(kind), line=line, source=f" ({text})" if text else "", name=path.name)
    if "run" not in source.calls:
        return _Failed("never_runs_main")
    if code == 0:
        return _Failed("main_returns")
    return _Failed("crashed_nowhere", error="an error", code=code, name=path.name)


def _get_page(port: int, program: Program, path: Path, source: _Source) -> str:
    url = f"http://localhost:{port}/"
    try:
        with urllib.request.urlopen(url, timeout=ANSWER_TIMEOUT) as response:
            body: bytes = response.read()
    except urllib.error.HTTPError as error:
        if error.code == 404:
            raise _Failed("no_page") from None
        if error.code in (400, 426):
            raise _Failed("page_is_websocket", status=error.code) from None
        if error.code >= 500:
            time.sleep(0.2)
            found = _error_in(program, path)
            where = f": {_an(found[0])} at line {found[1]} ({found[2]})" if found and found[1] else ""
            raise _Failed("page_failed", status=error.code, where=where) from None
        raise _Failed("page_status", status=error.code) from None
    except OSError as error:
        if _ends_soon(program):
            raise _ended(program, path, source, port) from None
        raise _Failed("page_unreachable", port=port, reason=getattr(error, "strerror", None) or error) from None
    text = body.decode("utf-8", errors="replace")
    if not text.strip():
        raise _Failed("page_empty")
    if "WebSocket(" not in text:
        raise _Failed("page_without_websocket")
    fixed = re.search(r"""["'`](wss?://[^"'`+$]*)["'`]""", text)
    if fixed and re.search(r"://[^/]+", fixed.group(1)):
        raise _Failed("page_fixed_address", address=fixed.group(1))
    return text


def _connect_as(port: int, origin: str) -> BlockingClient:
    return connect_blocking(f"ws://localhost:{port}/ws", origin=origin, timeout=ANSWER_TIMEOUT)


def _printed(program: Program, text: str, timeout: float = ANSWER_TIMEOUT) -> bool:
    try:
        program.wait_for(text, timeout)
    except (TimeoutError, ProgramError):  # not printed in time, or the program ended first
        return False
    return True


def _talk_as_the_page(port: int, program: Program, path: Path, source: _Source) -> None:
    origin = f"http://localhost:{port}"
    try:
        client = _connect_as(port, origin)
    except ConnectionFailed as error:
        if error.status == 404:
            raise _Failed("no_websocket") from None
        if error.status == 403:
            raise _Failed("own_page_refused", origin=origin) from None
        if error.status is not None:
            raise _Failed("ws_not_a_websocket", status=error.status) from None
        if _ends_soon(program):
            raise _ended(program, path, source, port) from None
        raise _Failed("ws_failed", reason=error.reason) from None
    try:
        try:
            greeting = client.receive(timeout=ANSWER_TIMEOUT)
        except TimeoutError:
            raise _Failed("no_greeting", timeout=ANSWER_TIMEOUT) from None
        except ConnectionClosed as closed:
            code = f" (code {closed.code})" if closed.code is not None else ""
            raise _Failed("closed_at_open", code=code) from None
        if greeting != GREETING:
            raise _Failed("wrong_greeting", got=greeting, expected=GREETING)
        if not _printed(program, "new connection"):
            raise _Failed("no_open_print")
        client.send(PROBE)
        if not _printed(program, f"message received {PROBE}"):
            raise _Failed("no_message_print", probe=PROBE)
    finally:
        client.close()
    if not _printed(program, "connection closed"):
        raise _Failed("no_close_print")


def _refused(port: int, origin: str) -> bool:
    try:
        client = _connect_as(port, origin)
    except ConnectionFailed as error:
        return error.status == 403
    client.close()
    return False


Show = Callable[[str], None]


def show_in_notebook(url: str) -> None:
    """Show the program's page under the running cell."""
    from IPython.display import IFrame, display

    display(IFrame(url, width="100%", height=220))


def check_hello_app(path: str | Path = "my-program/hello_app.py", *, show: Show | None = show_in_notebook,
                    listen_timeout: float = LISTEN_TIMEOUT) -> CheckResult:
    """Exercise "your own program": run ``path`` on a free port and use it as a browser would.

    Passes when the program, run as ``python hello_app.py PORT``, listens on
    PORT, answers ``/`` with a page that opens a WebSocket at its own
    address, accepts that page's origin at ``/ws`` (greeting "Hello World",
    printing "new connection", "message received ...", "connection closed"),
    and refuses ``Origin: null`` and another site with 403. Then the program
    keeps running and ``show(url)`` shows its page; otherwise it is stopped.
    """
    program_path = Path(path)
    running: list[Program] = []
    shown: list[str] = []

    def body() -> str:
        if not program_path.is_file():
            raise _Failed("no_file", path=program_path)
        source = _read_source(program_path)
        port = free_port()
        program = run_program(program_path, port, port=port)
        running.append(program)
        _wait_listening(program, program_path, source, port, listen_timeout)
        _get_page(port, program, program_path, source)
        _talk_as_the_page(port, program, program_path, source)
        if not _refused(port, "null"):
            raise _Failed("accepts_null")
        if not _refused(port, OTHER_SITE):
            raise _Failed("accepts_other_site", origin=OTHER_SITE)
        shown.append(page_link(f"http://127.0.0.1:{port}/", "").url)
        return _say("passed", other=OTHER_SITE)

    result = run_check(body)
    if not result.passed:
        for program in running:
            program.stop()
    elif show is not None:
        show(shown[0])
    return result
