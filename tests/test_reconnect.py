"""Reconnection with exponential backoff and jitter: Backoff's numbers, and clients that come back after a restart."""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import subprocess
import sys
import textwrap

import pytest
import tornado.web

import wstutorial
from helpers import free_port
from wstutorial import Backoff, JsonHandler, ReconnectingClient
from wstutorial.address import InvalidAddress
from wstutorial.client import ConnectionClosed

FAST = Backoff(initial=0.05, maximum=0.4)


# -- Backoff: pure numbers ------------------------------------------------------------


def test_backoff_caps_double_up_to_the_maximum() -> None:
    """The cap is initial, 2x, 4x, ... and stops at maximum."""
    backoff = Backoff(initial=0.5, factor=2, maximum=5)
    assert [backoff.cap(k) for k in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]
    assert backoff.cap(10_000) == 5  # no overflow for a client that tried for days


def test_backoff_jitter_stays_within_the_cap_and_spreads() -> None:
    """With jitter each delay is a random part of its cap, spread over the whole range."""
    backoff = Backoff(initial=1, maximum=8)
    rng = random.Random(1)
    delays = [backoff.delay(4, rng) for _ in range(500)]
    assert all(0 <= delay <= 8 for delay in delays)
    assert min(delays) < 1 and max(delays) > 7


def test_backoff_is_repeatable_with_a_seeded_random() -> None:
    """The same seed gives the same delays (what the notebook's stored output relies on)."""
    backoff = Backoff()
    first = [backoff.delay(k, random.Random(7)) for k in range(1, 5)]
    assert first == [backoff.delay(k, random.Random(7)) for k in range(1, 5)]


def test_backoff_without_jitter_waits_the_cap() -> None:
    assert Backoff(initial=1, jitter=False).delay(3) == 4


@pytest.mark.parametrize(
    "options, sentence",
    [
        ({"initial": 0}, "initial must be a positive number of seconds, got 0"),
        ({"factor": 0.5}, "factor must be at least 1"),
        ({"initial": 5, "maximum": 1}, "maximum (1 s) must be at least initial (5 s)"),
    ],
)
def test_backoff_refuses_nonsense(options: dict[str, float], sentence: str) -> None:
    with pytest.raises(ValueError, match=re.escape(sentence)):
        Backoff(**options)


def test_backoff_counts_attempts_from_one() -> None:
    with pytest.raises(ValueError, match="attempts are counted from 1, got 0"):
        Backoff().cap(0)


def test_reconnecting_client_checks_its_url() -> None:
    """A bad address is refused at once, not retried for ever."""
    with pytest.raises(InvalidAddress):
        ReconnectingClient("http://localhost:8888/json")


# -- against a real server -------------------------------------------------------------


def test_reconnecting_client_sends_and_receives(server: wstutorial.TutorialServer) -> None:
    """Connected, it is a client like the others; close stops it for good."""

    async def scenario() -> list[str]:
        async with ReconnectingClient(server.ws_url("/json"), backoff=FAST, name="ada") as client:
            await client.send(json.dumps({"type": "echo", "text": "hi"}))
            answer = await client.receive(timeout=5)
            assert client.connected and client.connections == 1
        assert client.finished and not client.connected
        with pytest.raises(ConnectionClosed):
            await client.receive(timeout=1)
        return [answer, *client.events.texts()]

    answer, *texts = asyncio.run(scenario())
    assert json.loads(answer) == {"type": "echo", "text": "hi"}
    assert texts[:2] == [f"attempt 1: connecting to {server.ws_url('/json')}", "connected (connection 1)"]
    assert texts[-1] == "closed by this client"


def test_nothing_listening_gives_up_after_max_attempts() -> None:
    """Each failed attempt is an event with the reason and the next delay; then it gives up."""
    url = f"ws://127.0.0.1:{free_port()}/json"

    async def scenario() -> ReconnectingClient:
        client = ReconnectingClient(url, backoff=FAST, max_attempts=3, rng=random.Random(3)).start()
        with pytest.raises(ConnectionClosed) as closed:
            await client.wait_connected(timeout=10)
        assert "nothing is listening" in str(closed.value)
        return client

    client = asyncio.run(scenario())
    texts = client.events.texts()
    assert [text.split(":")[0] for text in texts] == ["attempt 1", "attempt 1 failed", "attempt 2", "attempt 2 failed", "attempt 3", "gave up after 3 failed attempts"]
    assert "connection refused" in texts[1] and "next attempt in" in texts[1]
    assert client.finished and client.attempts == 3


