"""One process's link to Redis: channels it reads, messages it publishes in order, and one way back after an outage.

Both users of Redis in the package hold one of these: the cluster's
:class:`~.relay.Relay` (a broadcast to every process) and the classroom's
gateway (``classroom/gateway.py``: one chat room, students on several
processes); a classroom worker shares ONE link between the two.

What it does when Redis goes away (stopped, restarted, the network gone):

- it records ONE ``error`` event naming the outage and calls the ``on_lost``
  listeners (the gateway tells its students);
- while lost, :meth:`RedisLink.publish` refuses at once (returns False): pub/sub
  keeps nothing for later, so the caller says what was not delivered to whom;
- it tries again after 0.1 s, then twice as long each time, at most
  :data:`RETRY_MAX` seconds apart, silently;
- once Redis answers, it subscribes to every channel again, waits until Redis
  confirmed it, records one ``relay`` event saying how long Redis was away, and
  calls the ``on_back`` listeners (the gateway's workers re-announce their
  students, so the room can reconcile).

A message published with a ``done`` callback learns how it went:
``done(n)`` with the number of subscribers that received it (0: nobody was
listening on that channel, e.g. a process not yet subscribed again), or
``done(None)`` when Redis could not be reached.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any, Awaitable, Callable, Iterable

from ..events import EventKind, EventLog

__all__ = ["RedisLink", "RETRY_FIRST", "RETRY_MAX", "CONNECT_TIMEOUT", "PUBLISH_TIMEOUT"]

# After an outage: the first attempt after RETRY_FIRST seconds, doubling up to RETRY_MAX.
RETRY_FIRST = 0.1
RETRY_MAX = 5.0
# A Redis that does not answer at all (a firewall dropping packets) counts as away after this long.
CONNECT_TIMEOUT = 3.0
PUBLISH_TIMEOUT = 5.0

Done = Callable[[int | None], None]
Listener = Callable[[], "Awaitable[None] | None"]


def _redis_errors() -> tuple[type[BaseException], ...]:
    import redis.exceptions

    return (OSError, asyncio.TimeoutError, redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


class RedisLink:
    """A Redis connection for one process: subscriptions read by a task, a publisher, one backoff. Event loop only.

    ``name`` says whose link it is in events (``"relay"``, ``"chat link"``).
    Add channels with :meth:`subscribe` before :meth:`start` (or after: they
    are subscribed at once), listeners with :meth:`watch`.
    """

    def __init__(self, redis_url: str, events: EventLog, name: str = "Redis link") -> None:
        self.redis_url = redis_url
        self.events = events
        self.name = name
        self.available = False
        self.outages = 0
        self.retries = 0  # attempts that failed in the current outage (none logged)
        self._handlers: dict[str, Callable[[bytes], object]] = {}
        self._lost_listeners: list[Listener] = []
        self._back_listeners: list[Listener] = []
        self._client: Any = None
        self._pubsub: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._queue: asyncio.Queue[tuple[str, str, Done | None] | None] | None = None
        self._publisher: asyncio.Task[None] | None = None
        self._stopping = False

    # -- set-up -------------------------------------------------------------------

    async def subscribe(self, channels: Iterable[str], handler: Callable[[bytes], object]) -> None:
        """Call ``handler(data)`` for each message on ``channels`` (now, and again after every outage)."""
        channels = list(channels)
        new = [channel for channel in channels if channel not in self._handlers]
        for channel in channels:
            self._handlers[channel] = handler
        if self.available and new:
            # The reader owns the connection's replies: no waiting for the confirmation here.
            await self._pubsub.subscribe(*new)

    def watch(self, on_lost: Listener | None = None, on_back: Listener | None = None) -> None:
        """Call ``on_lost()`` when Redis goes away and ``on_back()`` once it is back and every channel subscribed again."""
        if on_lost is not None:
            self._lost_listeners.append(on_lost)
        if on_back is not None:
            self._back_listeners.append(on_back)

    async def start(self) -> None:
        """Connect and subscribe; returns once Redis confirmed it. ``ConnectionError`` (a sentence) when Redis cannot be reached."""
        if self._reader is not None:
            return
        try:
            await self._connect()
        except _redis_errors() as error:
            raise ConnectionError(
                f"cannot reach Redis at {self.redis_url} ({error or type(error).__name__}); is redis-server running there?"
            ) from None
        except ValueError as error:  # redis-py's sentence does not show the URL
            raise ValueError(f"{error}: got {self.redis_url!r}, e.g. redis://127.0.0.1:6379/0") from None
        self._queue = asyncio.Queue()
        self._publisher = asyncio.create_task(self._publish_in_order())
        self._reader = asyncio.create_task(self._read())

    async def _connect(self) -> None:
        import redis.asyncio
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        # No retries inside redis-py: an error reaches us at once, and this
        # class alone decides when to try again (one backoff, one event).
        client = redis.asyncio.Redis.from_url(
            self.redis_url, retry=Retry(NoBackoff(), 0), socket_connect_timeout=CONNECT_TIMEOUT
        )
        pubsub = client.pubsub()
        try:
            await asyncio.wait_for(self._subscribe_confirmed(pubsub, list(self._handlers)), CONNECT_TIMEOUT)
        except BaseException:
            await self._close(client, pubsub)
            raise
        self._client, self._pubsub = client, pubsub
        self.available = True

    async def _subscribe_confirmed(self, pubsub: Any, channels: list[str]) -> None:
        """SUBSCRIBE, then read until Redis confirmed every channel: a message published after this returns reaches us."""
        if not channels:
            return
        await pubsub.subscribe(*channels)
        waiting = set(channels)
        while waiting:
            message = await pubsub.get_message(timeout=CONNECT_TIMEOUT)
            if message is None:
                raise asyncio.TimeoutError(f"Redis did not confirm the subscription to {sorted(waiting)}")
            if message.get("type") == "subscribe":
                channel = message["channel"]
                waiting.discard(channel.decode() if isinstance(channel, bytes) else str(channel))
            elif message.get("type") == "message":  # on a channel confirmed already: it counts
                self._deliver(message)

    # -- reading ------------------------------------------------------------------

    async def _read(self) -> None:
        if not self._handlers:  # a link that only publishes: its publish errors tell of an outage
            await asyncio.Event().wait()
        while True:
            try:
                while True:
                    message = await self._pubsub.get_message(timeout=None)
                    if message is not None and message.get("type") == "message":
                        self._deliver(message)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # redis-py's errors, OSError: Redis is away
                if self._stopping:
                    return
                await self._come_back(error)

    def _deliver(self, message: dict[str, Any]) -> None:
        channel = message["channel"]
        handler = self._handlers.get(channel.decode() if isinstance(channel, bytes) else str(channel))
        if handler is None:
            return
        try:
            handler(message["data"])
        except Exception as error:  # one bad message must not stop the others
            self.events.record(f"{self.name} ignored a message from Redis: {error!r}", kind=EventKind.ERROR)

    async def _come_back(self, error: BaseException) -> None:
        """Redis is away: say so once, tell the listeners, try again with a growing delay until it is back."""
        loop = asyncio.get_running_loop()
        lost_at = loop.time()
        self.available = False
        self.outages += 1
        self.events.record(
            f"{self.name} lost Redis at {self.redis_url} ({error or type(error).__name__}); "
            f"trying again, at most {RETRY_MAX:g} s apart, without a line per try",
            kind=EventKind.ERROR,
        )
        await self._notify(self._lost_listeners)
        await self._close(self._client, self._pubsub)
        self._client = self._pubsub = None
        delay = RETRY_FIRST
        self.retries = 0
        while True:
            await asyncio.sleep(delay)
            try:
                await self._connect()
                break
            except Exception:  # whatever stops the connection (refused, a timeout, a Redis still loading): still away
                self.retries += 1
                delay = min(delay * 2, RETRY_MAX)
        self.events.record(
            f"{self.name}: Redis is back after {loop.time() - lost_at:.1f} s; subscribed again to {len(self._handlers)} channel(s)",
            kind=EventKind.RELAY,
        )
        await self._notify(self._back_listeners)

    async def _notify(self, listeners: list[Listener]) -> None:
        for listener in list(listeners):
            try:
                result = listener()
                if inspect.isawaitable(result):
                    await result
            except Exception as error:
                self.events.record(f"{self.name}: a listener failed: {error!r}", kind=EventKind.ERROR)

    # -- publishing ---------------------------------------------------------------

    def publish(self, channel: str, text: str, done: Done | None = None) -> bool:
        """Queue ``text`` for ``channel`` (sent in order); False at once, nothing queued, while Redis is away.

        ``done(n)`` is called once it was sent (``n`` subscribers got it) or
        failed (``None``).
        """
        if not self.available or self._queue is None:
            return False
        self._queue.put_nowait((channel, text, done))
        return True

    async def _publish_in_order(self) -> None:
        assert self._queue is not None
        while (item := await self._queue.get()) is not None:
            channel, text, done = item
            receivers: int | None
            try:
                if self._client is None:
                    raise ConnectionError("Redis is away")
                receivers = int(await asyncio.wait_for(self._client.publish(channel, text), PUBLISH_TIMEOUT))
            except Exception:  # not sent, whatever the reason: the caller says so; the reader notices an outage
                receivers = None
            if done is not None:
                try:
                    done(receivers)
                except Exception as error:
                    self.events.record(f"{self.name}: after publishing: {error!r}", kind=EventKind.ERROR)

    # -- stopping -----------------------------------------------------------------

    @staticmethod
    async def _close(client: Any, pubsub: Any) -> None:
        for thing in (pubsub, client):
            if thing is not None:
                try:
                    await thing.aclose()
                except Exception:  # already broken: nothing more to close
                    pass

    async def stop(self) -> None:
        """Send what is queued (a few seconds at most), then close. Safe twice."""
        self._stopping = True
        if self._queue is not None and self._publisher is not None:
            self._queue.put_nowait(None)
            try:
                await asyncio.wait_for(self._publisher, 3)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                self._publisher.cancel()
            self._publisher = None
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
            self._reader = None
        self.available = False
        await self._close(self._client, self._pubsub)
        self._client = self._pubsub = None
