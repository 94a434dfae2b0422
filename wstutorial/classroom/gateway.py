"""One chat room, students on several processes: the room's gateway over Redis.

``classroom --workers N`` keeps the room (:class:`~.room.ChatRoom`: names,
members, history, readings, the progress board, the teacher's page) in ONE
process, the classroom's own. The N worker processes only hold students'
WebSocket connections on ``/chat`` (and serve ``/ws``, ``/streaming``, the
pages): they forward what each student does to the room, and deliver what the
room sends back. So a name stays unique across processes, member lists are
right, and the rate limits still apply (the room enforces them; each worker
enforces the maximum message size).

Redis pub/sub carries JSON envelopes, each naming a connection by
``worker`` (a random id per worker process) and ``conn`` (its number there):

- into the room, on ``PREFIX:in``:
  ``{"op": "join", "worker", "conn", "name", "address"}``,
  ``{"op": "message", "worker", "conn", "text"}`` (``"binary": true`` for a
  binary message, whose bytes are not forwarded: the room refuses it anyway),
  ``{"op": "leave", "worker", "conn"}``;
- out to one worker, on ``PREFIX:out:WORKER``:
  ``{"op": "send", "text", "conns": [...]}`` (one text for several
  connections: a broadcast is one envelope per worker), ``{"op": "joined",
  "conn", "name"}``, ``{"op": "close", "conn", "code", "reason"}``;
- out to every worker, on ``PREFIX:out``: ``{"op": "stream", "running"}``
  (the teacher started or stopped the part-2 stream).

Besides, each worker reports who is connected on its ``/ws`` and
``/streaming``, for the teacher's page, on ``PREFIX:in``, a moment after each
change: ``{"op": "connections", "worker", "paths": {path: [labels]},
"counts": {path: n}, "unnamed": {path: [labels]}}`` (at most 100 labels a
path; ``counts`` says how many; ``unnamed``: those of clients without a name,
``client-N from IP``, which every worker numbers from 1: the room adds the
worker's number to them, ``client-3 from 127.0.0.1 (worker 2)``).

What it does not do: pub/sub stores nothing, so an envelope published while
Redis or a worker is away is lost; a worker that dies drops its students
(they reconnect, to another worker if a balancer is in front); the room's
process is still one process (it handles every chat message, only the
sockets and their sending are spread).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
from typing import Any, Callable

from ..chatrules import CLOSE_POLICY, NameRejected
from ..events import EventKind, EventLog
from ..protocol import close_reason, describe_message
from ..server.handlers import TutorialHandler
from .connections import (
    CONNECTIONS_DELAY,
    MAX_LISTED,
    WORKER_PATHS,
    RemoteConnections,
    connection_label,
    connection_name,
)
from .room import ChatRoom

__all__ = ["RoomGateway", "WorkerLink", "RemoteChatHandler", "DEFAULT_PREFIX", "inbox", "outbox"]

DEFAULT_PREFIX = "wstutorial:classroom"


def inbox(prefix: str) -> str:
    """The channel the room listens on."""
    return f"{prefix}:in"


def outbox(prefix: str, worker: str | None = None) -> str:
    """The channel of one worker, or (``worker=None``) of every worker."""
    return f"{prefix}:out" if worker is None else f"{prefix}:out:{worker}"


class _Publisher:
    """Publishes envelopes in order, from a queue, on the running event loop."""

    def __init__(self, redis: Any, events: EventLog) -> None:
        self.redis = redis
        self.events = events
        self.queue: asyncio.Queue[tuple[str, str] | None] = asyncio.Queue()
        self.task = asyncio.create_task(self._run())

    def put(self, channel: str, envelope: dict[str, Any]) -> None:
        self.queue.put_nowait((channel, json.dumps(envelope)))

    async def _run(self) -> None:
        while (item := await self.queue.get()) is not None:
            try:
                await self.redis.publish(*item)
            except Exception as error:  # Redis away: this envelope is lost (pub/sub keeps nothing)
                self.events.record(f"could not publish to Redis ({error}); a chat envelope was lost", kind=EventKind.ERROR)

    async def stop(self) -> None:
        self.queue.put_nowait(None)
        try:
            await asyncio.wait_for(self.task, 3)
        except (asyncio.TimeoutError, asyncio.CancelledError):
            self.task.cancel()


async def _subscribe(redis_url: str, channels: list[str]) -> tuple[Any, Any]:
    import redis.asyncio  # the [notebook] extra

    client = redis.asyncio.Redis.from_url(redis_url)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    try:
        await pubsub.subscribe(*channels)
    except (OSError, redis.exceptions.ConnectionError) as error:
        await client.aclose()
        raise ConnectionError(f"cannot reach Redis at {redis_url} ({error}); is redis-server running there?") from None
    return client, pubsub


async def _listen(pubsub: Any, handle: Callable[[dict[str, Any]], None], events: EventLog) -> None:
    import redis.exceptions

    while True:
        try:
            async for message in pubsub.listen():
                if message.get("type") != "message":
                    continue
                try:
                    envelope = json.loads(message["data"])
                    handle(envelope)
                except Exception as error:  # one bad envelope must not stop the others
                    events.record(f"chat gateway ignored an envelope: {error!r}", kind=EventKind.ERROR)
        except (OSError, redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as error:
            events.record(f"chat gateway lost Redis ({error}); trying again in 1 s", kind=EventKind.ERROR)
            await asyncio.sleep(1)


class _RedisLink:
    """What both sides hold: a Redis connection, a subscription read by a task, a publisher."""

    events: EventLog
    redis_url: str

    def __init__(self) -> None:
        self._redis: Any = None
        self._pubsub: Any = None
        self._listener: asyncio.Task[None] | None = None
        self._publisher: _Publisher | None = None

    async def _connect(self, channels: list[str]) -> None:
        """Subscribe to ``channels`` (returns once Redis confirmed it) and start reading them into ``handle``."""
        self._redis, self._pubsub = await _subscribe(self.redis_url, channels)
        self._publisher = _Publisher(self._redis, self.events)
        self._listener = asyncio.create_task(_listen(self._pubsub, self.handle, self.events))

    def handle(self, envelope: dict[str, Any]) -> None:
        raise NotImplementedError

    async def _disconnect(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
        if self._publisher is not None:
            await self._publisher.stop()
            self._publisher = None
        if self._pubsub is not None:
            await self._pubsub.aclose()
        if self._redis is not None:
            await self._redis.aclose()


class RoomGateway(_RedisLink):
    """The room's side, on the classroom server's loop: workers' students become room members."""

    def __init__(
        self, room: ChatRoom, redis_url: str, events: EventLog, prefix: str = DEFAULT_PREFIX,
        remote: RemoteConnections | None = None,
    ) -> None:
        self.room = room
        self.remote = remote if remote is not None else RemoteConnections()  # the workers' /ws and /streaming
        self.redis_url = redis_url
        self.events = events
        self.prefix = prefix
        self.names: dict[tuple[str, int], str] = {}  # (worker, conn) -> the member's name
        # What the room sent during this turn of the loop, per worker: runs of (text, [conns]).
        self._pending: dict[str, list[tuple[str, list[int]]]] = {}
        super().__init__()
        self._worker_ids: dict[str, str] = {}  # "worker 1" (the cluster's name) -> its id in envelopes
        self._gone: set[str] = set()  # ids of workers that died: a report still on its way is ignored
        self._unsubscribe: Callable[[], None] | None = None

    async def start(self) -> None:
        """Subscribe to the inbox; returns once Redis confirmed it. Server loop only."""
        await self._connect([inbox(self.prefix)])
        # The teacher's start/stop of the stream reaches the room's watchers: pass it on to the workers.
        self.room.watch(self, self._watch)
        loop = asyncio.get_running_loop()

        def on_event(event: Any) -> None:  # in the recording thread (a cluster's reader): over to the loop
            if event.text.startswith("chat link ") and event.client:
                loop.call_soon_threadsafe(self._worker_ids.__setitem__, event.client, event.text.split()[2])
            elif event.kind == EventKind.ERROR and " exited unexpectedly" in event.text:
                loop.call_soon_threadsafe(self.drop_worker, event.text.split(" exited")[0])

        self._unsubscribe = self.events.subscribe(on_event)

    def drop_worker(self, label: str) -> int:
        """A worker process died: its students leave the room (their names are free again). Returns how many."""
        worker = self._worker_ids.pop(label, None)
        if worker is not None:
            self._gone.add(worker)
            self.remote.drop(worker)
        gone = [key for key in self.names if key[0] == worker]
        for key in gone:
            self.room.leave(self.names.pop(key))
        if gone:
            self.events.record(f"{label} is gone: {len(gone)} of its students left the chat room", kind=EventKind.CLOSE, path="/chat")
        return len(gone)

    def handle(self, envelope: dict[str, Any]) -> None:
        """One envelope from a worker: a join, a message or a leave."""
        op, worker, conn = envelope.get("op"), str(envelope.get("worker")), int(envelope.get("conn", -1))
        key = (worker, conn)
        if op == "join":
            try:
                member = self.room.join(envelope.get("name", ""), self._sender(worker, conn), str(envelope.get("address", "")))
            except NameRejected as error:
                self._publish_now(worker, {"op": "close", "conn": conn, "code": CLOSE_POLICY, "reason": str(error)})
                return
            self.names[key] = member.name
            self._publish_now(worker, {"op": "joined", "conn": conn, "name": member.name})
        elif op == "message" and key in self.names:
            text = b"" if envelope.get("binary") else str(envelope.get("text", ""))
            verdict = self.room.receive(self.names[key], text)
            if verdict.close_code is not None:
                self._publish_now(worker, {"op": "close", "conn": conn, "code": verdict.close_code, "reason": verdict.close_reason})
        elif op == "leave" and key in self.names:
            self.room.leave(self.names.pop(key))
        elif op == "connections" and worker not in self._gone:
            self.remote.update(worker, self._tagged(worker, envelope), dict(envelope.get("counts") or {}))

    def _tagged(self, worker: str, envelope: dict[str, Any]) -> dict[str, list[str]]:
        """A worker's labels, its unnamed clients' with the worker's number: each worker counts its clients from 1."""
        # "worker 2", as the cluster names the process (its "chat link" event); the id if that is not known yet.
        where = next((label for label, known in self._worker_ids.items() if known == worker), f"worker {worker}")
        unnamed = dict(envelope.get("unnamed") or {})
        tagged: dict[str, list[str]] = {}
        for path, labels in dict(envelope.get("paths") or {}).items():
            plain = set(unnamed.get(path) or ())
            tagged[path] = [f"{label} ({where})" if label in plain else str(label) for label in labels]
        return tagged

    def _sender(self, worker: str, conn: int) -> Callable[[str], None]:
        def send(text: str) -> None:
            runs = self._pending.get(worker)
            if runs is None:
                runs = self._pending[worker] = []
                if len(self._pending) == 1:
                    asyncio.get_running_loop().call_soon(self._flush)
            if runs and runs[-1][0] == text:
                runs[-1][1].append(conn)  # a broadcast: one envelope for all of this worker's students
            else:
                runs.append((text, [conn]))

        return send

    def _flush(self) -> None:
        pending, self._pending = self._pending, {}
        for worker, runs in pending.items():
            for text, conns in runs:
                self._publish(worker, {"op": "send", "text": text, "conns": conns})

    def _publish_now(self, worker: str | None, envelope: dict[str, Any]) -> None:
        self._flush()  # what the room sent before this goes first
        self._publish(worker, envelope)

    def _publish(self, worker: str | None, envelope: dict[str, Any]) -> None:
        if self._publisher is not None:
            self._publisher.put(outbox(self.prefix, worker), envelope)

    def _watch(self, text: str) -> None:
        message = json.loads(text)
        if message.get("type") == "stream":
            self._publish_now(None, {"op": "stream", "running": bool(message["running"])})

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        self.room.unwatch(self)
        for name in self.names.values():
            self.room.leave(name)
        self.names.clear()
        for worker in list(self.remote.labels):
            self.remote.drop(worker)
        await self._disconnect()


