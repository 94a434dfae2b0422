"""RedisLink, the one Redis link of a process: publishing with a verdict, one line per outage, a growing delay, back by itself."""

from __future__ import annotations

import asyncio

import pytest

from helpers import free_port, wait_until
from wstutorial.events import EventLog
from wstutorial.server.redislink import RedisLink
from wstutorial.services.redisserver import start_redis


def test_an_unreachable_redis_is_one_sentence() -> None:
    """start() against a port where nothing listens: ConnectionError naming the URL and what to check."""
    link = RedisLink(f"redis://127.0.0.1:{free_port()}/0", EventLog(), "test link")

    async def run() -> None:
        await link.subscribe(["ch"], lambda data: None)
        with pytest.raises(ConnectionError, match="cannot reach Redis at redis://127.0.0.1:.*is redis-server running there"):
            await link.start()

    asyncio.run(run())


def test_publish_says_how_it_went_and_the_link_comes_back() -> None:
    """done(n) with the receivers; while Redis is away publish() refuses at once; one line per outage, not per try; back by itself."""
    redis = start_redis(reuse=False)
    port = redis.port
    events = EventLog()
    link = RedisLink(redis.url, events, "test link")
    received: list[bytes] = []
    verdicts: list[int | None] = []

    async def run() -> None:
        nonlocal redis
        await link.subscribe(["ch"], received.append)
        await link.start()
        assert link.publish("ch", "one", verdicts.append) and link.publish("nobody", "two", verdicts.append)
        await wait_until(lambda: len(verdicts) == 2 and received == [b"one"])
        assert verdicts == [1, 0]  # one subscriber (this link), then nobody listening
        redis.stop()
        await wait_until(lambda: not link.available)
        assert not link.publish("ch", "while away", verdicts.append)  # refused at once, nothing queued
        await wait_until(lambda: link.retries >= 3)  # 0.1 + 0.2 + 0.4 s of tries, none of them a line
        assert len([text for text in events.texts() if "lost Redis" in text]) == 1
        redis = start_redis(port=port, reuse=False)
        await wait_until(lambda: link.available, timeout=20)
        assert link.publish("ch", "three", verdicts.append)
        await wait_until(lambda: received == [b"one", b"three"])
        assert verdicts == [1, 0, 1] and link.outages == 1
        await link.stop()

    try:
        asyncio.run(run())
    finally:
        redis.stop()
    back = [text for text in events.texts() if "Redis is back" in text]
    assert len(back) == 1 and "subscribed again to 1 channel(s)" in back[0]
