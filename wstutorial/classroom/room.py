"""The classroom chat room on the server: who is in it, and what each message makes happen.

One room per classroom server. The room decides; the WebSocket handlers in
``classroom/server.py`` only pass messages in and out, so this module is
tested without a network. The message format is in ``chatrules.py``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections import deque
from typing import Any, Callable

from ..address import is_loopback
from ..chatrules import (
    CLOSE_POLICY,
    DEFAULT_BURST,
    DEFAULT_JOIN_BURST,
    DEFAULT_JOIN_RATE,
    DEFAULT_MAX_REFUSALS,
    DEFAULT_RATE,
    HISTORY_LENGTH,
    NOTEBOOK_SUFFIXES,
    PRESENCE_DELAY,
    NameRejected,
    TokenBucket,
    TooManyJoins,
    dump,
    name_key,
    parse_incoming,
    validate_name,
)
from ..curriculum import EXERCISES, Exercise
from ..messages import MessageType
from .board import ProgressBoard, Student

logger = logging.getLogger("wstutorial")

__all__ = ["ChatRoom", "Member", "Verdict", "ACTIVITY_DELAY", "WrongRoom"]

# Students' activity reaches the teacher's page at most once a second (one message for everyone who was active).
ACTIVITY_DELAY = 1.0


class WrongRoom(NameRejected):
    """A rehearsal's simulated student at the door of a class's room; ``str()`` says where rehearsals go."""


@dataclasses.dataclass
class Member:
    """One student in the room; ``send`` delivers a JSON text to them."""

    name: str
    send: Callable[[str], object]
    bucket: TokenBucket
    refused_in_a_row: int = 0
    sent: int = 0
    # The board row this connection belongs to; ``own_row``: it is the student's own connection (not
    # NAME-panel, NAME-code, ... of their notebook), the only one whose results the board takes.
    row: str = ""
    own_row: bool = False


@dataclasses.dataclass(frozen=True)
class Verdict:
    """What the handler must do with a student's message: nothing, or close."""

    accepted: bool
    close_code: int | None = None
    close_reason: str = ""



def _this_machine(address: str) -> bool:
    """The teacher's own notebooks and pages: 127.0.0.1 or ::1 (also IPv4-mapped), not the rest of 127.0.0.0/8."""
    host = address.lower().removeprefix("::ffff:")
    return host in ("127.0.0.1", "::1", "localhost") or (is_loopback(host) and not host.startswith("127."))


