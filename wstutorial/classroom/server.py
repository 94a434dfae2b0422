"""One server for a whole class: the tutorial's routes plus a chat room and a teacher's page.

``start_classroom()`` starts the usual tutorial server (``/ws``,
``/streaming``, ``/echo``, the pages) with more routes, which exist only in
classroom mode:

- ``/chat?name=Ada`` — the chat room of ``room.py`` (students, notebooks,
  browsers); ``&secret=...``: the rejoin secret the room gave this name
  (``board.py``); ``&rehearsal=1``: a rehearsal's simulated student, let in
  only by a rehearsal room;
- ``/readings`` — read-only: everyone's newest reading, for a live chart;
- ``/teacher?token=...`` — the teacher's page: the progress board (a row for
  every student who joined, their last activity, each exercise's newest
  result), how students join (the address they type, a QR code of it), who is
  connected on ``/ws``, ``/streaming`` and ``/chat``, and start/stop of the
  part-2 stream for everyone. The token is random, made with the room
  (``store.py`` keeps it with the board), shown only on the teacher's
  terminal (``teacher_url``); a connection without it is closed with 1008
  before it can do anything;
- ``/teacher/board.csv`` — the board as CSV, for a request carrying the token
  in its ``X-Teacher-Token`` header (the teacher's page's download button).

Teacher actions (JSON sent on ``/teacher``): ``{"action": "stop_stream"}``,
``{"action": "start_stream"}``, ``{"action": "current", "exercise": NAME}``
(the class's current exercise; ``""``: the page decides),
``{"action": "release", "key": KEY}`` (a row's name may join again without its
secret). The teacher's page receives, on connecting,
``{"type": "room", "room", "rehearsal", "stuck_after", "join": {...}}`` and
``{"type": "board", "now", "exercises": [{"name", "notebook", "core"}], "current",
"current_since", "students": [{"key", "name", "present", "joined", "active",
"bound", "results": [...]}]}``, then ``{"type": "student", ...}`` when a row
appears or changes, ``{"type": "progress", "key", "exercise", "passed",
"reason", "at", "first", "passed_at"}`` per result, ``{"type": "activity",
"now", "students": [[key, active], ...]}`` at most once a second,
``{"type": "current", "exercise", "since"}``, ``{"type": "members",
"members": [...]}``, ``{"type": "stream", "running": bool}`` and
``{"type": "connections", "paths": {"/ws": [...], ...}}`` whenever someone
connects or leaves (at most about four times a second). Names come only as
values, never as keys of an object. Times are seconds since 1970 by the
server's clock (``now`` lets the page allow for its own).
"""

from __future__ import annotations

import asyncio
import datetime
import hmac
import io
import json
import secrets
import urllib.parse
from pathlib import Path
from typing import IO, Any, Callable, Iterable

import tornado.web
from tornado.ioloop import PeriodicCallback

from ..address import lan_addresses
from ..chatrules import CLOSE_POLICY, NameRejected
from ..curriculum import EXERCISES, Exercise
from ..events import EventKind, EventLog
from ..jsontext import loads
from ..messages import MessageType, TeacherAction
from ..protocol import close_reason, describe_message
from ..server.context import ServerContext
from ..server.handlers import TutorialHandler, query_problem
from ..server.options import HandlerSpec, ServerOptions, with_overrides
from ..server.runner import TutorialServer, start_server
from ..server.streaming import Stream
from .connections import CONNECTIONS_DELAY, WATCHED_PATHS, RemoteConnections, connections_message
from .handout import handout_route
from .room import ChatRoom
from .store import DEFAULT_ROOM, RoomStore, is_rehearsal_room, validate_room_name, write_csv
from .wheels import wheel_routes

__all__ = [
    "BoardCsvHandler",
    "ChatHandler",
    "Classroom",
    "ReadingsHandler",
    "TeacherHandler",
    "start_classroom",
    "set_stream_running",
    "CLASSROOM_MAX_MESSAGE_SIZE",
    "CLASSROOM_OPTIONS",
    "DEFAULT_STUCK_AFTER",
    "join_details",
]

# A chat line is at most 500 characters; nothing a student sends needs more
# than this, and a class of 30 must not make the server buffer megabytes.
CLASSROOM_MAX_MESSAGE_SIZE = 16 * 1024
# A classroom's server settings unless told otherwise: start_server's, with that limit.
CLASSROOM_OPTIONS = ServerOptions(max_message_size=CLASSROOM_MAX_MESSAGE_SIZE)


