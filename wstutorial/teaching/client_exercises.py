"""Self-checks for the exercises whose answer is a client function, not a handler.

``ask`` (notebook 02, the echo server), ``origin_accepted`` (notebook 03)
and ``ping`` (notebook 05, a raw socket) are each run against a real
tutorial server on a free port. Like the handler checks, each returns a
:class:`~wstutorial.teaching.selfcheck.CheckResult` (``Passed: ...`` or
``Not yet: ...`` with what to change) and never raises: a missing
``await``, an exception in the student's function and what the server saw
(a close code that may not be sent, a frame that was not masked) each
become the sentence.
"""

from __future__ import annotations

import asyncio
import inspect
import re
import socket
import time
from typing import Any, Awaitable, Callable

from ..address import free_port
from ..client import ConnectionClosed, ConnectionFailed
from ..events import EventKind, EventLog
from ..protocol import CloseCode
from ..server.handlers import EchoHandler
from ..server.runner import TutorialServer, start_server
from . import handshake
from .selfcheck import CheckResult, NotYet, coroutine_name, describe, missing_await, run_check, run_check_async

__all__ = ["check_echo", "check_origin_accepted", "check_ping", "CALL_TIMEOUT"]

# A correct answer takes milliseconds; this only bounds a function that hangs.
CALL_TIMEOUT = 5.0
# How long the server may take to notice that a client closed (milliseconds, really).
CLOSE_TIMEOUT = 2.0


def _function(function: object, name: str, coroutine: bool) -> None:
    if not callable(function) or isinstance(function, type):
        raise NotYet(f"pass your function {name} itself, got {describe(function)}")
    if coroutine and not inspect.iscoroutinefunction(function):
        raise NotYet(f"{name} must be 'async def {name}(...)': it awaits wstutorial.connect(...)")


async def _call(function: Callable[..., Awaitable[Any]], described: str, *args: Any) -> Any:
    try:
        answer = await asyncio.wait_for(function(*args), CALL_TIMEOUT)
    except asyncio.TimeoutError:
        raise NotYet(f"{described} did not return within {CALL_TIMEOUT:g} s", generic=True) from None
    if inspect.iscoroutine(answer):  # return client.receive() without await
        name = coroutine_name(answer)
        answer.close()  # never run, and now no warning about it either: the sentence says it
        raise NotYet(missing_await(*name))
    return answer


_VIOLATION = re.compile(r"closed with (\d+): (.*)")


def _violation(events: EventLog, after: int) -> tuple[int, str] | None:
    """The server's own reason for failing the connection (a frame broke RFC 6455), if it did."""
    for event in events.snapshot(after):
        found = _VIOLATION.fullmatch(event.text) if event.kind == "error" else None
        if found:
            return int(found.group(1)), found.group(2)
    return None


async def _closed_since(server: TutorialServer, start: int, still_open: str) -> None:
    """Wait until the server saw a connection close after event ``start``; ``still_open`` is the sentence if none did."""
    try:
        await asyncio.to_thread(server.events.wait_for, "connection closed", CLOSE_TIMEOUT, after=start)
    except TimeoutError:
        raise NotYet(still_open) from None


# -- notebook 02: ask the echo server -----------------------------------------------------------


class _EchoNotingTheClose(EchoHandler):
    """The echo server, also noting the close code its client sent."""

    def on_close(self) -> None:
        self.record(f"connection closed by the client with code {self.close_code}", kind=EventKind.CLOSE)


_REASONS = {
    CloseCode.NO_STATUS_RCVD: "it only stands for 'the close frame had no code'",
    CloseCode.ABNORMAL_CLOSURE: "it only stands for 'the connection dropped without a close frame'",
    1015: "it only stands for 'the TLS handshake failed'",
}


def _close_code_sentence(described: str, code: int) -> str:
    fix = "close with 1000, normal closure: await client.close() (its default)"
    if code in _REASONS:
        return f"{described} closed with code {code}, which no endpoint may send ({_REASONS[code]}): {fix}"
    if not (1000 <= code <= 1014 or 3000 <= code <= 4999) or code == 1004:
        return f"{described} closed with {code}, which is not a close code (they are 1000-1014 and 3000-4999): {fix}"
    if 3000 <= code <= 4999:
        return f"{described} closed with {code}, a code an application defines for itself; this talk ended normally: {fix}"
    meaning = CloseCode(code).meaning
    return f"{described} closed with {code} ({meaning}), but nothing went wrong: {fix}"


