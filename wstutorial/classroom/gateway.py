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
  ``{"op": "join", "worker", "conn", "name", "address", "secret", "rehearsal"}``
  (``secret``: the student's rejoin secret, ``board.py``),
  ``{"op": "message", "worker", "conn", "text"}`` (``"binary": true`` for a
  binary message, whose bytes are not forwarded: the room refuses it anyway),
  ``{"op": "leave", "worker", "conn"}``;
- out to one worker, on ``PREFIX:out:WORKER``:
  ``{"op": "send", "text", "conns": [...]}`` (one text for several
  connections: a broadcast is one envelope per worker), ``{"op": "joined",
  "conn", "name"}``, ``{"op": "close", "conn", "code", "reason"}``,
  ``{"op": "reconciled"}`` (after an outage: the room heard the worker's
  ``members`` again);
- out to every worker, on ``PREFIX:out``: ``{"op": "stream", "running"}``
  (the teacher started or stopped the part-2 stream).

Besides, each worker reports who is connected on its ``/ws`` and
``/streaming``, for the teacher's page, on ``PREFIX:in``, a moment after each
change: ``{"op": "connections", "worker", "paths": {path: [labels]},
"counts": {path: n}, "unnamed": {path: [labels]}}`` (at most 100 labels a
path; ``counts`` says how many; ``unnamed``: those of clients without a name,
``client-N from IP``, which every worker numbers from 1: the room adds the
worker's number to them, ``client-3 from 127.0.0.1 (worker 2)``).

When Redis is away (stopped, restarted; both sides hold one
:class:`~..server.redislink.RedisLink`, which logs one line per outage and
comes back with a growing delay):

- each worker tells its students with a ``notice``; a student who joins then
  is closed at once with 1013 (try again later) and a sentence, and a join
  the room never answered is closed the same way after
  :data:`JOIN_TIMEOUT` seconds;
- a chat line or result a worker's student sends then is NOT delivered later:
  the sender gets a ``notice`` saying it was not delivered (pub/sub keeps
  nothing, and a result the student's notebook keeps is sent again when it
  joins again);
- what the room sends to a worker's students meanwhile (other students' chat,
  presence) is held, at most :data:`MAX_HELD` envelopes a worker, and
  delivered once that worker is back;
- once Redis is back each worker re-announces its students
  (``{"op": "members", "worker", "members": {conn: name}}``) and the room
  reconciles: a student who left during the outage leaves the room (no ghost
  keeps the name), one the room had lost is closed with 1013 to join again,
  and the held envelopes and the stream's state follow. The room asks for
  the announcements too (``{"op": "announce"}`` to every worker) when its
  own link comes back. An envelope published while nobody listens on its
  channel (PUBLISH says 0 receivers) counts as not delivered, so the first
  broadcast after the return is held, not lost.

What it does not do: a worker that dies drops its students (they reconnect,
to another worker if a balancer is in front); the room's process is still
one process (it handles every chat message, only the sockets and their
sending are spread).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
from typing import Any, Callable

from ..chatrules import CLOSE_POLICY, NameRejected, dump
from ..events import EventKind, EventLog
from ..jsontext import loads
from ..messages import MessageType
from ..protocol import CloseCode, close_reason, describe_message
from ..server.handlers import TutorialHandler
from ..server.redislink import RedisLink
from .connections import (
    CONNECTIONS_DELAY,
    MAX_LISTED,
    WORKER_PATHS,
    RemoteConnections,
    connection_label,
    connection_name,
)
from .room import ChatRoom

__all__ = [
    "RoomGateway", "WorkerLink", "RemoteChatHandler", "DEFAULT_PREFIX", "inbox", "outbox", "JOIN_TIMEOUT", "MAX_HELD",
    "ROOM_AWAY", "NOT_DELIVERED",
]

DEFAULT_PREFIX = "wstutorial:classroom"
# A join the room has not answered within this many seconds is closed with 1013 (try again later).
JOIN_TIMEOUT = 5.0
# Envelopes for one worker kept while it cannot be reached; beyond this the oldest go (counted in an event).
MAX_HELD = 1000
# A worker that re-announced its students gets no answer (nobody listening on the room's channel): again after this long.
ANNOUNCE_RETRY = 0.5

ROOM_AWAY = "the chat room cannot be reached right now (its Redis link is down)"
NOT_DELIVERED = f"not delivered: {ROOM_AWAY}; send it again once the room is back"


def inbox(prefix: str) -> str:
    """The channel the room listens on."""
    return f"{prefix}:in"


def outbox(prefix: str, worker: str | None = None) -> str:
    """The channel of one worker, or (``worker=None``) of every worker."""
    return f"{prefix}:out" if worker is None else f"{prefix}:out:{worker}"


def _decode(data: bytes) -> dict[str, Any]:
    envelope = loads(data)
    if not isinstance(envelope, dict):
        raise ValueError(f"an envelope is a JSON object, got {str(envelope)[:60]}")
    return envelope


class RoomGateway:
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
        self.link = RedisLink(redis_url, events, "the chat room's link")
        self.names: dict[tuple[str, int], str] = {}  # (worker, conn) -> the member's name
        # What the room sent during this turn of the loop, per worker: runs of (text, [conns]).
        self._pending: dict[str, list[tuple[str, list[int]]]] = {}
        # Workers that cannot be reached now (an outage, or not subscribed again yet): their envelopes wait here.
        self._held: dict[str, list[dict[str, Any]]] = {}
        self._dropped_held = 0
        self._stream_running: bool | None = None  # as the teacher last set it (None: never touched)
        self._worker_ids: dict[str, str] = {}  # "worker 1" (the cluster's name) -> its id in envelopes
        self._gone: set[str] = set()  # ids of workers that died: a report still on its way is ignored
        self._unsubscribe: Callable[[], None] | None = None

    async def start(self) -> None:
        """Subscribe to the inbox; returns once Redis confirmed it. Server loop only."""
        await self.link.subscribe([inbox(self.prefix)], self._receive)
        self.link.watch(on_lost=self._lost, on_back=self._back)
        await self.link.start()
        # The teacher's start/stop of the stream reaches the room's watchers: pass it on to the workers.
        self.room.watch(self, self._watch)
        loop = asyncio.get_running_loop()

        def on_event(event: Any) -> None:  # in the recording thread (a cluster's reader): over to the loop
            if event.text.startswith("chat link ") and event.client:
                loop.call_soon_threadsafe(self._worker_ids.__setitem__, event.client, event.text.split()[2])
            elif event.kind == EventKind.ERROR and " exited unexpectedly" in event.text:
                loop.call_soon_threadsafe(self.drop_worker, event.text.split(" exited")[0])

        self._unsubscribe = self.events.subscribe(on_event)

    def _receive(self, data: bytes) -> None:
        self.handle(_decode(data))

    def _known_workers(self) -> set[str]:
        return {worker for worker, _ in self.names} | set(self.remote.labels) | set(self._worker_ids.values())

    def _lost(self) -> None:
        # Until each worker re-announces its students, what the room sends them waits.
        for worker in self._known_workers() - self._gone:
            self._held.setdefault(worker, [])

    def _back(self) -> None:
        # The workers' own links may have come back before ours: ask each to announce again.
        self.link.publish(outbox(self.prefix), json.dumps({"op": "announce"}))

    def drop_worker(self, label: str) -> int:
        """A worker process died: its students leave the room (their names are free again). Returns how many."""
        worker = self._worker_ids.pop(label, None)
        if worker is not None:
            self._gone.add(worker)
            self.remote.drop(worker)
            self._held.pop(worker, None)
        gone = [key for key in self.names if key[0] == worker]
        for key in gone:
            self.room.leave(self.names.pop(key))
        if gone:
            self.events.record(f"{label} is gone: {len(gone)} of its students left the chat room", kind=EventKind.CLOSE, path="/chat")
        return len(gone)

    def handle(self, envelope: dict[str, Any]) -> None:
        """One envelope from a worker: a join, a message, a leave, its members, its connections."""
        op, worker, conn = envelope.get("op"), str(envelope.get("worker")), int(envelope.get("conn", -1))
        key = (worker, conn)
        if op == "join":
            try:
                member = self.room.join(
                    envelope.get("name", ""), self._sender(worker, conn), str(envelope.get("address", "")),
                    secret=str(envelope.get("secret", "")), rehearsal=envelope.get("rehearsal") is True,
                )
            except NameRejected as error:
                self._publish_now(worker, {"op": "close", "conn": conn, "code": CLOSE_POLICY, "reason": str(error)})
                return
            self.names[key] = member.name
            # "joined" ahead of the welcome (already waiting in _pending): a student who has the welcome is
            # a member on their worker too, also if Redis goes away right then.
            self._publish(worker, {"op": "joined", "conn": conn, "name": member.name})
            self._flush()
        elif op == "message" and key in self.names:
            text = b"" if envelope.get("binary") else str(envelope.get("text", ""))
            verdict = self.room.receive(self.names[key], text)
            if verdict.close_code is not None:
                self._publish_now(worker, {"op": "close", "conn": conn, "code": verdict.close_code, "reason": verdict.close_reason})
        elif op == "leave" and key in self.names:
            self.room.leave(self.names.pop(key))
        elif op == "members" and worker not in self._gone:
            self._reconcile(worker, {int(number): str(name) for number, name in dict(envelope.get("members") or {}).items()})
        elif op == "connections" and worker not in self._gone:
            self.remote.update(worker, self._tagged(worker, envelope), dict(envelope.get("counts") or {}))

    def _reconcile(self, worker: str, members: dict[int, str]) -> None:
        """A worker's students after an outage: the room forgets who left meanwhile, and sends what waited."""
        ghosts = [key for key in self.names if key[0] == worker and key[1] not in members]
        for key in ghosts:
            self.room.leave(self.names.pop(key))
        held = self._held.pop(worker, [])
        for conn in members:
            if (worker, conn) not in self.names:  # the room never had them (their join was lost): join again
                reason = "the chat room lost your place while it could not be reached; join again"
                held.append({"op": "close", "conn": conn, "code": CloseCode.TRY_AGAIN_LATER, "reason": reason})
        if self._stream_running is not None:  # the teacher's last start or stop, which may have been lost
            held.append({"op": "stream", "running": self._stream_running})
        self.events.record(
            f"chat room reconciled with {self._label(worker)}: {len(members)} student(s) there, "
            f"{len(ghosts)} who left meanwhile removed, {len(held)} waiting envelope(s) sent",
            kind=EventKind.RELAY,
            path="/chat",
        )
        # First the word that the room hears this worker again (its students are told), then what waited.
        for envelope in [{"op": "reconciled"}, *held]:
            self._publish(worker, envelope)

    def _label(self, worker: str) -> str:
        return next((label for label, known in self._worker_ids.items() if known == worker), f"worker {worker}")

    def _tagged(self, worker: str, envelope: dict[str, Any]) -> dict[str, list[str]]:
        """A worker's labels, its unnamed clients' with the worker's number: each worker counts its clients from 1."""
        # "worker 2", as the cluster names the process (its "chat link" event); the id if that is not known yet.
        where = self._label(worker)
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
        if worker is None:
            self.link.publish(outbox(self.prefix), json.dumps(envelope))
            return
        if worker in self._held or not self.link.publish(
            outbox(self.prefix, worker), json.dumps(envelope), lambda receivers: self._published(worker, envelope, receivers)
        ):
            self._hold(worker, envelope)

    def _published(self, worker: str, envelope: dict[str, Any], receivers: int | None) -> None:
        if receivers or worker in self._gone:
            return
        # Nobody got it: the worker is away, and the envelope waits for its announcement. It may have
        # subscribed and announced in the meantime (its announcement overtaking this answer): ask again.
        if worker not in self._held:
            self.link.publish(outbox(self.prefix, worker), json.dumps({"op": "announce"}))
        self._hold(worker, envelope)

    def _hold(self, worker: str, envelope: dict[str, Any]) -> None:
        if worker in self._gone:
            return
        held = self._held.setdefault(worker, [])
        held.append(envelope)
        if len(held) > MAX_HELD:
            del held[0]
            if self._dropped_held == 0:
                self.events.record(f"{self._label(worker)} cannot be reached: the chat room keeps its newest {MAX_HELD} envelopes only", kind=EventKind.ERROR)
            self._dropped_held += 1

    def _watch(self, text: str) -> None:
        message = json.loads(text)
        if message.get("type") == MessageType.STREAM:
            self._stream_running = bool(message["running"])
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
        await self.link.stop()


class WorkerLink:
    """A worker's side: forwards its ``/chat`` students to the room and delivers the room's answers."""

    def __init__(self, redis_url: str, events: EventLog, prefix: str = DEFAULT_PREFIX, link: RedisLink | None = None) -> None:
        self.redis_url = redis_url
        self.events = events
        self.prefix = prefix
        self.worker = secrets.token_hex(6)  # unique across processes and machines
        self.link = link if link is not None else RedisLink(redis_url, events, "chat link")
        self._owns_link = link is None
        self.handlers: dict[int, "RemoteChatHandler"] = {}
        self._numbers = itertools.count(1)
        self.stream: Any = None  # this worker's part-2 stream, paused and resumed by the teacher
        self.hub: Any = None
        self._report: asyncio.TimerHandle | None = None
        self._announce: asyncio.TimerHandle | None = None
        self._tell_back = False  # tell the students the room is back once it hears this worker's announcement
        self._unsubscribe: Callable[[], None] | None = None

    @property
    def available(self) -> bool:
        """False while Redis is away: joins are refused, messages reported as not delivered."""
        return self.link.available

    async def start(self, app: Any) -> None:
        self.stream = app.context.stream
        self.hub = app.context.hub
        await self.link.subscribe([outbox(self.prefix, self.worker), outbox(self.prefix)], self._receive)
        self.link.watch(on_lost=self._lost, on_back=self._back)
        await self.link.start()
        loop = asyncio.get_running_loop()

        def on_event(event: Any) -> None:  # in the recording thread: over to the loop
            if event.kind in (EventKind.OPEN, EventKind.CLOSE) and event.path in WORKER_PATHS:
                loop.call_soon_threadsafe(self._connections_changed)

        self._unsubscribe = self.events.subscribe(on_event)
        # The classroom learns which worker process this id is (the cluster tags the event "worker N").
        self.events.record(f"chat link {self.worker} subscribed to the room's channels", kind=EventKind.RELAY)

    def _receive(self, data: bytes) -> None:
        self.handle(_decode(data))

    def _tell_members(self, text: str) -> None:
        notice = dump({"type": MessageType.NOTICE, "text": text})
        for handler in list(self.handlers.values()):
            if handler.member_name is not None:
                handler.hub.send(handler, notice)

    def _lost(self) -> None:
        self._tell_members(f"{ROOM_AWAY}: what you send now is not delivered; you will be told when it is back")
        for handler in list(self.handlers.values()):
            if handler.member_name is None:  # its join may be lost: do not leave it waiting
                handler.refuse(f"{ROOM_AWAY}; try again in a minute")

    def _back(self) -> None:
        self._tell_back = True  # once the room says it reconciled with us: its own link may come back later
        self.announce()
        self._connections_changed()

    def announce(self) -> None:
        """Tell the room who is here (after an outage, or when it asks), until the room's channel has a listener."""
        if self._announce is not None:
            self._announce.cancel()
            self._announce = None
        members = {conn: handler.member_name for conn, handler in self.handlers.items() if handler.member_name is not None}

        def done(receivers: int | None) -> None:
            if not receivers and self.link.available and self._announce is None:  # the room is not listening yet
                self._announce = asyncio.get_running_loop().call_later(ANNOUNCE_RETRY, self.announce)

        self.forward({"op": "members", "members": members}, done)

    def _connections_changed(self) -> None:
        # Connections come in bursts (a class pressing Run All): one report per burst.
        if self._report is None and self.hub is not None:
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

    def add(
        self, handler: "RemoteChatHandler", name: str, address: str, secret: str = "", rehearsal: bool = False
    ) -> int | None:
        """Ask the room to let ``handler`` in as ``name``; its number here, or None when the room cannot be reached."""
        conn = next(self._numbers)
        self.handlers[conn] = handler

        def done(receivers: int | None) -> None:
            if receivers is None and handler.member_name is None:
                handler.refuse("the join could not be sent to the chat room (its Redis link failed); try again in a minute")
            elif receivers == 0 and handler.member_name is None:
                handler.refuse("the chat room is not listening right now (it is reconnecting to Redis); try again in a minute")

        join = {"op": "join", "conn": conn, "name": name, "address": address, "secret": secret, "rehearsal": rehearsal}
        if not self.forward(join, done):
            del self.handlers[conn]
            return None
        return conn

    def forward(self, envelope: dict[str, Any], done: Callable[[int | None], None] | None = None) -> bool:
        """Publish ``envelope`` to the room; False at once while Redis is away (``done`` then is not called)."""
        return self.link.publish(inbox(self.prefix), json.dumps({**envelope, "worker": self.worker}), done)

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
        elif op == "announce":
            self.announce()
        elif op == "reconciled" and self._tell_back:  # the room hears us again, and what waited for us follows
            self._tell_back = False
            self._tell_members("the chat room is back: you can send again")

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        for timer in (self._report, self._announce):
            if timer is not None:
                timer.cancel()
        self._report = self._announce = None
        if self._owns_link:
            await self.link.stop()


class RemoteChatHandler(TutorialHandler):
    """``/chat?name=...`` on a worker: the student's socket here, their membership in the room."""

    member_name: str | None = None
    conn: int | None = None
    _waiting: asyncio.TimerHandle | None = None

    def initialize(self, context: Any, link: WorkerLink) -> None:  # type: ignore[override]
        super().initialize(context)
        self.link = link

    def open(self, *args: Any, **kwargs: Any) -> None:
        self.conn = self.link.add(
            self, self.get_argument("name", ""), self.request.remote_ip or "",
            secret=self.get_argument("secret", ""), rehearsal=self.get_argument("rehearsal", "") == "1",
        )
        if self.conn is None:
            self.refuse(f"{ROOM_AWAY}; try again in a minute")
            return
        self._waiting = asyncio.get_running_loop().call_later(
            JOIN_TIMEOUT, self.refuse, f"the chat room did not answer within {JOIN_TIMEOUT:g} s; try again in a minute"
        )

    def refuse(self, reason: str) -> None:
        """Not in the room (it cannot be reached, or did not answer): close with 1013, try again later."""
        if self.member_name is not None:
            return
        self._stop_waiting()
        self.record(f"join refused: {reason}", kind=EventKind.CLOSE)
        self.close(CloseCode.TRY_AGAIN_LATER, close_reason(reason))

    def _stop_waiting(self) -> None:
        if self._waiting is not None:
            self._waiting.cancel()
            self._waiting = None

    def joined(self, name: str) -> None:
        self._stop_waiting()
        self.member_name = self.client_name = name
        self.record(f"{name} joined the chat", kind=EventKind.OPEN)

    def closed_by_room(self, code: int, reason: str) -> None:
        self._stop_waiting()
        self.record(f"closed by the room: {reason}", kind=EventKind.CLOSE)
        self.close(code, close_reason(reason))

    def on_message(self, message: str | bytes) -> None:
        if self.conn is None:
            return
        # Sent before the room's "joined" came back, too: the room reads its channel in order, the join first.
        if isinstance(message, bytes):
            delivered = self.link.forward({"op": "message", "conn": self.conn, "binary": True})
        else:
            delivered = self.link.forward({"op": "message", "conn": self.conn, "text": message}, self._delivered)
            if delivered and self.member_name is not None:
                self.record(f"chat {describe_message(message)}", kind=EventKind.MESSAGE)
        if not delivered:
            self._delivered(None)

    def _delivered(self, receivers: int | None) -> None:
        if not receivers:  # Redis away, or the room not listening: the sender must know
            self.hub.send(self, dump({"type": MessageType.NOTICE, "text": NOT_DELIVERED}))

    def on_close(self) -> None:
        self._stop_waiting()
        if self.conn is not None:
            self.link.handlers.pop(self.conn, None)
            self.link.forward({"op": "leave", "conn": self.conn})  # lost while Redis is away: the next announcement says so
            if self.member_name is not None:
                self.record(f"{self.member_name} left the chat", kind=EventKind.CLOSE)
            self.conn = None
