"""/sensor: simulated accelerometer readings at the client's rate, checked with the websockets library."""

from __future__ import annotations

import asyncio
import json
import random

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

import wstutorial
from helpers import wait_until
from wstutorial.server.sensor import BAD_RATE_CODE, MAX_RATE, parse_rate, reading


def test_readings_at_the_asked_rate(server: wstutorial.TutorialServer) -> None:
    """?rate=50 gives JSON readings t, x, y, z with t stepping by exactly 1/50 s."""

    async def main() -> list[dict[str, float]]:
        async with connect(server.ws_url("/sensor?rate=50")) as websocket:
            return [json.loads(await asyncio.wait_for(websocket.recv(), 10)) for _ in range(20)]

    readings = asyncio.run(main())
    assert [r["t"] for r in readings] == [round(n * 0.02, 3) for n in range(20)]
    for r in readings:
        assert set(r) == {"t", "x", "y", "z"}
        assert all(isinstance(value, float) or isinstance(value, int) for value in r.values())
        assert 9 < r["z"] < 10.5, "gravity is on z"
    server.events.wait_for("sensor, 50 readings per second")


def test_default_rate_and_independent_clients(server: wstutorial.TutorialServer) -> None:
    """Without ?rate the sensor sends 10 per second; two clients each get their own stream from t=0."""

    async def main() -> tuple[list[float], list[float]]:
        # max_queue=None: the fast stream piles up while we read the slow one;
        # a bounded queue would stop reading the socket and so miss the close frame.
        async with connect(server.ws_url("/sensor")) as slow, connect(
            server.ws_url("/sensor?rate=100"), max_queue=None
        ) as fast:
            slow_t = [json.loads(await asyncio.wait_for(slow.recv(), 10))["t"] for _ in range(3)]
            fast_t = [json.loads(await asyncio.wait_for(fast.recv(), 10))["t"] for _ in range(3)]
            return slow_t, fast_t

    slow_t, fast_t = asyncio.run(main())
    assert slow_t == [0.0, 0.1, 0.2]
    assert fast_t == [0.0, 0.01, 0.02]


@pytest.mark.parametrize("rate", ["abc", "0", "-5", "100000", "nan", "inf"])
def test_bad_rate_closes_with_a_reason(server: wstutorial.TutorialServer, rate: str) -> None:
    """A rate that cannot be used closes with 1008 and a reason naming the value and the range."""

    async def main() -> ConnectionClosed:
        async with connect(server.ws_url(f"/sensor?rate={rate}")) as websocket:
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(websocket.recv(), 10)
            return closed.value

    closed = asyncio.run(main())
    assert closed.rcvd is not None
    assert closed.rcvd.code == BAD_RATE_CODE
    assert f"rate must be a number from 0.1 to {MAX_RATE:g} per second, got {rate!r}" == closed.rcvd.reason


def test_stop_closes_sensor_clients_with_1001() -> None:
    """Stopping the server ends a sensor stream with 1001, like every other client."""
    running = wstutorial.start_server(port=0)

    async def main() -> int | None:
        async with connect(running.ws_url("/sensor?rate=200")) as websocket:
            await websocket.recv()
            await asyncio.to_thread(running.stop)
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    await asyncio.wait_for(websocket.recv(), 10)
            return closed.value.rcvd.code if closed.value.rcvd else None

    try:
        assert asyncio.run(main()) == 1001
    finally:
        running.stop()
    running.events.wait_for("connection closed")


def test_parse_rate_and_reading() -> None:
    """parse_rate accepts decimals in range; reading() gives rounded x, y, z with gravity on z."""
    assert parse_rate(None) == 10.0
    assert parse_rate("2.5") == 2.5
    sample = reading(1.0, random.Random(1))
    assert sample["t"] == 1.0 and 9 < sample["z"] < 10.5


def test_stream_view_draws_the_sensor(server: wstutorial.TutorialServer) -> None:
    """The notebook's StreamView on /sensor draws three lines: x, y, z."""
    from wstutorial.widgets import StreamView

    async def main() -> None:
        view = StreamView(server.ws_url("/sensor?rate=200"), max_points=50)
        view.start()
        await wait_until(lambda: view.count >= 60 and len(view._lines_mark.x) >= 50)
        view.stop()
        await view.wait()
        assert list(view._lines_mark.labels) == ["x", "y", "z"]
        assert len(view._lines_mark.x) == 50

    asyncio.run(asyncio.wait_for(main(), 60))