async def check_echo(ask: object) -> CheckResult:
    """Exercise "ask the echo server": ``await ask(url, text)`` returns the echo and closes its connection normally."""

    async def body() -> str:
        _function(ask, "ask", coroutine=True)
        server = start_server("127.0.0.1", 0, handlers={"/echo": _EchoNotingTheClose}, ping_interval=None, quiet=True)
        try:
            return await _ask_twice(server)
        finally:
            # From a thread: this loop keeps running, so a connection the student left open can answer the close.
            await asyncio.to_thread(server.stop)

    async def _ask_twice(server: TutorialServer) -> str:
        url = server.ws_url("/echo")
        for text in ("is anybody there?", "second question"):
            start = server.events.next_seq
            described = f"ask(url, {text!r})"
            try:
                answer = await _call(ask, described, url, text)  # type: ignore[arg-type]
            except ConnectionFailed as error:
                raise NotYet(f"{described} could not connect: {error.reason}") from None
            except ConnectionClosed as closed:
                raise NotYet(f"{described} used its connection after it was closed ({closed}): close it last") from None
            if answer != text:
                hint = " (bytes: send the text itself, a str)" if answer == text.encode() else ""
                raise NotYet(
                    f"{described} returned {describe(answer)}, expected the echo {text!r}{hint}: "
                    "connect, send the text, then return await client.receive()"
                )
            if server.events.find("new connection", start) is None:
                raise NotYet(f"{described} did not connect to the url it was given: connect with wstutorial.connect(url)")
            await _closed_since(
                server,
                start,
                f"{described} returned the echo but left its connection open: close it "
                "(async with await wstutorial.connect(url) as client: ..., or await client.close())",
            )
            broken = _violation(server.events, start)
            if broken is not None:
                code = re.search(r"close code (\d+)", broken[1])
                if code:
                    raise NotYet(_close_code_sentence(described, int(code.group(1))))
                raise NotYet(f"the server closed {described}'s connection with {broken[0]}: {broken[1]}")
            closed_with = server.events.find("closed by the client with code", start)
            code_text = closed_with.text.rsplit(" ", 1)[1] if closed_with else "None"
            if code_text.isdigit() and int(code_text) not in (CloseCode.NORMAL_CLOSURE, CloseCode.GOING_AWAY):
                raise NotYet(_close_code_sentence(described, int(code_text)))
        return "ask() returned each echo and closed its connection."

    return await run_check_async(body)


# -- notebook 03: which origins get in? -----------------------------------------------------------

ALLOWED = "http://localhost:8889"
FOREIGN = "http://evil.example"


async def check_origin_accepted(origin_accepted: object) -> CheckResult:
    """Exercise "which origins get in?": True for an allowed origin, False for a 403, an error otherwise.

    The server allows its own origin and ``http://localhost:8889``. A port
    where nothing listens and a path without a WebSocket (404) are not
    refusals of the origin: the function must let their ``ConnectionFailed``
    through instead of answering False. A connection it opened to find out
    is closed again.
    """

    async def ask(url: str, origin: str, what: str) -> object:
        described = f"origin_accepted(url, {origin!r}) ({what})"
        try:
            return await _call(origin_accepted, described, url, origin)  # type: ignore[arg-type]
        except ConnectionFailed as error:
            if error.status == 403:
                raise NotYet(
                    f"{described} let the 403 through: a refusal is the answer False "
                    "(compare error.status with the number 403)"
                ) from None
            raise

    async def body() -> str:
        _function(origin_accepted, "origin_accepted", coroutine=True)
        server = start_server("127.0.0.1", 0, ping_interval=None, quiet=True, allowed_origins=[ALLOWED])
        try:
            return await _ask_all(server)
        finally:
            await asyncio.to_thread(server.stop)

    async def _ask_all(server: TutorialServer) -> str:
        url = server.ws_url("/ws")
        own = server.url.rstrip("/")
        for origin, expected, what in (
            (ALLOWED, True, "an allowed origin"),
            (own, True, "the server's own origin"),
            (FOREIGN, False, "an origin the server refuses with 403"),
        ):
            start = server.events.next_seq
            try:
                answer = await ask(url, origin, what)
            except ConnectionFailed as error:
                raise NotYet(f"origin_accepted(url, {origin!r}) could not connect: {error.reason}") from None
            if answer is not expected:
                if expected:
                    fix = "return True once wstutorial.connect(url, origin=origin) succeeds (and close the client)"
                elif server.events.find("new connection", start) is not None:
                    fix = (
                        "the server let your connection in, so it did not come with that origin: connect with "
                        "wstutorial.connect(url, origin=origin), and return False when the ConnectionFailed has status 403"
                    )
                else:
                    fix = "return False when the ConnectionFailed has status 403"
                raise NotYet(f"for {what} ({origin}) your function returned {describe(answer)}, expected {expected}: {fix}")
            if expected:
                await _closed_since(
                    server,
                    start,
                    f"for {what} your function returned True but left its connection open: "
                    "close the client before returning, await client.close()",
                )
        silent = f"ws://127.0.0.1:{free_port()}/ws"  # a port where nothing listens
        for bad_url, what in ((silent, "a port where nothing listens"), (server.ws_url("/nowhere"), "a path with no WebSocket (404)")):
            try:
                answer = await ask(bad_url, ALLOWED, what)
            except ConnectionFailed:
                continue  # right: no answer about the origin
            raise NotYet(
                f"for {what} your function returned {describe(answer)}: that is not a refusal of the origin "
                "(no 403 came). Return False only when error.status == 403 and raise the other failures again"
            )
        return (
            "True for allowed origins, False for a 403, and an error (not False) when nothing listens "
            "or the path has no WebSocket."
        )

    return await run_check_async(body)