class ChatRoom:
    """Who is in the room, and what each message makes happen.

    Lives on the server's event loop (one thread); ``send`` callables must
    not block. Members learn who came and went as changes (``presence``),
    collected for ``presence_delay`` seconds so a burst costs each member one
    message; ``watchers`` (the teacher's page) get the whole list, as often.
    Joins are rate-limited per address (``join_rate``, ``join_burst``).
    Without a running event loop (unit tests) changes are sent at once.

    Every student who joins has a row on the :class:`ProgressBoard` (the
    board admits them: a name whose row has a rejoin secret needs it; a new
    row's secret goes in the welcome, to that student only). A notebook's
    other connections (``Ada-panel``, ``Ada-code``: :data:`NOTEBOOK_SUFFIXES`)
    count as activity of ``Ada``'s row and make none. ``rehearsal_room``:
    only such a room lets a rehearsal's simulated students in
    (``?rehearsal=1``), with rows that only simulated students may rejoin.
    """

    def __init__(
        self,
        *,
        rate: float = DEFAULT_RATE,
        burst: int = DEFAULT_BURST,
        max_refusals: int = DEFAULT_MAX_REFUSALS,
        clock: Callable[[], float] = time.monotonic,
        join_rate: float = DEFAULT_JOIN_RATE,
        join_burst: int = DEFAULT_JOIN_BURST,
        presence_delay: float = PRESENCE_DELAY,
        limit_local_joins: bool = False,
        exercises: tuple[Exercise, ...] = EXERCISES,
        rehearsal_room: bool = False,
        room_name: str = "class",
    ) -> None:
        TokenBucket(rate, burst)  # validates the numbers now, with a clear message
        TokenBucket(join_rate, join_burst)
        name_key("Ada")  # loads the look-alike table now: a missing package says so at start, not at the first join
        self.join_rate = join_rate
        self.join_burst = join_burst
        self.presence_delay = presence_delay
        # This machine (the teacher's notebooks and pages, a lesson's own
        # clients) is not limited unless asked: only the network is.
        self.limit_local_joins = limit_local_joins
        self._joins: dict[str, TokenBucket] = {}  # per address
        self._touched: list[str] = []  # names that joined or left since the last flush
        self._presence_pending = False
        self.rate = rate
        self.burst = burst
        self.max_refusals = max_refusals
        self._clock = clock
        self.members: dict[str, Member] = {}
        self._member_keys: dict[str, str] = {}  # each member's name by its look-alike key (name_key)
        self.history: deque[dict[str, Any]] = deque(maxlen=HISTORY_LENGTH)
        self.watchers: dict[object, Callable[[str], object]] = {}
        self.readers: dict[object, Callable[[str], object]] = {}
        self.latest: dict[str, float] = {}  # each sender's newest reading, for /readings
        self.refused = 0  # messages refused since the room opened
        self.board = ProgressBoard(exercises)  # who joined and their self-check results, for the teacher's page only
        self.rehearsal_room = rehearsal_room
        self.room_name = room_name
        self._active: set[str] = set()  # rows active since the last activity message
        self._activity_pending = False

    @property
    def names(self) -> list[str]:
        return sorted(self.members, key=str.casefold)

    def join(
        self, raw_name: object, send: Callable[[str], object], address: str = "", secret: str = "", rehearsal: bool = False
    ) -> Member:
        """Add a student; raises :class:`NameRejected` (the handler closes with 1008).

        ``address`` (the client's IP address) is limited to ``join_rate``
        joins a second, in bursts of ``join_burst``; beyond it
        :class:`TooManyJoins`. This machine (``127.0.0.1``, ``::1``) is not
        limited unless ``limit_local_joins``; the rest of the loopback range
        (``127.0.0.2``, ...) is, as other machines: nothing connects from
        there but a rehearsal's simulated students, each from an address of its own. ``secret``: the rejoin secret
        the room gave this name before (see :class:`ProgressBoard`).
        ``rehearsal``: a rehearsal's simulated student (:class:`WrongRoom`
        unless this is a rehearsal room).
        """
        if rehearsal and not self.rehearsal_room:
            raise WrongRoom(f"room {self.room_name!r} is a class: rehearse in a room of its own (classroom --room rehearsal)")
        self._check_join_rate(address)
        name = validate_name(raw_name, taken_keys=self._member_keys)
        owner = self._owner_of(name)
        issued = ""
        if owner is not None:
            row, own_row = owner.key, False
        else:
            student, issued = self.board.admit(name, secret, simulated=rehearsal)
            name, row, own_row = student.name, student.key, True
            self.board.set_present(row, True)
            self._tell_teacher_row(student)
        member = Member(name, send, TokenBucket(self.rate, self.burst, self._clock), row=row, own_row=own_row)
        self.members[name] = member
        self._member_keys[name_key(name)] = name
        welcome: dict[str, Any] = {"type": MessageType.WELCOME, "name": name, "members": self.names, "history": list(self.history)}
        if issued:
            welcome["secret"] = issued  # to this student only: their key to this row when they rejoin
        send(dump(welcome))
        self._presence(joined=name)
        if not own_row:
            self._activity(row)
        return member

    def _owner_of(self, name: str) -> Student | None:
        """For ``Ada-panel`` (a notebook's other connection) while ``Ada`` has a row: that row; else None."""
        base, dash, suffix = name.rpartition("-")
        if not dash or not base or suffix not in NOTEBOOK_SUFFIXES:
            return None
        return self.board.find(base)

    def leave(self, name: str) -> None:
        self.latest.pop(name, None)
        member = self.members.pop(name, None)
        if member is not None:
            self._member_keys.pop(name_key(name), None)
            self._presence(left=name)
            if member.own_row:
                self.board.set_present(member.row, False)
                student = self.board.students.get(member.row)
                if student is not None:
                    self._tell_teacher_row(student)

    def release(self, key: str) -> bool:
        """The teacher lets a row's name join again without its secret (a student on another computer)."""
        if not self.board.release(key):
            return False
        self._tell_teacher_row(self.board.students[key])
        return True

    def _check_join_rate(self, address: str) -> None:
        if not self.limit_local_joins and (not address or _this_machine(address)):
            return
        bucket = self._joins.get(address)
        if bucket is None:
            if len(self._joins) >= 1024:  # forget addresses that have been quiet long enough
                self._joins = {key: b for key, b in self._joins.items() if not b.full}
            bucket = self._joins[address] = TokenBucket(self.join_rate, self.join_burst, self._clock)
        if not bucket.allow():
            raise TooManyJoins(
                f"too many joins from {address or 'your address'}: at most {self.join_burst} at once, "
                f"then one every {1 / self.join_rate:g} s; wait a moment"
            )

    def _presence(self, *, joined: str | None = None, left: str | None = None) -> None:
        """Note a change; send the changes of a burst together (see ``presence_delay``).

        Only which names changed is kept; the flush tells each name's state
        at that moment. Cancelling a join by a leave within the burst would be
        wrong: a student welcomed in between saw the join in their welcome.
        """
        for name in (joined, left):
            if name is not None and name not in self._touched:
                self._touched.append(name)
        if self._presence_pending:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None or self.presence_delay <= 0:
            self.flush_presence()
        else:
            self._presence_pending = True
            loop.call_later(self.presence_delay, self.flush_presence)

    def flush_presence(self) -> None:
        """Send the changes collected so far: to the members as changes, to the watchers as the list."""
        self._presence_pending = False
        touched, self._touched = self._touched, []
        # Members apply (members | joined) - left; with every touched name in
        # one of the two, as it is now, that is right for every member,
        # whatever their welcome listed.
        joined = [name for name in touched if name in self.members]
        left = [name for name in touched if name not in self.members]
        if joined or left:
            # Someone whose own join is the only news already has it (the welcome).
            only = joined[0] if len(joined) == 1 and not left else None
            self._broadcast({"type": MessageType.PRESENCE, "joined": joined, "left": left}, skip=only)
        self._tell_watchers()

    def receive(self, name: str, raw: str | bytes) -> Verdict:
        """Handle one message from ``name``: broadcast it, or refuse it with a notice."""
        member = self.members.get(name)
        if member is None:
            return Verdict(False)
        if not member.bucket.allow():
            return self._refuse(member, f"too many messages: at most {self.rate:g} a second (bursts of {self.burst}); wait a moment")
        try:
            message = parse_incoming(raw)
        except ValueError as error:
            return self._refuse(member, str(error))
        member.refused_in_a_row = 0
        member.sent += 1
        self._activity(member.row)
        if message["type"] == MessageType.PROGRESS:
            return self._progress(member, message)
        if message["type"] == MessageType.PROGRESS_BATCH:
            return self._progress_batch(member, message["results"])
        message = {"type": message["type"], "name": name, **{k: v for k, v in message.items() if k != "type"}}
        if message["type"] == MessageType.CHAT:
            self.history.append(message)
        self._broadcast(message)
        if message["type"] == MessageType.READING:
            self.latest[name] = message["value"]
            self._tell_readers()
        return Verdict(True)

    def announce(self, message: dict[str, Any]) -> int:
        """Send a server message (e.g. ``{"type": "stream", "running": True}``) to everyone."""
        return self._broadcast(message)

    def watch(self, key: object, send: Callable[[str], object]) -> None:
        """Send the member list to ``send`` now and on every change (the teacher's page)."""
        self.watchers[key] = send
        send(dump({"type": MessageType.MEMBERS, "members": self.names}))

    def unwatch(self, key: object) -> None:
        self.watchers.pop(key, None)

    def read(self, key: object, send: Callable[[str], object]) -> None:
        """Send ``{"Ada": 21.5, "Bob": 19.0}`` (everyone's newest reading) on every reading (``/readings``)."""
        self.readers[key] = send

    def unread(self, key: object) -> None:
        self.readers.pop(key, None)

    def _tell_readers(self) -> None:
        text = dump({name: self.latest[name] for name in sorted(self.latest, key=str.casefold)})
        for send in list(self.readers.values()):
            send(text)

    def _progress(self, member: Member, message: dict[str, Any]) -> Verdict:
        """A self-check result: onto the board, to the teacher's page, and back to the student only."""
        if not member.own_row:
            return self._refuse(member, f"results go to the board from your notebook's own connection, not from {member.name!r}")
        exercise = message["exercise"]
        refused = self.board.record(member.row, exercise, message["passed"], message["reason"], message.get("at"))
        if refused is not None:
            return self._refuse(member, refused)
        self._tell_teacher_result(member.row, exercise)
        receipt = {"type": MessageType.PROGRESS, "exercise": exercise, "passed": message["passed"], "reason": message["reason"], "name": member.name}
        member.send(dump(receipt))
        return Verdict(True)

    def _progress_batch(self, member: Member, results: list[dict[str, Any]]) -> Verdict:
        """Results from before joining: each onto the board unless it has a newer one; the student gets one reply.

        Results of exercises the lesson does not have are named in one notice.
        """
        if not member.own_row:
            return self._refuse(member, f"results go to the board from your notebook's own connection, not from {member.name!r}")
        stored = 0
        unknown: list[str] = []
        for result in results:
            exercise = result["exercise"]
            refused = self.board.record(member.row, exercise, result["passed"], result["reason"], result["at"], earlier=True)
            if refused is None:
                stored += 1
                self._tell_teacher_result(member.row, exercise)
            elif not self.board.knows(exercise) and exercise not in unknown:
                unknown.append(exercise)
        member.send(dump({"type": MessageType.PROGRESS_BATCH, "stored": stored, "kept": len(results) - stored}))
        if unknown:
            shown = ", ".join(repr(name) for name in unknown[:5]) + (" ..." if len(unknown) > 5 else "")
            member.send(dump({"type": MessageType.NOTICE, "text": f"not one of the tutorial's exercises, so not on the board: {shown}"}))
        return Verdict(True)

    def tell_watchers(self, message: dict[str, Any]) -> None:
        """Send ``message`` to the teacher's pages."""
        self._tell_watchers_text(dump(message))

    def _tell_watchers_text(self, text: str) -> None:
        for send in list(self.watchers.values()):
            send(text)

    def _tell_teacher_result(self, key: str, exercise: str) -> None:
        self._tell_watchers_text(dump(self.board.result_message(key, exercise, self.board.students[key].results[exercise])))

    def _tell_teacher_row(self, student: Student) -> None:
        self._tell_watchers_text(dump(self.board.student_message(student)))

    def _activity(self, key: str) -> None:
        """Note that row ``key`` was active; the teacher's page hears of everyone's activity once per ACTIVITY_DELAY."""
        if self.board.touch(key) is None:
            return
        self._active.add(key)
        if self._activity_pending:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None:
            self.flush_activity()
        else:
            self._activity_pending = True
            loop.call_later(ACTIVITY_DELAY, self.flush_activity)

    def flush_activity(self) -> None:
        """Send ``{"type": "activity", "now", "students": [[key, active], ...]}`` for the rows active since the last one."""
        self._activity_pending = False
        keys, self._active = self._active, set()
        rows = [[key, self.board.students[key].active] for key in keys if key in self.board.students]
        if rows and self.watchers:
            self._tell_watchers_text(dump({"type": MessageType.ACTIVITY, "now": self.board.clock(), "students": rows}))

    def _refuse(self, member: Member, why: str) -> Verdict:
        self.refused += 1
        member.refused_in_a_row += 1
        if member.refused_in_a_row > self.max_refusals:
            return Verdict(False, CLOSE_POLICY, f"{member.refused_in_a_row} messages refused in a row; closed")
        member.send(dump({"type": MessageType.NOTICE, "text": why}))
        return Verdict(False)

    def _broadcast(self, message: dict[str, Any], skip: str | None = None) -> int:
        text = dump(message)
        count = 0
        for name, member in list(self.members.items()):
            if name != skip:
                member.send(text)
                count += 1
        return count

    def _tell_watchers(self) -> None:
        text = dump({"type": MessageType.MEMBERS, "members": self.names})
        for send in list(self.watchers.values()):
            send(text)

