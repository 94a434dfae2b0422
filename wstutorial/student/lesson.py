"""Notebook 06 for one student among thirty: one ``NAME``, the teacher's server (or your own), waits that end in sentences.

Every name the notebook uses comes from the ``NAME`` the student sets at the
top (``Ada``, ``Ada-panel``, ``Ada-code``, ...): thirty students running the
same cells never ask for the same name. Demonstrations that would disturb the
class (a loop that sends too fast) run in a *private room*: the student's own
classroom server, started on their machine. A wait that runs out, a server
that cannot be reached or a name that is taken ends in a sentence saying what
to do, never a traceback::

    lesson = await Lesson.begin(NAME, HOST, PORT)   # joins the room as NAME
    await lesson.wait(lesson.chat.wait_for("hello"))  # the line, or a sentence after 5 s
    await lesson.close()

Working alone (``HOST`` is None) the lesson starts a classroom server of its
own, in the background; that is also its private room.
"""

from __future__ import annotations

import asyncio
import secrets
import urllib.parse
from typing import TYPE_CHECKING, Any, Awaitable, NamedTuple, TypeVar

from ..address import InvalidAddress, parse_host, parse_port, ws_url
from ..chatrules import MAX_NAME_LENGTH, NOTEBOOK_SUFFIXES, NameRejected, validate_name
from ..client import Client, ConnectionClosed, ConnectionFailed
from ..jsontext import loads
from ..messages import MessageType
from .chat import ChatState

if TYPE_CHECKING:
    from ..classroom.server import Classroom

__all__ = ["Lesson", "Sentence", "Room", "suggest_name", "ALONE_NAME", "SUFFIXES", "WAIT"]

T = TypeVar("T")

# The name used when working alone with NAME left empty.
ALONE_NAME = "Ada"
# The other connections a student's notebook opens, named NAME-<suffix> (the room counts them as NAME's).
SUFFIXES = NOTEBOOK_SUFFIXES
# Room left in a name for the longest suffix ("-browser").
MAX_BASE_LENGTH = MAX_NAME_LENGTH - 1 - max(len(suffix) for suffix in SUFFIXES)
# Seconds a cell waits for the room; a class of thirty answers within milliseconds.
WAIT = 5.0

_lessons: list["Lesson"] = []  # this kernel's lesson: a re-run of the first cell replaces it


class Sentence(str):
    """Text shown as is (no quotes) as a cell's result: what happened, and what to do."""

    def __repr__(self) -> str:
        return str(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))


class Room(NamedTuple):
    """Where to connect: a host and a port."""

    host: str
    port: int


def suggest_name(name: str) -> str:
    """Another name to try when ``name`` is taken: the same with two digits added."""
    base = name[: MAX_BASE_LENGTH - 3].rstrip() or ALONE_NAME
    return f"{base} {10 + secrets.randbelow(90)}"


