"""A student's side of the classroom chat (no UI; ``widgets/chatpanel.py`` displays it)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import urllib.parse
from collections import deque
from typing import Any, Callable

from ..address import InvalidAddress, default_port, ws_url
from ..chatrules import MAX_BATCH, NameRejected, describe, validate_name
from ..client import Client, ConnectionClosed, ConnectionFailed, connect
from ..jsontext import loads
from ..messages import MessageType
from ..protocol import CloseCode, describe_message
from . import progress

logger = logging.getLogger("wstutorial")

__all__ = ["ChatState", "ChatListener"]

# Earlier results (kept before joining) go in progress_batch messages of at most
# this many bytes (the classroom server takes 16 KiB), one every BATCH_PAUSE
# seconds: a steady 2 messages a second is the room's rate limit.
BATCH_BYTES = 8 * 1024
BATCH_PAUSE = 0.6

# -- the student's side ------------------------------------------------------------------

ChatListener = Callable[["ChatState"], None]



def _batches(results: list[progress.Progress]) -> list[list[progress.Progress]]:
    """``results`` cut into lists that fit one progress_batch message (count and bytes)."""
    batches: list[list[progress.Progress]] = []
    size = 0
    for result in results:
        length = len(json.dumps(dataclasses.asdict(result), ensure_ascii=False).encode()) + 1
        if not batches or len(batches[-1]) >= MAX_BATCH or size + length > BATCH_BYTES:
            batches.append([])
            size = 100  # the message's own few bytes
        batches[-1].append(result)
        size += length
    return batches


class ChatState:
    """A student's connection to the room: name, status, members, the lines to show.

    Runs on the event loop that calls it (the kernel's, in a notebook); no
    ipywidgets here (``ChatPanel`` in ``chatpanel.py`` displays it)::

        chat = ChatState("localhost", server.port, "Ada")
        await chat.join()                 # True; chat.members == ["Ada"]
        await chat.say("hello")
        await chat.send_reading(21.5)
        await chat.leave()

    Args:
        host, port: the classroom server, as typed (the teacher prints them).
        name: your name in the room (see :func:`validate_name`).
        max_lines: how many lines are kept (newest).
        report_progress: while in the room, send each self-check result
            (``student/progress.py``) to the teacher's board under
            :attr:`name`, and on joining the results kept from before
            (:attr:`backfill`: the task sending them). Off by default:
            nothing is sent unless asked.
        claim_results: mark the results sent as :attr:`name`'s on this
            computer, so that a later, different NAME does not send them
            (see ``student/progress.py``). False for a room of one's own
            (working alone): those results still go to the class's board.
        remember: keep the room's rejoin secret for :attr:`name` on this
            computer (``student/progress.py``), so that another kernel or
            another day rejoins as the same student. Without it the secret
            is kept by this object only (:attr:`secret`): a rejoin of the
            same ``ChatState`` works.
        rehearsal: a rehearsal's simulated student (``?rehearsal=1``):
            only a rehearsal room lets it in.
        source_address: connect from this address of this machine (a
            rehearsal's simulated students: ``127.0.0.2``, ``127.0.0.3``, ...).
    """

    def __init__(
        self,
        host: str = "localhost",
        port: int | str | None = None,
        name: str = "",
        *,
        max_lines: int = 200,
        report_progress: bool = False,
        claim_results: bool = True,
        remember: bool = False,
        rehearsal: bool = False,
        source_address: str | None = None,
    ) -> None:
        if not isinstance(max_lines, int) or max_lines < 1:
            raise ValueError(f"max_lines must be a whole number of at least 1, got {max_lines!r}")
        self.host = host
        self.port = default_port() if port is None else port
        self.name = name
        self.status = "closed"  # closed, connecting, open, failed
        self.error = ""
        self.members: list[str] = []
        self.lines: deque[str] = deque(maxlen=max_lines)
        self.received: list[dict[str, Any]] = []  # the last messages, parsed (bounded like lines)
        self.close_code: int | None = None
        self.close_reason = ""
        self._max = max_lines
        self._client: Client | None = None
        self._reader: asyncio.Task[None] | None = None
        self._listeners: list[ChatListener] = []
        self.report_progress = report_progress
        self.claim_results = claim_results
        self.remember = remember
        self.rehearsal = rehearsal
        # The room's key to this name's board row (its welcome gives it once); sent again on every rejoin.
        self.secret = ""
        self.source_address = source_address
        self._stop_reporting: Callable[[], None] | None = None
        self._sending: set[asyncio.Task[bool]] = set()
        self.backfill: asyncio.Task[int] | None = None  # sends the earlier results on joining; its result: how many

    @property
    def url(self) -> str:
        """``ws://host:port/chat?name=...``; raises ``InvalidAddress`` or :class:`NameRejected`."""

        name = validate_name(self.name)
        return ws_url(self.host, self.port, "/chat") + "?name=" + urllib.parse.quote(name)

    @property
    def _room(self) -> str:
        return f"{self.host}:{self.port}"

    def _join_url(self) -> str:
        """:attr:`url` with the rejoin secret (kept by this object, or on this computer) and the rehearsal mark."""
        url = self.url
        secret = self.secret or (progress.rejoin_secret(self._room, self.name) if self.remember else "")
        if secret:
            url += "&secret=" + urllib.parse.quote(secret)
        if self.rehearsal:
            url += "&rehearsal=1"
        return url

    @property
    def summary(self) -> str:
        if self.status == "open":
            return f"in the room as {self.name} ({len(self.members)} there)"
        if self.status == "failed":
            return f"failed: {self.error}"
        if self.close_code is not None:
            said = f": {self.close_reason}" if self.close_reason else ""
            return f"left the room (code {self.close_code}{said})"
        return self.status

    def on_change(self, callback: ChatListener) -> Callable[[], None]:
        """Call ``callback(state)`` after every change; returns a function that removes it."""
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback) if callback in self._listeners else None

    def _changed(self) -> None:
        for listener in list(self._listeners):
            try:
                listener(self)
            except Exception:  # a broken display must not break the connection

                logger.exception("ChatState listener %r failed", listener)

    def apply(self, raw: str | bytes) -> None:
        """Take one message from the room into the state (what the reader does for each)."""
        try:
            message = loads(raw)  # jsontext: a too-deep message is a ValueError, not a RecursionError
        except ValueError:
            message = None
        if not isinstance(message, dict):
            message = {"type": "?", "text": describe_message(raw, limit=None)}
        self.received.append(message)
        del self.received[: -self._max]
        if isinstance(message.get("members"), list):
            self.members = [str(name) for name in message["members"]]
        if message.get("type") == MessageType.PRESENCE:
            # Only the changes come: apply them to the list the welcome gave.
            gone = {str(name) for name in message.get("left") or []}
            now = [name for name in self.members if name not in gone]
            now += [str(name) for name in message.get("joined") or [] if str(name) not in now]
            self.members = sorted(now, key=str.casefold)
        line = describe(message)
        if line is not None:
            self.lines.append(line)
        self._changed()

    async def wait_for(self, text: str, timeout: float = 5.0) -> str:
        """Wait until a line containing ``text`` is shown; return it (``TimeoutError`` naming it otherwise)."""
        changed = asyncio.Event()
        remove = self.on_change(lambda state: changed.set())
        try:
            async with asyncio.timeout(timeout):
                while True:
                    for line in reversed(self.lines):
                        if text in line:
                            return line
                    changed.clear()
                    await changed.wait()
        except TimeoutError:
            raise TimeoutError(f"no line containing {text!r} within {timeout} s; last lines: {list(self.lines)[-3:]}") from None
        finally:
            remove()

    async def join(self) -> bool:
        """Connect as :attr:`name`; True once in the room, False with :attr:`error` set otherwise."""
        if self.status in ("open", "connecting"):
            return self.status == "open"
        try:
            url = self._join_url()
        except (InvalidAddress, NameRejected) as error:
            self.status, self.error = "failed", str(error)
            self._changed()
            return False
        self.status, self.error, self.close_code, self.close_reason = "connecting", "", None, ""
        self._changed()
        try:
            client = await connect(url, source_address=self.source_address)
        except ConnectionFailed as error:
            self.status, self.error = "failed", error.reason
            self._changed()
            return False
        self._client = client
        try:  # the welcome, or the server's reason for closing (a taken name)
            self.apply(await client.receive(timeout=5))
        except Exception:
            self.status, self.error = "failed", f"refused: {client.close_reason or 'no welcome from the server'}"
            self.close_code, self.close_reason = client.close_code, client.close_reason or ""
            self._client = None
            self._changed()
            return False
        self.status = "open"
        self._changed()
        self._keep_secret()

        loop = asyncio.get_running_loop()
        self._reader = loop.create_task(self._read(client))
        if self.report_progress and self._stop_reporting is None:
            # Checks run in the kernel's thread while the loop waits for the cell:
            # the result is sent as soon as the loop runs again.
            def reporter(result: progress.Progress) -> None:
                loop.call_soon_threadsafe(self._send_progress, result)

            self._stop_reporting = progress.add_reporter(reporter, self.name if self.claim_results else "")
            self.backfill = loop.create_task(self.send_earlier_results())
        return True

    def _keep_secret(self) -> None:
        """The welcome's ``secret`` (a new row on the board): keep it here, and on this computer if asked."""
        welcome = self.received[-1] if self.received else {}  # join() applied it just now
        if welcome.get("type") != MessageType.WELCOME:
            return
        if isinstance(welcome.get("name"), str) and welcome["name"] != self.name:
            self.name = welcome["name"]  # the board's spelling of this student's name ("ada" rejoining as "Ada")
        secret = welcome.get("secret")
        if isinstance(secret, str) and secret:
            self.secret = secret
            if self.remember:
                progress.keep_rejoin_secret(self._room, self.name, secret)

    async def send_earlier_results(self) -> int:
        """Send the results kept on this computer from before joining (see ``student/progress.py``); returns how many were sent.

        In ``progress_batch`` messages of at most :data:`BATCH_BYTES`, paced
        to stay within the room's rate limit; the board keeps a newer result
        it already has. Sent results are marked as this name's (unless
        ``claim_results`` is False).
        """
        earlier = progress.earlier_results(self.name)
        sent = 0
        for number, batch in enumerate(_batches(earlier)):
            if number:
                await asyncio.sleep(BATCH_PAUSE)
            message = {"type": MessageType.PROGRESS_BATCH, "results": [dataclasses.asdict(result) for result in batch]}
            if not await self._send(json.dumps(message, ensure_ascii=False)):
                break
            if self.claim_results:
                progress.claim(batch, self.name)
            sent += len(batch)
        return sent

    def _send_progress(self, result: progress.Progress) -> None:
        if self._client is None:
            return
        task = asyncio.get_running_loop().create_task(self.send_progress(result.exercise, result.passed, result.reason))
        self._sending.add(task)  # a task nobody references may be collected before it runs
        task.add_done_callback(self._sending.discard)

    def _stop_progress(self) -> None:
        if self._stop_reporting is not None:
            self._stop_reporting()
            self._stop_reporting = None

    async def _read(self, client: Client) -> None:
        async for message in client:
            self.apply(message)
        self._stop_progress()
        if self._client is client:
            self._client = None
            self.status = "closed"
            self.close_code, self.close_reason = client.close_code, client.close_reason or ""
            self._changed()

    async def _send(self, text: str) -> bool:
        if self._client is None:
            self.error = "not in the room: join first"
            self._changed()
            return False
        try:
            await self._client.send(text)
        except ConnectionClosed as error:
            self.error = f"not sent: {error}"
            self._changed()
            return False
        return True

    async def say(self, text: str) -> bool:
        """Send a chat line to everyone."""
        return await self._send(json.dumps({"type": MessageType.CHAT, "text": str(text)}))

    async def send_reading(self, value: float) -> bool:
        """Send a sensor-like reading; everyone's chart on ``/readings`` shows it."""
        return await self._send(json.dumps({"type": MessageType.READING, "value": float(value)}))

    async def send_progress(self, exercise: str, passed: bool, reason: str = "") -> bool:
        """Send one self-check result to the teacher's board (what ``report_progress`` does for each check)."""
        message = {"type": MessageType.PROGRESS, "exercise": exercise, "passed": bool(passed), "reason": str(reason)}
        return await self._send(json.dumps(message))

    async def leave(self) -> None:
        """Leave the room (close with 1000) and wait until the server has confirmed."""
        self._stop_progress()
        if self.backfill is not None and not self.backfill.done():
            self.backfill.cancel()
        client, reader = self._client, self._reader
        if client is None:
            return
        await client.close(CloseCode.NORMAL_CLOSURE, "bye", timeout=0 if reader is not None else 5)
        if reader is not None:
            try:
                await asyncio.wait_for(reader, 5)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                pass

    def __repr__(self) -> str:
        return f"<ChatState {self.name!r} {self.summary}>"
