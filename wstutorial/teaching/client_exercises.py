"""Self-checks for the exercises whose answer is a client function, not a handler.

``ask`` (notebook 02, the echo server), ``origin_accepted`` (notebook 03)
and ``ping`` (notebook 05, a raw socket) are each run against a real
tutorial server on a free port. Like the handler checks, each returns a
:class:`~wstutorial.teaching.exercises.CheckResult` (``Passed: ...`` or
``Not yet: ...`` with what to change) and never raises.
"""

from __future__ import annotations

import asyncio
import inspect
import socket
from typing import Any, Awaitable, Callable

from ..address import free_port
from ..client import ConnectionFailed
from ..server.runner import TutorialServer, start_server
from . import handshake
from .exercises import CheckResult

__all__ = ["check_echo", "check_origin_accepted", "check_ping", "CALL_TIMEOUT"]

# A correct answer takes milliseconds; this only bounds a function that hangs.
CALL_TIMEOUT = 5.0


class _Failed(Exception):
    """Ends a check with the sentence to show."""


def _callable(function: object, name: str, coroutine: bool) -> None:
    if not callable(function):
        raise _Failed(f"pass your function {name} itself, got {type(function).__name__} {function!r:.60}")
    if coroutine and not inspect.iscoroutinefunction(function):
        raise _Failed(f"{name} must be 'async def {name}(...)': it awaits wstutorial.connect(...)")


async def _call(function: Callable[..., Awaitable[Any]], described: str, *args: Any) -> Any:
    try:
        return await asyncio.wait_for(function(*args), CALL_TIMEOUT)
    except asyncio.TimeoutError:
        raise _Failed(f"{described} did not return within {CALL_TIMEOUT:g} s") from None


async def _run_async(body: Callable[[TutorialServer], Awaitable[str]], **server_options: Any) -> CheckResult:
    server = start_server("127.0.0.1", 0, ping_interval=None, **server_options)
    try:
        return CheckResult(True, await body(server))
    except _Failed as failure:
        return CheckResult(False, str(failure))
    except Exception as error:  # never a traceback for the learner
        return CheckResult(False, f"the check stopped: {type(error).__name__}: {error}")
    finally:
        server.stop()


# -- notebook 02: ask the echo server -----------------------------------------------------------


async def check_echo(ask: object) -> CheckResult:
    """Exercise "ask the echo server": ``await ask(url, text)`` returns the echo and closes its connection."""

    async def body(server: TutorialServer) -> str:
        _callable(ask, "ask", coroutine=True)
        url = server.ws_url("/echo")
        for text in ("is anybody there?", "second question"):
            start = server.events.next_seq
            described = f"ask(url, {text!r})"
            try:
                answer = await _call(ask, described, url, text)  # type: ignore[arg-type]
            except ConnectionFailed as error:
                raise _Failed(f"{described} could not connect: {error.reason}") from None
            if answer != text:
                raise _Failed(
                    f"{described} returned {answer!r}, expected the echo {text!r}: "
                    "connect, send the text, then return await client.receive()"
                )
            try:
                await asyncio.to_thread(server.events.wait_for, "connection closed", 3.0, after=start)
            except TimeoutError:
                raise _Failed(
                    f"{described} returned the echo but left its connection open: close it "
                    "(async with await wstutorial.connect(url) as client: ..., or await client.close())"
                ) from None
        return "ask() returned each echo and closed its connection."

    return await _run_async(body)


# -- notebook 03: which origins get in? -----------------------------------------------------------

ALLOWED = "http://localhost:8889"
FOREIGN = "http://evil.example"


async def check_origin_accepted(origin_accepted: object) -> CheckResult:
    """Exercise "which origins get in?": True for an allowed origin, False for a 403, an error otherwise.

    The server allows its own origin and ``http://localhost:8889``. A port
    where nothing listens and a path without a WebSocket (404) are not
    refusals of the origin: the function must let their ``ConnectionFailed``
    through instead of answering False.
    """

    async def ask(url: str, origin: str, what: str) -> object:
        described = f"origin_accepted(url, {origin!r}) ({what})"
        try:
            return await _call(origin_accepted, described, url, origin)  # type: ignore[arg-type]
        except ConnectionFailed as error:
            if error.status == 403:
                raise _Failed(f"{described} let the 403 through: a refusal is the answer False") from None
            raise

    async def body(server: TutorialServer) -> str:
        _callable(origin_accepted, "origin_accepted", coroutine=True)
        url = server.ws_url("/ws")
        own = server.url.rstrip("/")
        for origin, expected, what in (
            (ALLOWED, True, "an allowed origin"),
            (own, True, "the server's own origin"),
            (FOREIGN, False, "an origin the server refuses with 403"),
        ):
            try:
                answer = await ask(url, origin, what)
            except ConnectionFailed as error:
                raise _Failed(f"origin_accepted(url, {origin!r}) raised: {error}") from None
            if answer is not expected:
                fix = (
                    "return True once wstutorial.connect(url, origin=origin) succeeds (and close the client)"
                    if expected
                    else "return False when the ConnectionFailed has status 403"
                )
                raise _Failed(f"for {what} ({origin}) your function returned {answer!r}, expected {expected}: {fix}")
        silent = f"ws://127.0.0.1:{free_port()}/ws"  # a port where nothing listens
        for bad_url, what in ((silent, "a port where nothing listens"), (server.ws_url("/nowhere"), "a path with no WebSocket (404)")):
            try:
                answer = await ask(bad_url, ALLOWED, what)
            except ConnectionFailed:
                continue  # right: no answer about the origin
            raise _Failed(
                f"for {what} your function returned {answer!r}: that is not a refusal of the origin "
                "(no 403 came). Return False only when error.status == 403 and raise the other failures again"
            )
        return (
            "True for allowed origins, False for a 403, and an error (not False) when nothing listens "
            "or the path has no WebSocket."
        )

    return await _run_async(body, allowed_origins=[ALLOWED])


# -- notebook 05: ping by hand -----------------------------------------------------------------


def check_ping(ping: object) -> CheckResult:
    """Exercise "ping": ``ping(sock, payload)`` sends a masked ping and returns the pong's payload."""
    server = start_server("127.0.0.1", 0, ping_interval=None)
    try:
        _callable(ping, "ping", coroutine=False)
        results = []
        for payload in (b"are you there?", b"\x00\x01binary too"):
            with socket.create_connection(("127.0.0.1", server.port), timeout=CALL_TIMEOUT) as sock:
                key = handshake.new_key()
                sock.sendall(handshake.upgrade_request("127.0.0.1", server.port, "/ws", key))
                handshake.check_response(handshake.read_response(sock), key)
                sock.settimeout(3.0)
                try:
                    answer = ping(sock, payload)  # type: ignore[operator]
                except (socket.timeout, TimeoutError):
                    raise _Failed(
                        "no pong came within 3 s: send the ping frame first, "
                        "sock.sendall(handshake.encode_frame(payload, 'ping', mask=os.urandom(4)))"
                    ) from None
                if answer != payload:
                    raise _Failed(
                        f"ping(sock, {payload!r}) returned {answer!r}, expected the pong's payload {payload!r}: "
                        "read frames with handshake.read_frame(sock) until one has opcode 'pong', return its payload"
                    )
                results.append(payload)
        return CheckResult(True, f"ping() got each pong back with its payload ({', '.join(map(repr, results))}).")
    except _Failed as failure:
        return CheckResult(False, str(failure))
    except Exception as error:  # never a traceback for the learner
        return CheckResult(False, f"the check stopped: {type(error).__name__}: {error}")
    finally:
        server.stop()