# -- notebook 05: ping by hand -----------------------------------------------------------------

_PING = "sock.sendall(handshake.encode_frame(payload, 'ping', mask=os.urandom(4)))"
_VIOLATIONS = {
    "masked": (
        "your frame was not masked, and a client must mask every frame it sends: "
        "encode_frame(payload, 'ping', mask=os.urandom(4))"
    ),
}


def check_ping(ping: object) -> CheckResult:
    """Exercise "ping": ``ping(sock, payload)`` sends a masked ping and returns the pong's payload.

    The socket is connected to the tutorial's ``/ws``, which greets with a
    text frame ("Hello World") before any pong: only a frame whose opcode is
    ``pong`` carries the answer.
    """
    state: dict[str, Any] = {}

    def body() -> str:
        _function(ping, "ping", coroutine=False)
        server = start_server("127.0.0.1", 0, ping_interval=None, quiet=True)
        state["server"] = server
        try:
            results = [_ping_once(server, payload) for payload in (b"are you there?", b"\x00\x01binary too")]
        finally:
            server.stop()
        return f"ping() got each pong back with its payload ({', '.join(map(repr, results))})."

    def _ping_once(server: TutorialServer, payload: bytes) -> bytes:
        with socket.create_connection(("127.0.0.1", server.port), timeout=CALL_TIMEOUT) as sock:
            key = handshake.new_key()
            sock.sendall(handshake.upgrade_request("127.0.0.1", server.port, "/ws", key))
            handshake.check_response(handshake.read_response(sock), key)
            sock.settimeout(3.0)
            state["start"] = server.events.next_seq
            described = f"ping(sock, {payload!r})"
            try:
                answer = ping(sock, payload)  # type: ignore[operator]
            except (socket.timeout, TimeoutError):
                raise NotYet(f"no pong came within 3 s: send a ping frame first, {_PING}", generic=True) from None
            if answer == payload:
                return payload
            if isinstance(answer, handshake.Frame):
                raise NotYet(f"{described} returned the whole frame: return its payload, frame.payload")
            if answer == b"Hello World":
                raise NotYet(
                    f"{described} returned b'Hello World', the payload of the server's greeting (a text frame): "
                    "read frames until one has opcode 'pong', and return its payload"
                )
            if isinstance(answer, bytes) and answer.endswith(payload) and answer[:1] == b"\x8a":
                raise NotYet(
                    f"{described} returned the pong's raw bytes, header and all: read it with "
                    "handshake.read_frame(sock) and return frame.payload"
                )
            raise NotYet(
                f"{described} returned {describe(answer)}, expected the pong's payload {payload!r}: "
                "read frames with handshake.read_frame(sock) until one has opcode 'pong', return its payload"
            )

    def explain(failure: BaseException | None) -> str | None:
        server = state.get("server")
        if failure is None or server is None:
            return None
        # The server's reason for closing wins: what the student's code met afterwards follows from it.
        deadline = time.monotonic() + 0.5
        broken = _violation(server.events, state.get("start", 0))
        while broken is None and time.monotonic() < deadline and not isinstance(failure, NotYet):
            time.sleep(0.02)
            broken = _violation(server.events, state.get("start", 0))
        if broken is None:
            return None
        code, reason = broken
        why = next((sentence for word, sentence in _VIOLATIONS.items() if word in reason), f"it said: {reason}")
        return f"the server closed the connection with {code} ({CloseCode(code).meaning}) after your frame: {why}"

    return run_check(body, explain)