class WorkerLink(_RedisLink):
    """A worker's side: forwards its ``/chat`` students to the room and delivers the room's answers."""

    def __init__(self, redis_url: str, events: EventLog, prefix: str = DEFAULT_PREFIX) -> None:
        self.redis_url = redis_url
        self.events = events
        self.prefix = prefix
        self.worker = secrets.token_hex(6)  # unique across processes and machines
        self.handlers: dict[int, "RemoteChatHandler"] = {}
        self._numbers = itertools.count(1)
        self.stream: Any = None  # this worker's part-2 stream, paused and resumed by the teacher
        self.hub: Any = None
        self._report: asyncio.TimerHandle | None = None
        self._unsubscribe: Callable[[], None] | None = None
        super().__init__()

    async def start(self, app: Any) -> None:
        self.stream = app.context.stream
        self.hub = app.context.hub
        await self._connect([outbox(self.prefix, self.worker), outbox(self.prefix)])
        loop = asyncio.get_running_loop()

        def on_event(event: Any) -> None:  # in the recording thread: over to the loop
            if event.kind in (EventKind.OPEN, EventKind.CLOSE) and event.path in WORKER_PATHS:
                loop.call_soon_threadsafe(self._connections_changed)

        self._unsubscribe = self.events.subscribe(on_event)
        # The classroom learns which worker process this id is (the cluster tags the event "worker N").
        self.events.record(f"chat link {self.worker} subscribed to the room's channels", kind=EventKind.RELAY)

    def _connections_changed(self) -> None:
        # Connections come in bursts (a class pressing Run All): one report per burst.
        if self._report is None and self._publisher is not None:
            self._report = asyncio.get_running_loop().call_later(CONNECTIONS_DELAY, self.report_connections)

    def report_connections(self) -> None:
        """Tell the room who is connected here on ``/ws`` and ``/streaming`` (for the teacher's page)."""
        self._report = None
        paths: dict[str, list[str]] = {}
        counts: dict[str, int] = {}
        unnamed: dict[str, list[str]] = {}
        for path in WORKER_PATHS:
            handlers = list(self.hub.open_handlers(path))
            labels = sorted((connection_label(handler) for handler in handlers), key=str.casefold)
            paths[path] = labels[:MAX_LISTED]
            counts[path] = len(labels)
            plain = {connection_label(handler) for handler in handlers if not connection_name(handler)}
            unnamed[path] = [label for label in paths[path] if label in plain]
        self.forward({"op": "connections", "paths": paths, "counts": counts, "unnamed": unnamed})

    def add(self, handler: "RemoteChatHandler", name: str, address: str) -> int:
        conn = next(self._numbers)
        self.handlers[conn] = handler
        self.forward({"op": "join", "conn": conn, "name": name, "address": address})
        return conn

    def forward(self, envelope: dict[str, Any]) -> None:
        if self._publisher is not None:
            self._publisher.put(inbox(self.prefix), {**envelope, "worker": self.worker})

    def handle(self, envelope: dict[str, Any]) -> None:
        op = envelope.get("op")
        if op == "send":
            text = str(envelope["text"])
            for conn in envelope.get("conns", ()):
                handler = self.handlers.get(int(conn))
                if handler is not None:
                    handler.hub.send(handler, text)
        elif op == "joined":
            handler = self.handlers.get(int(envelope["conn"]))
            if handler is not None:
                handler.joined(str(envelope["name"]))
        elif op == "close":
            handler = self.handlers.get(int(envelope["conn"]))
            if handler is not None:
                handler.closed_by_room(int(envelope["code"]), str(envelope["reason"]))
        elif op == "stream" and self.stream is not None:
            if envelope.get("running"):
                self.stream.resume()
            else:
                self.stream.pause()

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self._report is not None:
            self._report.cancel()
            self._report = None
        await self._disconnect()


