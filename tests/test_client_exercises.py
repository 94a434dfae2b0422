"""The checks of the client exercises (echo, origin, ping): each solution passes, each starting point gets a sentence."""

from __future__ import annotations

import asyncio
import runpy
from pathlib import Path

import wstutorial
from wstutorial.teaching.client_exercises import check_echo, check_origin_accepted, check_ping

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def load(kind: str, name: str, function: str) -> object:
    return runpy.run_path(str(NOTEBOOKS / kind / name))[function]


def test_echo_solution_passes_and_starting_point_is_told_what_to_do() -> None:
    """ask(): the solution passes; the starting point returns None and is told to receive the answer."""
    assert str(asyncio.run(check_echo(load("solutions", "echo_roundtrip.py", "ask")))) == (
        "Passed: ask() returned each echo and closed its connection."
    )
    assert str(asyncio.run(check_echo(load("exercises", "echo_roundtrip.py", "ask")))) == (
        "Not yet: ask(url, 'is anybody there?') returned None, expected the echo 'is anybody there?': "
        "connect, send the text, then return await client.receive()"
    )


def test_echo_that_leaves_the_connection_open_is_told_to_close() -> None:
    """An ask() that never closes gets the sentence about closing."""

    async def ask(url: str, text: str) -> str:
        client = await wstutorial.connect(url)
        await client.send(text)
        return await client.receive()

    result = asyncio.run(check_echo(ask))
    assert str(result).startswith("Not yet: ask(url, 'is anybody there?') returned the echo but left its connection open")


def test_origin_solution_passes_and_starting_point_fails() -> None:
    """origin_accepted(): the solution passes; the starting point's None is named."""
    assert asyncio.run(check_origin_accepted(load("solutions", "origin_accepted.py", "origin_accepted"))).passed
    assert str(asyncio.run(check_origin_accepted(load("exercises", "origin_accepted.py", "origin_accepted")))) == (
        "Not yet: for an allowed origin (http://localhost:8889) your function returned None, expected True: "
        "return True once wstutorial.connect(url, origin=origin) succeeds (and close the client)"
    )


def test_origin_check_tells_a_refusal_from_nothing_listening() -> None:
    """Answering False for every failure is caught: nothing listening is not a 403."""

    async def origin_accepted(url: str, origin: str) -> bool:
        try:
            client = await wstutorial.connect(url, origin=origin)
        except wstutorial.ConnectionFailed:
            return False
        await client.close()
        return True

    result = asyncio.run(check_origin_accepted(origin_accepted))
    assert str(result).startswith(
        "Not yet: for a port where nothing listens your function returned False: that is not a refusal of the origin"
    )


def test_ping_solution_passes_and_starting_point_fails() -> None:
    """ping(): the solution gets both pongs; the starting point's None is named with what to read."""
    assert check_ping(load("solutions", "ping_pong.py", "ping")).passed
    assert str(check_ping(load("exercises", "ping_pong.py", "ping"))).startswith(
        "Not yet: ping(sock, b'are you there?') returned None, expected the pong's payload b'are you there?'"
    )


def test_connection_failed_carries_the_http_status() -> None:
    """A 403 and a 404 keep their status; nothing listening has none."""
    with wstutorial.start_server(port=0) as server:
        statuses = []
        for url, origin in ((server.ws_url("/ws"), "http://evil.example"), (server.ws_url("/nowhere"), None)):
            try:
                asyncio.run(wstutorial.connect(url, origin=origin))
            except wstutorial.ConnectionFailed as error:
                statuses.append(error.status)
    try:
        asyncio.run(wstutorial.connect("ws://127.0.0.1:1/ws"))
    except wstutorial.ConnectionFailed as error:
        statuses.append(error.status)
    assert statuses == [403, 404, None]
