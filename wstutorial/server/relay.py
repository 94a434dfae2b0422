"""A broadcast that reaches the clients of every process, through Redis pub/sub.

One process only knows its own WebSocket connections. With several
processes (a cluster, several machines), a message for "everyone" is
*published* on a Redis channel; every process *subscribes* to that channel
and sends what arrives to its own clients. Redis delivers each published
message to every subscriber at that moment (and keeps nothing for a
subscriber that is not connected: pub/sub is fire-and-forget).

The message on the channel is JSON: ``{"path": "/updates", "text": "..."}``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from ..events import EventKind, EventLog
from .handlers import TutorialHandler
from .hub import Hub

__all__ = ["Relay", "UpdatesHandler", "encode", "decode", "publish", "DEFAULT_CHANNEL"]

DEFAULT_CHANNEL = "wstutorial:broadcast"
# When Redis goes away: first retry after this many seconds, doubling up to RETRY_MAX.
RETRY_FIRST = 0.1
RETRY_MAX = 5.0


def encode(path: str, text: str) -> str:
    """The channel message asking every process to send ``text`` to its clients on ``path``."""
    if not isinstance(path, str) or not path.startswith("/"):
        raise ValueError(f"path must start with '/', e.g. '/updates', got {path!r}")
    if not isinstance(text, str):
        raise TypeError(f"a broadcast through Redis is text (str), got {type(text).__name__}")
    return json.dumps({"path": path, "text": text})


def decode(data: str | bytes) -> tuple[str, str]:
    """``(path, text)`` from a channel message; ``ValueError`` (saying why) for anything else."""
    try:
        message = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise ValueError(f"a broadcast must be JSON like {{\"path\": ..., \"text\": ...}}, got {data[:80]!r}") from None
    if not isinstance(message, dict) or not isinstance(message.get("path"), str) or not isinstance(message.get("text"), str):
        raise ValueError(f"a broadcast needs a string 'path' and a string 'text', got {str(message)[:80]}")
    if not message["path"].startswith("/"):
        raise ValueError(f"a broadcast's path must start with '/', got {message['path']!r}")
    return message["path"], message["text"]


def publish(redis_url: str, path: str, text: str, channel: str = DEFAULT_CHANNEL) -> int:
    """Publish a broadcast from any program; returns how many subscribers (processes) got it."""
    import redis as redis_sync  # the blocking client: no event loop needed

    client = redis_sync.Redis.from_url(redis_url)
    try:
        return int(client.publish(channel, encode(path, text)))
    finally:
        client.close()


class UpdatesHandler(TutorialHandler):
    """``/updates``: a client that only listens; it gets every broadcast of every process."""

    def open(self, *args: Any, **kwargs: Any) -> None:
        self.record("new connection", kind=EventKind.OPEN)

    def on_message(self, message: str | bytes) -> None:
        self.record("this path only sends; ignored a message from the client", kind=EventKind.MESSAGE)

    def on_close(self) -> None:
        self.record("connection closed", kind=EventKind.CLOSE)


class Relay:
    """Subscribes to ``channel`` and sends each broadcast to this process's clients.

    Runs on the server's event loop (like the hub it sends through).
    """

    def __init__(self, hub: Hub, redis_url: str, channel: str = DEFAULT_CHANNEL) -> None:
        self.hub = hub
        self.redis_url = redis_url
        self.channel = channel
        self.relayed = 0
        self._redis: Any = None
        self._pubsub: Any = None
        self._task: asyncio.Task[None] | None = None

    @property
    def events(self) -> EventLog:
        return self.hub.events

    async def start(self) -> None:
        """Subscribe; returns once Redis confirmed the subscription (later broadcasts arrive)."""
        import redis.asyncio  # the [notebook] extra; the lean install has no Redis client

        self._redis = redis.asyncio.Redis.from_url(self.redis_url)
        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        try:
            await self._pubsub.subscribe(self.channel)
        except (OSError, redis.exceptions.ConnectionError) as error:
            await self._redis.aclose()
            raise ConnectionError(
                f"cannot reach Redis at {self.redis_url} ({error}); is redis-server running there?"
            ) from None
        self._task = asyncio.create_task(self._run())
        self.events.record(f"subscribed to Redis channel {self.channel!r}", kind=EventKind.RELAY)

    async def _run(self) -> None:
        import redis.exceptions

        delay = RETRY_FIRST
        while True:
            try:
                async for message in self._pubsub.listen():
                    delay = RETRY_FIRST
                    if message.get("type") == "message":
                        self.deliver(message["data"])
            except (OSError, redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as error:
                # Redis restarted or the network dropped: broadcasts published
                # meanwhile are lost (pub/sub keeps nothing). redis-py
                # subscribes again by itself once it has reconnected.
                self.events.record(f"relay lost Redis ({error}); trying again in {delay:g} s", kind=EventKind.ERROR)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX)

    def deliver(self, data: str | bytes) -> int:
        """Send one channel message to this process's clients; returns how many."""
        try:
            path, text = decode(data)
        except ValueError as error:
            self.events.record(f"relay ignored a message: {error}", kind=EventKind.ERROR)
            return 0
        sent = self.hub.broadcast(path, text)
        self.relayed += 1
        self.events.record(f"broadcast from Redis sent to {sent} clients on {path}", kind=EventKind.RELAY, path=path)
        return sent

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
        if self._pubsub is not None:
            await self._pubsub.aclose()
        if self._redis is not None:
            await self._redis.aclose()
