"""Going further: a simulated accelerometer streaming readings, as the mbed cookbook's sensor pages did.

``/sensor?rate=50`` sends 50 readings per second to that client, each a JSON
text message ``{"t": 0.02, "x": 0.31, "y": -0.12, "z": 9.79}`` (``t`` in
seconds since the connection opened, x/y/z in m/s²: gravity on z, a slow
wobble and some noise). Each client gets its own stream at its own rate.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
from typing import Any

from ..events import EventKind
from ..protocol import CloseCode, describe_message
from .handlers import TutorialHandler

__all__ = ["SensorHandler", "reading", "parse_rate", "DEFAULT_RATE", "MIN_RATE", "MAX_RATE", "BAD_RATE_CODE"]

DEFAULT_RATE = 10.0
MIN_RATE = 0.1
# Enough to see a fast stream strain a display, not enough for one client to
# hog the server's loop.
MAX_RATE = 500.0
# Close code for a rate that cannot be used: "policy violation" (RFC 6455, 7.4.1).
BAD_RATE_CODE = CloseCode.POLICY_VIOLATION

GRAVITY = 9.81


class BadRate(ValueError):
    """A ``rate`` the sensor cannot stream at; the message says why (short: it is a close reason)."""


def parse_rate(value: str | None) -> float:
    """The readings per second asked for in ``?rate=``; raises :class:`BadRate` with a short sentence.

    The sentence becomes a close reason, which is limited to 123 bytes.
    """
    if value is None or value == "":
        return DEFAULT_RATE
    try:
        rate = float(value)
    except ValueError:
        rate = math.nan
    if not MIN_RATE <= rate <= MAX_RATE:  # also false for nan
        raise BadRate(f"rate must be a number from {MIN_RATE:g} to {MAX_RATE:g} per second, got {value[:30]!r}")
    return rate


def reading(t: float, rng: random.Random) -> dict[str, float]:
    """One simulated accelerometer reading at time ``t`` (seconds): gravity on z, a wobble, noise."""
    wobble = 0.5 * math.sin(2 * math.pi * 0.5 * t)
    return {
        "t": round(t, 3),
        "x": round(wobble + rng.gauss(0, 0.05), 3),
        "y": round(0.3 * math.cos(2 * math.pi * 0.2 * t) + rng.gauss(0, 0.05), 3),
        "z": round(GRAVITY - abs(wobble) * 0.1 + rng.gauss(0, 0.05), 3),
    }


class SensorHandler(TutorialHandler):
    """``/sensor?rate=N``: streams simulated accelerometer readings to this client, N per second."""

    def open(self, *args: Any, **kwargs: Any) -> None:
        try:
            self.rate = parse_rate(self.get_query_argument("rate", None))
        except BadRate as error:
            self.record(f"sensor refused: {error}", kind=EventKind.ERROR)
            self.close(BAD_RATE_CODE, str(error))
            return
        self.record(f"new connection (sensor, {self.rate:g} readings per second)", kind=EventKind.OPEN)
        self._task: asyncio.Task[None] | None = asyncio.get_running_loop().create_task(self._stream())

    async def _stream(self) -> None:
        loop = asyncio.get_running_loop()
        rng = random.Random()
        period = 1.0 / self.rate
        start = loop.time()
        n = 0
        while True:
            # t is the sample's own time (n / rate), so readings are evenly
            # spaced even when the loop is late; the sleep catches up.
            message = json.dumps(reading(n * period, rng))
            self.hub.send(self, message)  # drops for a client that does not read
            n += 1
            await asyncio.sleep(max(0.0, start + n * period - loop.time()))

    def on_message(self, message: str | bytes) -> None:
        self.record(f"message received {describe_message(message)}", kind=EventKind.MESSAGE)

    def on_close(self) -> None:
        task = getattr(self, "_task", None)
        if task is not None:
            task.cancel()
            self.record("connection closed", kind=EventKind.CLOSE)
