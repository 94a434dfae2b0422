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

import json
from typing import Any

from ..events import EventKind, EventLog
from ..jsontext import loads
from .handlers import TutorialHandler
from .hub import Hub
from .redislink import RedisLink

__all__ = ["Relay", "UpdatesHandler", "encode", "decode", "publish", "DEFAULT_CHANNEL"]

DEFAULT_CHANNEL = "wstutorial:broadcast"


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
        message = loads(data)
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

    Runs on the server's event loop (like the hub it sends through), on a
    :class:`~.redislink.RedisLink` of its own or one it shares (a classroom
    worker's). When Redis goes away, broadcasts published meanwhile are lost
    (pub/sub keeps nothing); the link comes back by itself.
    """

    def __init__(self, hub: Hub, redis_url: str, channel: str = DEFAULT_CHANNEL, link: RedisLink | None = None) -> None:
        self.hub = hub
        self.redis_url = redis_url
        self.channel = channel
        self.relayed = 0
        self.link = link if link is not None else RedisLink(redis_url, hub.events, "relay")
        self._owns_link = link is None

    @property
    def events(self) -> EventLog:
        return self.hub.events

    async def start(self) -> None:
        """Subscribe; returns once Redis confirmed the subscription (later broadcasts arrive)."""
        await self.link.subscribe([self.channel], self.deliver)
        await self.link.start()  # a shared link starts once, with every channel of the process
        self.events.record(f"subscribed to Redis channel {self.channel!r}", kind=EventKind.RELAY)

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
        if self._owns_link:
            await self.link.stop()
