"""The classroom chat room: names, rate limits, who gets what; and a student's side of it (no UI).

One room per classroom server. A student joins ``/chat?name=Ada``; each
message a student sends reaches everyone, with the sender's name. The room
decides; the WebSocket handlers in ``classroom.py`` only pass messages in and
out, so this module is tested without a network.

Message format (JSON objects, one per WebSocket text message)
--------------------------------------------------------------

A student sends either plain text (a chat line, what the tutorial's Hello
World panel sends) or a JSON object:

- ``{"type": "chat", "text": "hello"}`` — a chat line;
- ``{"type": "reading", "value": 21.5}`` — a sensor-like reading (a finite
  number) that everyone's live chart shows.

Everyone in the room receives JSON objects:

- ``{"type": "welcome", "name": "Ada", "members": [...], "history": [...]}`` —
  to the student who just joined (``history``: the last chat lines);
- ``{"type": "join", "name": "Ada", "members": [...]}`` and
  ``{"type": "leave", "name": "Ada", "members": [...]}``;
- ``{"type": "chat", "name": "Ada", "text": "hello"}``;
- ``{"type": "reading", "name": "Ada", "value": 21.5}``;
- ``{"type": "stream", "running": true}`` — the teacher started or stopped
  the part-2 stream;
- ``{"type": "notice", "text": "..."}`` — to one student only: why their
  message was refused (too long, too fast, not understood).

Read-only, on ``/readings`` (for a live chart, e.g. ``StreamView``): on every
reading, everyone's newest value by name, ``{"Ada": 21.5, "Bob": 19.0}``.

Names and texts are data: every page and widget shows them as text.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import math
import time
import unicodedata
import urllib.parse
from collections import deque
from typing import Any, Callable

from .address import InvalidAddress, ws_url
from .client import Client, ConnectionClosed, ConnectionFailed, connect
from .server import default_port

logger = logging.getLogger("wstutorial")

__all__ = [
    "ChatRoom",
    "ChatState",
    "describe",
    "Member",
    "NameRejected",
    "TokenBucket",
    "Verdict",
    "validate_name",
    "parse_incoming",
    "MAX_NAME_LENGTH",
    "MAX_TEXT_LENGTH",
    "DEFAULT_RATE",
    "DEFAULT_BURST",
    "DEFAULT_MAX_REFUSALS",
    "CLOSE_POLICY",
]

MAX_NAME_LENGTH = 24
# A chat line, not a file: long enough for a sentence or a short code snippet.
MAX_TEXT_LENGTH = 500
# Per student: a steady 2 messages a second, bursts of up to 10 (a notebook
# sending readings twice a second stays within it; a loop gone wild does not).
DEFAULT_RATE = 2.0
DEFAULT_BURST = 10
# Refused messages in a row before the room closes the connection (1008).
DEFAULT_MAX_REFUSALS = 20
HISTORY_LENGTH = 20
CLOSE_POLICY = 1008  # "policy violation" (RFC 6455, 7.4.1)

_NAME_PUNCTUATION = frozenset(" -_.'")


class NameRejected(ValueError):
    """A name that cannot be used; ``str()`` says why and what to type instead."""


def validate_name(raw: object, taken: Any = ()) -> str:
    """Return ``raw`` as a clean chat name, or raise :class:`NameRejected`.

    A name has 1 to ``MAX_NAME_LENGTH`` characters: letters (any alphabet),
    digits, spaces and ``- _ . '``; it starts with a letter or digit and is
    not already ``taken`` (compared without case).
    """
    name = unicodedata.normalize("NFC", str(raw)).strip()
    if not name:
        raise NameRejected("name is empty: add ?name=YourName to the address")
    if len(name) > MAX_NAME_LENGTH:
        raise NameRejected(f"name is {len(name)} characters long; use at most {MAX_NAME_LENGTH}")
    bad = sorted({ch for ch in name if not (ch.isalnum() or ch in _NAME_PUNCTUATION)})
    if bad:
        shown = "".join(bad)[:10]
        raise NameRejected(f"name has characters that are not allowed: {shown!r}; use letters, digits, spaces, - _ . '")
    if not name[0].isalnum():
        raise NameRejected(f"name must start with a letter or a digit, got {name[:MAX_NAME_LENGTH]!r}")
    if name.casefold() in {other.casefold() for other in taken}:
        raise NameRejected(f"name {name!r} is already in the room; choose another one")
    return name


class TokenBucket:
    """Allow ``rate`` events per second on average, and bursts of ``burst``.

    ``clock`` is injectable so tests need not sleep.
    """

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        if not rate > 0 or burst < 1:
            raise ValueError(f"rate must be positive and burst at least 1, got rate={rate!r} burst={burst!r}")
        self.rate = float(rate)
        self.burst = int(burst)
        self._clock = clock
        self._tokens = float(burst)
        self._last = clock()

    def allow(self) -> bool:
        """Take one token if there is one; False when over the limit."""
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False


@dataclasses.dataclass
class Member:
    """One student in the room; ``send`` delivers a JSON text to them."""

    name: str
    send: Callable[[str], object]
    bucket: TokenBucket
    refused_in_a_row: int = 0
    sent: int = 0


@dataclasses.dataclass(frozen=True)
class Verdict:
    """What the handler must do with a student's message: nothing, or close."""

    accepted: bool
    close_code: int | None = None
    close_reason: str = ""