# With a data folder: the board is saved at most this often (if something changed), and at stop.
BOARD_SAVE_INTERVAL = 1.0
# A student with no pass on the class's current exercise for this long is marked stuck (seconds; --stuck-after).
DEFAULT_STUCK_AFTER = 5 * 60.0


def set_stream_running(stream: Stream, room: ChatRoom, running: bool) -> bool:
    """Start or stop the part-2 stream for everyone; tell the room and the teacher. Server loop only."""
    changed = stream.resume() if running else stream.pause()
    if changed:
        room.announce({"type": MessageType.STREAM, "running": running})
        text = json.dumps({"type": MessageType.STREAM, "running": running})
        for send in list(room.watchers.values()):
            send(text)
    return changed


class ChatHandler(TutorialHandler):
    """``/chat?name=...``: one student in the room."""

    member_name: str | None = None

    def initialize(self, context: ServerContext, room: ChatRoom) -> None:  # type: ignore[override]
        super().initialize(context)
        self.room = room

    def _send(self, text: str) -> None:
        self.context.hub.send(self, text)  # once per member for each chat line: no property on the way

    def open(self, *args: Any, **kwargs: Any) -> None:
        raw = self.get_argument("name", "")
        secret = self.get_argument("secret", "")
        rehearsal = self.get_argument("rehearsal", "") == "1"
        try:
            member = self.room.join(raw, self._send, self.request.remote_ip or "", secret=secret, rehearsal=rehearsal)
        except NameRejected as error:
            self.record(f"name rejected: {error}", kind=EventKind.CLOSE)
            self.close(CLOSE_POLICY, close_reason(str(error)))
            return
        self.member_name = member.name
        self.client_name = member.name
        self.record(f"{member.name} joined the chat", kind=EventKind.OPEN)

    def on_message(self, message: str | bytes) -> None:
        if self.member_name is None:
            return
        verdict = self.room.receive(self.member_name, message)
        if verdict.close_code is not None:
            self.record(f"closed for too many refused messages: {verdict.close_reason}", kind=EventKind.CLOSE)
            self.close(verdict.close_code, close_reason(verdict.close_reason))
        elif verdict.accepted:
            self.record(f"chat {describe_message(message)}", kind=EventKind.MESSAGE)

    def on_close(self) -> None:
        if self.member_name is not None:
            self.room.leave(self.member_name)
            self.record(f"{self.member_name} left the chat", kind=EventKind.CLOSE)
            self.member_name = None


class ReadingsHandler(TutorialHandler):
    """``/readings``: read-only; everyone's newest reading by name, on every reading."""

    def initialize(self, context: ServerContext, room: ChatRoom) -> None:  # type: ignore[override]
        super().initialize(context)
        self.room = room

    def open(self, *args: Any, **kwargs: Any) -> None:
        self.record("new connection", kind=EventKind.OPEN)
        self.room.read(self, lambda text: self.hub.send(self, text))

    def on_message(self, message: str | bytes) -> None:
        self.hub.send(self, json.dumps({"type": MessageType.NOTICE, "text": "/readings is read-only: send readings on /chat"}))

    def on_close(self) -> None:
        self.room.unread(self)
        self.record("connection closed", kind=EventKind.CLOSE)