def test_wait_connected_times_out_with_a_sentence() -> None:
    """While the server is down, wait_connected says how many attempts failed and why."""
    url = f"ws://127.0.0.1:{free_port()}/json"

    async def scenario() -> str:
        client = ReconnectingClient(url, backoff=Backoff(initial=0.05, maximum=0.05)).start()
        try:
            with pytest.raises(TimeoutError) as late:
                await client.wait_connected(timeout=0.5)
            await client.wait_for("attempt 2 failed")
        finally:
            await client.close()
        assert client.finished
        return str(late.value)

    sentence = asyncio.run(scenario())
    assert sentence.startswith(f"not connected to {url} within 0.5 s after ")
    assert "last failure: nothing is listening" in sentence


WEBSOCKETS_CLIENT = textwrap.dedent(
    """
    # An independent client: the websockets library reconnects by itself with `async for`.
    import asyncio, sys
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    async def main():
        connections = 0
        async for websocket in connect(sys.argv[1], open_timeout=2):
            connections += 1
            print("connected", connections, flush=True)
            if connections == 2:
                return
            try:
                async for message in websocket:
                    print("got", message, flush=True)
            except ConnectionClosed:
                pass  # the server went away: the loop connects again

    asyncio.run(main())
    """
)


def test_every_client_comes_back_after_a_server_restart() -> None:
    """Stop the server (1001 to everyone), start it again on the same port: every client reconnects.

    Five ReconnectingClients and one websockets-library client in a process of its own.
    """
    first = wstutorial.start_server(port=0, ping_interval=None)
    port = first.port
    url = first.ws_url("/json")
    # websockets waits up to WEBSOCKETS_BACKOFF_INITIAL_DELAY s (default 5) before reconnecting.
    env = {**os.environ, "WEBSOCKETS_BACKOFF_INITIAL_DELAY": "0.2", "WEBSOCKETS_BACKOFF_MIN_DELAY": "0.1", "WEBSOCKETS_BACKOFF_MAX_DELAY": "0.5"}
    other = subprocess.Popen([sys.executable, "-c", WEBSOCKETS_CLIENT, url], stdout=subprocess.PIPE, text=True, env=env)
    second: wstutorial.TutorialServer | None = None
    try:
        assert other.stdout is not None
        assert other.stdout.readline().strip() == "connected 1"

        async def scenario() -> list[ReconnectingClient]:
            nonlocal second
            clients = [ReconnectingClient(url, backoff=Backoff(initial=0.1, maximum=0.5), name=f"student-{n}").start() for n in range(5)]
            try:
                for client in clients:
                    await client.wait_connected(timeout=10)
                first.events.wait_for("new connection", timeout=10)
                assert first.stop() == 6  # five clients here, one in the other process
                for client in clients:  # down: each has tried and failed at least once
                    await client.wait_for("attempt 1 failed", timeout=10)
                second = wstutorial.start_server(port=port, ping_interval=None)
                for client in clients:
                    await client.wait_connected(timeout=10)
                for client in clients:  # the new connection works
                    await client.send(json.dumps({"type": "ping", "id": 1}))
                    assert json.loads(await client.receive(timeout=5)) == {"type": "pong", "id": 1}
            finally:
                for client in clients:
                    await client.close()
            return clients

        clients = asyncio.run(scenario())
        for client in clients:
            texts = client.events.texts()
            assert client.connections == 2, texts
            assert any(text.startswith("connection lost: connection closed with code 1001") for text in texts), texts
            assert any(text.startswith("connected after ") and text.endswith("(connection 2)") for text in texts), texts
        assert other.stdout.readline().strip() == "connected 2"
        assert other.wait(timeout=10) == 0
    finally:
        if other.poll() is None:
            other.kill()
            other.wait()
        first.stop()
        if second is not None:
            second.stop()