def _dump(message: dict[str, Any]) -> str:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


def parse_incoming(raw: str | bytes) -> dict[str, Any]:
    """Turn what a student sent into ``{"type": "chat"|"reading", ...}``, or raise ``ValueError``."""
    if isinstance(raw, bytes):
        raise ValueError("binary messages are not part of the chat; send text or JSON")
    text = raw
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            data = None  # text that merely starts with "{" is a chat line
        if isinstance(data, dict):
            kind = data.get("type")
            if kind == "chat" and isinstance(data.get("text"), str):
                text = data["text"]
            elif kind == "reading":
                value = data.get("value")
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                    raise ValueError(f"a reading's value must be a finite number, got {value!r}")
                return {"type": "reading", "value": value}
            else:
                raise ValueError(
                    f'unknown message {text[:60]!r}: send text, {{"type": "chat", "text": ...}} '
                    f'or {{"type": "reading", "value": <number>}}'
                )
    if not text.strip():
        raise ValueError("empty message: type something first")
    if len(text) > MAX_TEXT_LENGTH:
        raise ValueError(f"message is {len(text)} characters long; the limit is {MAX_TEXT_LENGTH}")
    return {"type": "chat", "text": text}


class ChatRoom:
    """Who is in the room, and what each message makes happen.

    Lives on the server's event loop (one thread); ``send`` callables must
    not block. ``watchers`` (the teacher's page) get the member list on every
    change.
    """

    def __init__(
        self,
        *,
        rate: float = DEFAULT_RATE,
        burst: int = DEFAULT_BURST,
        max_refusals: int = DEFAULT_MAX_REFUSALS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        TokenBucket(rate, burst)  # validates the numbers now, with a clear message
        self.rate = rate
        self.burst = burst
        self.max_refusals = max_refusals
        self._clock = clock
        self.members: dict[str, Member] = {}
        self.history: deque[dict[str, Any]] = deque(maxlen=HISTORY_LENGTH)
        self.watchers: dict[object, Callable[[str], object]] = {}
        self.readers: dict[object, Callable[[str], object]] = {}
        self.latest: dict[str, float] = {}  # each sender's newest reading, for /readings
        self.refused = 0  # messages refused since the room opened

    @property
    def names(self) -> list[str]:
        return sorted(self.members, key=str.casefold)

    def join(self, raw_name: object, send: Callable[[str], object]) -> Member:
        """Add a student; raises :class:`NameRejected` (the handler closes with 1008)."""
        name = validate_name(raw_name, self.members)
        member = Member(name, send, TokenBucket(self.rate, self.burst, self._clock))
        self.members[name] = member
        send(_dump({"type": "welcome", "name": name, "members": self.names, "history": list(self.history)}))
        self._broadcast({"type": "join", "name": name, "members": self.names}, skip=name)
        self._tell_watchers()
        return member

    def leave(self, name: str) -> None:
        self.latest.pop(name, None)
        if self.members.pop(name, None) is not None:
            self._broadcast({"type": "leave", "name": name, "members": self.names})
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
        message = {"type": message["type"], "name": name, **{k: v for k, v in message.items() if k != "type"}}
        if message["type"] == "chat":
            self.history.append(message)
        self._broadcast(message)
        if message["type"] == "reading":
            self.latest[name] = message["value"]
            self._tell_readers()
        return Verdict(True)

    def announce(self, message: dict[str, Any]) -> int:
        """Send a server message (e.g. ``{"type": "stream", "running": True}``) to everyone."""
        return self._broadcast(message)

    def watch(self, key: object, send: Callable[[str], object]) -> None:
        """Send the member list to ``send`` now and on every change (the teacher's page)."""
        self.watchers[key] = send
        send(_dump({"type": "members", "members": self.names}))

    def unwatch(self, key: object) -> None:
        self.watchers.pop(key, None)

    def read(self, key: object, send: Callable[[str], object]) -> None:
        """Send ``{"Ada": 21.5, "Bob": 19.0}`` (everyone's newest reading) on every reading (``/readings``)."""
        self.readers[key] = send

    def unread(self, key: object) -> None:
        self.readers.pop(key, None)

    def _tell_readers(self) -> None:
        text = _dump({name: self.latest[name] for name in sorted(self.latest, key=str.casefold)})
        for send in list(self.readers.values()):
            send(text)

    def _refuse(self, member: Member, why: str) -> Verdict:
        self.refused += 1
        member.refused_in_a_row += 1
        if member.refused_in_a_row > self.max_refusals:
            return Verdict(False, CLOSE_POLICY, f"{member.refused_in_a_row} messages refused in a row; closed")
        member.send(_dump({"type": "notice", "text": why}))
        return Verdict(False)

    def _broadcast(self, message: dict[str, Any], skip: str | None = None) -> int:
        text = _dump(message)
        count = 0
        for name, member in list(self.members.items()):
            if name != skip:
                member.send(text)
                count += 1
        return count

    def _tell_watchers(self) -> None:
        text = _dump({"type": "members", "members": self.names})
        for send in list(self.watchers.values()):
            send(text)


# -- the student's side ------------------------------------------------------------------

ChatListener = Callable[["ChatState"], None]


def describe(message: dict[str, Any]) -> str | None:
    """One line of text for a message from the room (None for those not shown as lines)."""
    kind = message.get("type")
    if kind == "chat":
        return f"{message.get('name')}: {message.get('text')}"
    if kind == "join":
        return f"* {message.get('name')} joined"
    if kind == "leave":
        return f"* {message.get('name')} left"
    if kind == "welcome":
        return f"* you joined as {message.get('name')}"
    if kind == "stream":
        return f"* the teacher {'started' if message.get('running') else 'stopped'} the stream"
    if kind == "notice":
        return f"(only you see this) {message.get('text')}"
    if kind == "reading":
        return None  # readings go to the chart (/readings), not the log
    return f"? {message}"


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
    """

    def __init__(self, host: str = "localhost", port: int | str | None = None, name: str = "", *, max_lines: int = 200) -> None:
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
        self.stream_running: bool | None = None
        self.close_code: int | None = None
        self.close_reason = ""
        self._max = max_lines
        self._client: Client | None = None
        self._reader: asyncio.Task[None] | None = None
        self._listeners: list[ChatListener] = []

    @property
    def url(self) -> str:
        """``ws://host:port/chat?name=...``; raises ``InvalidAddress`` or :class:`NameRejected`."""

        name = validate_name(self.name)
        return ws_url(self.host, self.port, "/chat") + "?name=" + urllib.parse.quote(name)

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
            message = json.loads(raw)
        except ValueError:
            message = None
        if not isinstance(message, dict):
            message = {"type": "?", "text": raw if isinstance(raw, str) else f"<{len(raw)} bytes>"}
        self.received.append(message)
        del self.received[: -self._max]
        if isinstance(message.get("members"), list):
            self.members = [str(name) for name in message["members"]]
        if message.get("type") == "stream":
            self.stream_running = bool(message.get("running"))
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
            url = self.url
        except (InvalidAddress, NameRejected) as error:
            self.status, self.error = "failed", str(error)
            self._changed()
            return False
        self.status, self.error, self.close_code, self.close_reason = "connecting", "", None, ""
        self._changed()
        try:
            client = await connect(url)
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

        self._reader = asyncio.get_running_loop().create_task(self._read(client))
        return True

    async def _read(self, client: Client) -> None:
        async for message in client:
            self.apply(message)
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
        return await self._send(json.dumps({"type": "chat", "text": str(text)}))

    async def send_reading(self, value: float) -> bool:
        """Send a sensor-like reading; everyone's chart on ``/readings`` shows it."""
        return await self._send(json.dumps({"type": "reading", "value": float(value)}))

    async def leave(self) -> None:
        """Leave the room (close with 1000) and wait until the server has confirmed."""
        client, reader = self._client, self._reader
        if client is None:
            return
        await client.close(1000, "bye", timeout=0 if reader is not None else 5)
        if reader is not None:
            try:
                await asyncio.wait_for(reader, 5)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                pass

    def __repr__(self) -> str:
        return f"<ChatState {self.name!r} {self.summary}>"