class Lesson:
    """One student's notebook 06: their name, where the class's room is, their private room.

    Create it with :meth:`begin`. Attributes: ``name`` (validated, '' when
    unusable), ``alone`` (True: own server), ``host``/``port`` (the room),
    ``chat`` (a :class:`ChatState` in the room as ``name``, reporting
    self-check results to the teacher's board, those checked before joining
    included), ``ready`` (in the room), and
    ``problem`` (the sentence saying why not).
    """

    def __init__(self, name: str, host: str, port: int, *, alone: bool, classroom: "Classroom | None" = None) -> None:
        self.name = name
        self.host = host
        self.port = port
        self.alone = alone
        self.classroom = classroom  # working alone: the server this lesson started
        # Working alone, results sent to your own board stay free for the class's board (under your NAME there).
        # In class, the room's key to this student's row is kept on this computer: a restarted kernel rejoins as them.
        self.chat = ChatState(host, port, name, report_progress=True, claim_results=not alone, remember=not alone)
        self.problem = ""
        self._private: "Classroom | None" = None

    # -- starting ------------------------------------------------------------------------------

    @classmethod
    async def begin(cls, name: object = "", host: object = None, port: object = None) -> "Lesson":
        """Check ``name``, find the room (``host`` None: start your own server) and join it as ``name``.

        Never raises for a bad name, host or port, or a room that cannot be
        reached: :attr:`problem` holds the sentence and :attr:`ready` is False.
        """
        for old in list(_lessons):  # a re-run of the first cell: leave first, or the name is "taken" by ourselves
            await old.close()
        alone = host is None or str(host).strip() == ""
        raw_name = "" if name is None else str(name).strip()
        if alone:
            from ..classroom.server import (
                start_classroom,  # only when working alone: a student in class never runs the server
            )

            classroom = start_classroom()
            lesson = cls(raw_name or ALONE_NAME, "localhost", classroom.port, alone=True, classroom=classroom)
        else:
            try:
                where = Room(parse_host(str(host)), parse_port(str(port if port is not None else "")))
            except InvalidAddress as error:
                lesson = cls("", str(host), 0, alone=False)
                lesson.problem = f"HOST or PORT is not right ({error}): copy them from the board, e.g. HOST, PORT = '192.168.1.5', 8888."
                return lesson._registered()
            lesson = cls(raw_name, where.host, where.port, alone=False)
        _lessons.append(lesson)
        problem = lesson._check_name(raw_name)
        if problem:
            lesson.name, lesson.problem = "", problem
            return lesson
        await lesson._join()
        return lesson

    def _registered(self) -> "Lesson":
        _lessons.append(self)
        return self

    def _check_name(self, raw: str) -> str:
        if not raw and self.alone:
            return ""  # ALONE_NAME stands in
        if not raw:
            return "NAME is empty: write your name at the top, e.g. NAME = \"Ada L.\", and run the notebook again."
        try:
            name = validate_name(raw)
        except NameRejected as error:
            return f"NAME {raw[:40]!r} cannot be used ({error}); e.g. NAME = \"Ada L.\" and run the notebook again."
        if len(name) > MAX_BASE_LENGTH:
            return (
                f"NAME {name!r} has {len(name)} characters; use at most {MAX_BASE_LENGTH} here (the notebook adds "
                f"-panel, -code ... to it for its other connections), e.g. NAME = {name[:MAX_BASE_LENGTH].rstrip()!r}."
            )
        self.name = self.chat.name = name
        return ""

    async def _join(self) -> None:
        joined = await self.chat.join()
        if not joined and self.chat.close_code == 1008:
            # Our own previous connection may still be on its way out ("already in the room"),
            # or the room limits joins per address (a re-run right after another): ask once more.
            await asyncio.sleep(2.5 if "too many joins" in self.chat.close_reason else 0.5)
            joined = await self.chat.join()
        if joined:
            self.name = self.chat.name  # the room's spelling of this student's name (their row's)
            return
        reason = self.chat.close_reason
        if self.chat.close_code == 1008 and "taken in this class" in reason:
            self.problem = (
                f"The room refused the name {self.name!r}: {reason}. "
                f"If it is not yours, set NAME = {suggest_name(self.name)!r} at the top and run the notebook again."
            )
        elif self.chat.close_code == 1008 and "already" in reason:
            self.problem = (
                f"The room refused the name {self.name!r}: {reason}. Another student may have it: "
                f"set NAME = {suggest_name(self.name)!r} (or add your surname's initial) at the top and run the notebook again."
            )
        elif self.chat.close_code == 1008:
            self.problem = f"The room refused {self.name!r}: {reason}. Run this cell again in a few seconds."
        else:
            self.problem = (
                f"Could not join the room at {self.host}:{self.port} ({self.chat.error}). Check HOST and PORT against the "
                "board, and ask the teacher whether the classroom server runs."
            )
        self.name = ""

    # -- what the cells use ----------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        return bool(self.name) and self.chat.status == "open"

    @property
    def server(self) -> "Classroom | str":
        """The room's server, for ``page_link``: your own :class:`Classroom`, or the teacher's address."""
        return self.classroom if self.classroom is not None else f"http://{self.host}:{self.port}/"

    def name_for(self, suffix: str) -> str:
        """The name of another connection of this notebook: ``Ada-panel``, ``Ada-code``, ... ('' without a name)."""
        if suffix not in SUFFIXES:
            raise ValueError(f"suffix must be one of {', '.join(SUFFIXES)}, got {suffix!r}")
        return f"{self.name}-{suffix}" if self.name else ""

    def path(self, path: str, suffix: str | None = None) -> str:
        """``path`` with ``?name=`` (yours, or :meth:`name_for` ``suffix``): the teacher's page lists you by it.

        Without a usable NAME the name is empty, and the room says so when asked to join.
        """
        name = self.name_for(suffix) if suffix else self.name
        return f"{path}?name={urllib.parse.quote(name)}"

    def ws_url(self, path: str, suffix: str | None = None) -> str:
        """``ws://host:port/path?name=...`` in the class's room."""
        return ws_url(self.host, self.port, self.path(path, suffix))

    def private_room(self) -> Room:
        """Where demonstrations that would disturb the class run: your own server.

        Working alone, that is the server of :meth:`begin`; in class, a second
        classroom server is started on this machine (loopback only), just for you.
        """
        if self.alone:
            return Room(self.host, self.port)
        if self._private is None:
            from ..classroom.server import start_classroom

            self._private = start_classroom("127.0.0.1", 0)
        return Room("localhost", self._private.port)

    def status(self) -> Sentence:
        """One sentence: where you are, as whom; or what to fix."""
        if self.problem:
            return Sentence(self.problem)
        where = f"{self.host}:{self.port}"
        if self.alone:
            return Sentence(
                f"Working alone: your own classroom server runs at {where}; you are in its room as {self.name!r}. "
                "In class, set NAME, HOST and PORT at the top."
            )
        if self.ready:
            return Sentence(f"In the class's room at {where} as {self.name!r} ({len(self.chat.members)} there).")
        return Sentence(f"Not in the room at {where}: {self.chat.summary}. Run the first cells again.")

    def _not_ready(self) -> Sentence | None:
        if self.ready:
            return None
        return Sentence(f"(skipped) {self.problem or self.status()}")

    async def wait(self, awaitable: Awaitable[T], timeout: float = WAIT) -> T | Sentence:
        """Await ``awaitable`` for at most ``timeout`` seconds; a sentence instead of an exception."""
        skipped = self._not_ready()
        if skipped is not None:
            if asyncio.iscoroutine(awaitable):
                awaitable.close()  # never started: no "was never awaited" warning
            return skipped
        try:
            return await asyncio.wait_for(awaitable, timeout)
        except (TimeoutError, asyncio.TimeoutError, ConnectionClosed, ConnectionFailed) as error:
            return Sentence(self._explain(error))

    async def own_message(self, client: Client, timeout: float = WAIT) -> str:
        """The next chat message ``client`` sent, as the room sends it back (others' messages are skipped)."""
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(client.url).query)
        name = query.get("name", [""])[0]
        async with asyncio.timeout(timeout):
            while True:
                raw = await client.receive()
                try:
                    message = loads(raw)  # jsontext: a too-deep message is a ValueError, not a RecursionError
                except ValueError:
                    continue
                if isinstance(message, dict) and message.get("type") == MessageType.CHAT and message.get("name") == name:
                    return raw if isinstance(raw, str) else raw.decode()

    def _explain(self, error: BaseException) -> str:
        if isinstance(error, (TimeoutError, asyncio.TimeoutError)):
            return (
                f"nothing came within the time allowed ({error or 'timeout'}). The room at {self.host}:{self.port} "
                "may be busy or gone: run the cell again, or ask the teacher."
            )
        if isinstance(error, ConnectionFailed):
            return f"could not connect ({error.reason}). Check HOST and PORT at the top against the board."
        return f"the room closed the connection ({error}). Run the first cells again to rejoin."

    async def close(self) -> None:
        """Leave the room; stop the servers this lesson started (yours, the private room)."""
        await self.chat.leave()
        for server in (self._private, self.classroom):
            if server is not None:
                server.stop()
        self._private = None
        if self in _lessons:
            _lessons.remove(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self.status()))

    def __repr__(self) -> str:
        return f"<Lesson {self.status()}>"