def test_on_connect_runs_after_every_connection() -> None:
    """on_connect is where a client says again what the new connection must know."""
    first = wstutorial.start_server(port=0, ping_interval=None)
    port, url = first.port, first.ws_url("/json")
    second: wstutorial.TutorialServer | None = None

    async def hello(client: ReconnectingClient) -> None:
        await client.send(json.dumps({"type": "echo", "text": f"hello #{client.connections}"}))

    async def scenario() -> list[str]:
        nonlocal second
        async with ReconnectingClient(url, backoff=FAST, on_connect=hello) as client:
            answers = [json.loads(await client.receive(timeout=5))["text"]]
            first.stop()
            await client.wait_for("connection lost")
            second = wstutorial.start_server(port=port, ping_interval=None)
            answers.append(json.loads(await client.receive(timeout=10))["text"])
        return answers

    try:
        assert asyncio.run(scenario()) == ["hello #1", "hello #2"]
    finally:
        first.stop()
        if second is not None:
            second.stop()


def test_close_while_waiting_between_attempts_stops_at_once() -> None:
    """close() during a long backoff wait ends the client without waiting it out."""
    url = f"ws://127.0.0.1:{free_port()}/json"

    async def scenario() -> ReconnectingClient:
        client = ReconnectingClient(url, backoff=Backoff(initial=30, maximum=30, jitter=False)).start()
        await client.wait_for("next attempt in 30.00 s")
        await asyncio.wait_for(client.close(), timeout=5)
        return client

    client = asyncio.run(scenario())
    assert client.finished and client.events.texts()[-1] == "closed by this client"


class ClosesAtOnce(JsonHandler):
    """Closes every new connection with the code in its ?code= argument."""

    def open(self, *args: object, **kwargs: object) -> None:
        self.close(int(self.get_argument("code")), "closed by the test")


def test_a_refused_handshake_is_not_retried(server: wstutorial.TutorialServer) -> None:
    """404 (no WebSocket at that path) will not change: one attempt, then it gives up, saying why."""

    async def scenario() -> ReconnectingClient:
        client = ReconnectingClient(server.ws_url("/nothing-here"), backoff=FAST).start()
        with pytest.raises(ConnectionClosed, match="404 Not Found"):
            await client.wait_connected(timeout=10)
        return client

    client = asyncio.run(scenario())
    assert client.attempts == 1
    assert client.events.texts()[-1].startswith("gave up: the server has no WebSocket at /nothing-here (404 Not Found)")
    assert client.events.texts()[-1].endswith("connecting again would get the same HTTP 404")


class TooManyRequests(tornado.web.RequestHandler):
    """Answers every handshake with 429 Too Many Requests."""

    def get(self) -> None:
        raise tornado.web.HTTPError(429)


def test_too_many_requests_is_retried() -> None:
    """429 says 'later', not 'never': the client tries again with backoff instead of giving up at once."""
    with wstutorial.start_server(port=0, handlers={"/busy": TooManyRequests}) as running:

        async def scenario() -> ReconnectingClient:
            client = ReconnectingClient(running.ws_url("/busy"), backoff=FAST, max_attempts=3).start()
            with pytest.raises(ConnectionClosed):
                await client.wait_connected(timeout=10)
            return client

        client = asyncio.run(scenario())
    assert client.attempts == 3
    assert "429" in client.events.texts()[1] and "next attempt in" in client.events.texts()[1]
    assert client.events.texts()[-1].startswith("gave up after 3 failed attempts")


@pytest.mark.parametrize(
    "code, again", [(1008, False), (1003, False), (1009, False), (1010, False), (1011, True), (1013, True)]
)
def test_close_codes_that_say_the_client_is_wrong_end_it(code: int, again: bool) -> None:
    """1008 (policy), 1003, 1009 (too big), 1010: the client gives up; 1011 (server error), 1013: it reconnects."""
    with wstutorial.start_server(port=0, handlers={"/closes": ClosesAtOnce}) as running:

        async def scenario() -> ReconnectingClient:
            client = ReconnectingClient(running.ws_url(f"/closes?code={code}"), backoff=FAST).start()
            try:
                if again:
                    await client.wait_for("(connection 2)")
                else:
                    await client.wait_for("gave up")
            finally:
                await client.close()
            return client

        client = asyncio.run(scenario())
    texts = client.events.texts()
    assert f"connection lost: connection closed with code {code}" in texts[2]
    if again:
        assert client.connections >= 2
    else:
        assert client.connections == 1
        assert texts[3] == f"gave up: the server closed with {code}; connecting again would get the same answer"