class TeacherHandler(TutorialHandler):
    """``/teacher?token=...``: the teacher's page; everyone else is closed with 1008."""

    authorized = False
    _unsubscribe: Callable[[], None] | None = None
    _pending: asyncio.TimerHandle | None = None

    _unsubscribe_remote: Callable[[], None] | None = None

    def initialize(  # type: ignore[override]
        self, context: ServerContext, room: ChatRoom, token: str, remote: RemoteConnections | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().initialize(context)
        self.room = room
        self.token = token
        self.remote = remote
        self.details = details if details is not None else {}  # the room message (join_details), filled once listening

    def open(self, *args: Any, **kwargs: Any) -> None:
        expected = self.token
        given = self.get_argument("token", "")
        # compare_digest: the time taken does not tell how much of a guess was right.
        if not hmac.compare_digest(given.encode(), expected.encode()):
            self.record("teacher page refused: wrong or missing token", kind=EventKind.ORIGIN)
            self.close(CLOSE_POLICY, "wrong or missing teacher token: use the address printed on the teacher's terminal")
            return
        self.authorized = True
        self.record("teacher connected", kind=EventKind.OPEN)
        self.hub.send(self, json.dumps({"type": MessageType.ROOM, **self.details}))
        self.hub.send(self, json.dumps(self.room.board.snapshot()))
        self.room.watch(self, lambda text: self.hub.send(self, text))
        self.hub.send(self, json.dumps({"type": MessageType.STREAM, "running": not self._stream.paused}))
        self._send_connections()
        loop = asyncio.get_running_loop()

        def on_event(event: Any) -> None:  # runs in the recording thread: hand over to the loop
            if event.kind in (EventKind.OPEN, EventKind.CLOSE) and event.path in WATCHED_PATHS:
                loop.call_soon_threadsafe(self._connections_changed)

        self._unsubscribe = self.hub.events.subscribe(on_event)
        if self.remote is not None:  # a worker's report arrives on this loop (the gateway's)
            self._unsubscribe_remote = self.remote.subscribe(self._connections_changed)

    def _connections_changed(self) -> None:
        if self._pending is None and self.authorized:
            self._pending = asyncio.get_running_loop().call_later(CONNECTIONS_DELAY, self._send_connections)

    def _send_connections(self) -> None:
        self._pending = None
        if self.authorized:
            self.hub.send(self, json.dumps(connections_message(self.hub, self.room, self.remote)))

    @property
    def _stream(self) -> Stream:
        return self.context.stream

    def on_message(self, message: str | bytes) -> None:
        if not self.authorized:
            return
        try:
            request = loads(message)
            action = request.get("action")
        except (ValueError, AttributeError):
            request, action = {}, None
        if action in (TeacherAction.START_STREAM, TeacherAction.STOP_STREAM):
            set_stream_running(self._stream, self.room, action == TeacherAction.START_STREAM)
        elif action == TeacherAction.CURRENT and isinstance(request.get("exercise"), str):
            refused = self.room.board.set_current(request["exercise"])
            if refused is not None:
                self.hub.send(self, json.dumps({"type": MessageType.NOTICE, "text": refused}))
            else:
                board = self.room.board
                self.room.tell_watchers({"type": MessageType.CURRENT, "exercise": board.current, "since": board.current_since})
        elif action == TeacherAction.RELEASE and isinstance(request.get("key"), str):
            if self.room.release(request["key"]):
                self.record("the teacher released a name: it may join again without its secret", kind=EventKind.INFO)
        else:
            self.hub.send(self, json.dumps({"type": MessageType.NOTICE, "text": f"unknown teacher action in {describe_message(message)!r}"}))

    def on_close(self) -> None:
        if self.authorized:
            self.authorized = False
            if self._unsubscribe is not None:
                self._unsubscribe()
            if self._unsubscribe_remote is not None:
                self._unsubscribe_remote()
            if self._pending is not None:
                self._pending.cancel()
            self.room.unwatch(self)
            self.record("teacher disconnected", kind=EventKind.CLOSE)


class BoardCsvHandler(tornado.web.RequestHandler):
    """``/teacher/board.csv``: the board as CSV, for a request with the teacher token in ``X-Teacher-Token``.

    A header, not the address: the token never shows in the address bar, the
    browser's history or a server log.
    """

    def initialize(self, room: ChatRoom, token: str) -> None:
        self.room = room
        self.token = token

    def get(self) -> None:
        given = self.request.headers.get("X-Teacher-Token", "")
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            raise tornado.web.HTTPError(403, "the teacher token is missing or wrong")
        text = io.StringIO()
        write_csv(self.room.board, text)
        day = datetime.date.today().isoformat()
        self.set_header("Content-Type", "text/csv; charset=utf-8")
        self.set_header("Content-Disposition", f'attachment; filename="{self.room.room_name}-{day}.csv"')
        self.set_header("Cache-Control", "no-store")
        self.write(text.getvalue())


def qr_code(text: str) -> str:
    """A QR code of ``text`` as an SVG ``data:`` URI (made here by segno, nothing from the network); '' without segno."""
    try:
        import segno  # the [notebook] extra
    except ImportError:
        return ""
    return str(segno.make(text, error="m").svg_data_uri(scale=4, border=2))


def join_details(server: TutorialServer, room: ChatRoom, stuck_after: float, hosts: list[str] | None = None) -> dict[str, Any]:
    """What the teacher's page shows of the room: its name, how students join (addresses they can reach, a QR code), limits.

    ``hosts``: the machine's addresses for students (default: its network
    addresses when listening on all of them, :func:`lan_addresses`).
    """
    local_only = not server.exposed
    if hosts is None:
        hosts = ["localhost"] if local_only else (lan_addresses() if server.host in ("0.0.0.0", "", "::") else [server.host])
    urls = [f"http://{host}:{server.port}/chat.html" for host in hosts]
    return {
        "room": room.room_name, "rehearsal": room.rehearsal_room, "stuck_after": stuck_after,
        "join": {"hosts": hosts, "port": server.port, "urls": urls, "local_only": local_only,
                 "qr": qr_code(urls[0]) if urls else ""},
    }  # fmt: skip


class Classroom:
    """A running classroom server: the tutorial's ``server`` plus its chat ``room``.

    Create it with :func:`start_classroom`. ``teacher_url`` holds the secret
    token: show it to nobody but the teacher. ``store``: where the room's
    board and token are kept (None: in memory only).
    """

    def __init__(
        self, server: TutorialServer, room: ChatRoom, teacher_token: str, remote: RemoteConnections | None = None,
        store: RoomStore | None = None,
    ) -> None:
        self.server = server
        self.room = room
        self.teacher_token = teacher_token
        # With workers (start_classroom(workers=N)): the worker processes, the room's gateway, and a Redis we started.
        # The workers' /ws and /streaming connections, for the teacher's page (empty without workers).
        self.remote_connections = remote if remote is not None else RemoteConnections()
        self.cluster: Any = None
        self.gateway: Any = None
        self.owned_redis: Any = None
        self.store = store
        # The SQLite file that keeps this room (None: in memory only); still said after stop().
        self.data_file: Path | None = store.path if store is not None else None
        self.details: dict[str, Any] = {}  # what the teacher's page shows of the room (join_details)
        self._saver: PeriodicCallback | None = None
        self._save_failed = False

    def _keep_board(self) -> None:
        """Save what changed on the board every BOARD_SAVE_INTERVAL seconds (on the server's loop)."""

        def save() -> None:
            self.save_board()

        def start() -> None:
            self._saver = PeriodicCallback(save, BOARD_SAVE_INTERVAL * 1000)
            self._saver.start()

        self.server.call(start)

    def save_board(self) -> bool:
        """Write what changed on the board to the room's file now; False if writing failed (an event says why, once)."""
        if self.store is None:
            return True
        try:
            self.store.save(self.room.board)
        except Exception as error:  # a full disk must not stop the class: the board stays in memory
            if not self._save_failed:
                self.events.record(f"could not save the board to {self.store.path} ({error}); will try again", kind=EventKind.SERVER)
            self._save_failed = True
            return False
        self._save_failed = False
        return True

    def export_csv(self, out: IO[str], timeout: float = 5.0) -> int:
        """Write the board as CSV (student, exercise, passed, reason, time) into ``out``; returns the rows. Any thread."""
        if self.server.running:
            return int(self.server.call(write_csv, self.room.board, out, timeout=timeout))
        return write_csv(self.room.board, out)

    @property
    def events(self) -> Any:
        """The classroom's events, the workers' included (tagged ``worker N``)."""
        return self.server.events

    @property
    def workers(self) -> list[Any]:
        """The worker processes students may connect to (empty without ``workers``)."""
        return list(self.cluster.workers) if self.cluster is not None else []

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def teacher_url(self) -> str:
        return self.server.page_url("teacher.html") + "?token=" + urllib.parse.quote(self.teacher_token)

    def chat_url(self, name: str, worker: int | None = None) -> str:
        """The WebSocket address a student called ``name`` connects to (on worker number ``worker``, from 1)."""
        base = self.server.ws_url("/chat") if worker is None else self.workers[worker - 1].ws_url("/chat")
        return base + "?name=" + urllib.parse.quote(name)

    def members(self, timeout: float = 5.0) -> list[str]:
        """Who is in the chat room now (from any thread)."""
        if not self.server.running:
            return []
        return self.server.call(lambda: self.room.names, timeout=timeout)

    def set_stream_running(self, running: bool, timeout: float = 5.0) -> bool:
        """Start or stop the part-2 stream for everyone (from any thread); False if it already was."""
        return self.server.call(set_stream_running, self.server.stream, self.room, running, timeout=timeout)

    def stop(self, timeout: float = 5.0) -> int:
        """Stop the workers (if any), then the room's server; returns how many clients were closed with 1001. Safe twice."""
        closed = 0
        if self._saver is not None and self.server.running:
            self.server.call(self._saver.stop, timeout=timeout)
        self._saver = None
        if self.cluster is not None:
            closed += self.cluster.stop()
            self.cluster = None
        if self.gateway is not None:
            if self.server.running:
                self.server.run(self.gateway.stop(), timeout=timeout)
            self.gateway = None
        closed += self.server.stop(timeout)
        if self.store is not None:
            self.save_board()  # the last results, now that nothing changes the board any more
            self.store.close()
            self.store = None
        if self.owned_redis is not None:
            self.owned_redis.stop()
            self.owned_redis = None
        return closed

    def __enter__(self) -> "Classroom":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<Classroom {self.server.url} {len(self.room.members)} in the chat>"


def start_classroom(
    host: str = "127.0.0.1",
    port: int | None = None,
    *,
    teacher_token: str | None = None,
    room: ChatRoom | None = None,
    wheels: Path | str | None = None,
    workers: int = 0,
    redis_url: str | None = None,
    room_name: str = DEFAULT_ROOM,
    data_dir: Path | str | None = None,
    fresh: bool = False,
    stuck_after: float = DEFAULT_STUCK_AFTER,
    exercises: Iterable[Exercise] = EXERCISES,
    options: ServerOptions | None = None,
    events: EventLog | None = None,
    timeout: float = 10.0,
    quiet: bool = False,
    **overrides: Any,
) -> Classroom:
    """Start a tutorial server with the chat room and the teacher's page.

    The server's settings are those of :func:`start_server` (``options``,
    and keywords such as ``interval=0.5``), starting from
    :data:`CLASSROOM_OPTIONS` instead of the defaults; the room adds its
    routes to them. ``events``, ``timeout`` and ``quiet`` are start_server's too. Besides, ``teacher_token``
    (default: the room's, kept with it; random without ``data_dir``; one given with ``data_dir`` becomes the room's,
    kept for the next start) and ``room`` (a :class:`ChatRoom` with your own limits). ``host`` stays 127.0.0.1 unless you pass ``0.0.0.0`` to let
    the class connect. ``wheels``: a folder made by ``python -m wstutorial
    wheelhouse``, served at ``/wheels/`` for pip (see :mod:`.wheels`), by
    this process and by every worker.

    ``room_name`` (default ``class``) and ``data_dir``: keep the room's board
    and teacher token in ``data_dir/ROOM.sqlite3`` (:mod:`.store`), read at
    start (the same token: an open teacher page reconnects), saved about once
    a second and at :meth:`Classroom.stop`; ``fresh``: move an earlier file of
    the room aside and start an empty board with a new token. Without
    ``data_dir`` the board lives in memory (a notebook's own room). A room
    named ``rehearsal`` (or ``rehearsal-...``) is the one a rehearsal's
    simulated students may join. ``stuck_after``: seconds without a pass on
    the current exercise before the teacher's page marks a student stuck.
    ``exercises``: the board's exercises (default: the tutorial's,
    ``wstutorial.curriculum``).

    ``workers``: also start this many worker processes that hold students'
    connections (``/chat``, ``/ws``, ``/streaming``, the pages) on ports
    ``port + 1`` ... ``port + workers`` (free ports when ``port`` is 0),
    while the room, the board and the teacher's page stay in this process;
    they talk through the Redis at ``redis_url`` (default: a redis-server
    started on a free loopback port, stopped with the classroom). See
    :mod:`.gateway` for what this does and does not do. Every worker gets
    this server's settings (``interval``, ``allowed_origins``, ``allowed_hosts``,
    ``xheaders``, ``max_message_size``, pings, connection limits), so a
    student is treated the same on any port; an ``ssl_context`` cannot
    reach a worker (``ValueError``: put nginx with TLS in front instead).
    """
    settings = with_overrides(options if options is not None else CLASSROOM_OPTIONS, overrides, "start_classroom")
    validate_room_name(room_name)
    if isinstance(stuck_after, bool) or not (isinstance(stuck_after, (int, float)) and 0 < stuck_after <= 86400):
        raise ValueError(f"stuck_after must be a number of seconds from 0 to 86400, got {stuck_after!r}")
    wheel_folder = Path(wheels).resolve() if wheels is not None else None
    wheel_rules = wheel_routes(wheel_folder) if wheel_folder is not None else []
    chat_room = room if room is not None else ChatRoom(exercises=tuple(exercises))
    chat_room.room_name = room_name
    chat_room.rehearsal_room = is_rehearsal_room(room_name)
    store = RoomStore.open(data_dir, room_name, fresh=fresh) if data_dir is not None else None
    try:
        if store is not None:
            store.load(chat_room.board)  # before the port opens: a bad file stops us here
        token = teacher_token if teacher_token is not None else (store.token if store is not None else secrets.token_urlsafe(16))
        if len(token) < 8:
            raise ValueError(f"a teacher token needs at least 8 characters, got {len(token)}")
        # The teacher's page sends the token in its address (?token=...): the
        # handshake's rule for query arguments would refuse it there, at class time.
        problem = query_problem({"token": [token.encode("utf-8", "surrogatepass")]})
        if problem is not None:
            raise ValueError(f"the teacher token cannot go in the teacher page's address ({problem}): choose a shorter one")
        if store is not None:
            store.keep_token(token)  # a token given here is the room's from now on: a restart without one keeps it
        remote = RemoteConnections()
        details: dict[str, Any] = {}
        room_handlers: dict[str, HandlerSpec] = {
            "/chat": (ChatHandler, {"room": chat_room}),
            "/readings": (ReadingsHandler, {"room": chat_room}),
            "/teacher": (TeacherHandler, {"room": chat_room, "token": token, "remote": remote, "details": details}),
        }
        csv_route = (r"/teacher/board\.csv", BoardCsvHandler, {"room": chat_room, "token": token})
        listening: list[TutorialServer] = []  # the handout shows the port, known once the server listens
        handout = handout_route(host, lambda: listening[0].port, wheels=wheel_folder is not None)
        settings = settings.replace(
            handlers={**settings.handlers, **room_handlers},
            routes=(*wheel_rules, csv_route, handout, *settings.routes),  # ahead of the pages' catch-all route
        )
        server = start_server(host, port, options=settings, events=events, timeout=timeout, quiet=quiet)
        listening.append(server)
    except BaseException:
        if store is not None:
            store.close()
        raise
    details.update(join_details(server, chat_room, stuck_after))
    classroom = Classroom(server, chat_room, token, remote, store)
    classroom.details = details
    if store is not None:
        classroom._keep_board()
    if workers:
        try:
            _start_workers(classroom, workers, redis_url, host, port != 0, wheel_folder)
        except BaseException:
            classroom.stop()
            raise
    return classroom


def _start_workers(
    classroom: Classroom, workers: int, redis_url: str | None, host: str, count_up: bool, wheels: Path | None
) -> None:
    """The room's gateway on the classroom's loop, then the worker processes (see :mod:`.gateway`).

    Each worker gets the room's process's own settings (interval, origins, allowed
    hosts, xheaders, message size, pings, connection limits: see
    ``ServerOptions.worker_settings``) and serves the same wheelhouse.
    """
    from ..server.cluster import MAX_WORKERS, start_cluster
    from .gateway import RoomGateway

    if isinstance(workers, bool) or not isinstance(workers, int) or not 0 <= workers <= MAX_WORKERS:
        raise ValueError(f"workers must be a whole number from 0 to {MAX_WORKERS}, got {workers!r}")
    options = classroom.server.options
    options.worker_settings()  # what cannot reach a worker (ssl_context) says so before anything starts
    if redis_url is None:
        from ..services.redisserver import start_redis

        classroom.owned_redis = start_redis(reuse=False)  # the classroom owns it and stops it
        redis_url = classroom.owned_redis.url
    # One set of channels per classroom: two classrooms may share a Redis.
    prefix = f"wstutorial:classroom:{secrets.token_hex(4)}"
    gateway = RoomGateway(classroom.room, redis_url, classroom.server.events, prefix, classroom.remote_connections)
    classroom.server.run(gateway.start(), timeout=10)
    classroom.gateway = gateway
    port = classroom.server.port
    classroom.cluster = start_cluster(
        workers,
        redis_url,
        host=host,
        port=port + 1 if count_up and port + workers <= 65535 else 0,  # predictable ports for a balancer's config
        channel=f"{prefix}:broadcast",
        events=classroom.server.events,
        module="wstutorial.classroom.worker",
        extra_args=["--prefix", prefix, *(["--wheels", str(wheels)] if wheels is not None else [])],
        options=options,
    )