class RemoteChatHandler(TutorialHandler):
    """``/chat?name=...`` on a worker: the student's socket here, their membership in the room."""

    member_name: str | None = None
    conn: int | None = None

    def initialize(self, context: Any, link: WorkerLink) -> None:  # type: ignore[override]
        super().initialize(context)
        self.link = link

    def open(self, *args: Any, **kwargs: Any) -> None:
        self.conn = self.link.add(self, self.get_argument("name", ""), self.request.remote_ip or "")

    def joined(self, name: str) -> None:
        self.member_name = self.client_name = name
        self.record(f"{name} joined the chat", kind=EventKind.OPEN)

    def closed_by_room(self, code: int, reason: str) -> None:
        self.record(f"closed by the room: {reason}", kind=EventKind.CLOSE)
        self.close(code, close_reason(reason))

    def on_message(self, message: str | bytes) -> None:
        if self.conn is None:
            return
        if isinstance(message, bytes):
            self.link.forward({"op": "message", "conn": self.conn, "binary": True})
        else:
            self.link.forward({"op": "message", "conn": self.conn, "text": message})
            if self.member_name is not None:
                self.record(f"chat {describe_message(message)}", kind=EventKind.MESSAGE)

    def on_close(self) -> None:
        if self.conn is not None:
            self.link.handlers.pop(self.conn, None)
            self.link.forward({"op": "leave", "conn": self.conn})
            if self.member_name is not None:
                self.record(f"{self.member_name} left the chat", kind=EventKind.CLOSE)
            self.conn = None
