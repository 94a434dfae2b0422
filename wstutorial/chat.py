"""The classroom chat room: names, rate limits and who gets what (no UI, no I/O).

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

Names and texts are data: every page and widget shows them as text.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
import unicodedata
from collections import deque
from typing import Any, Callable

__all__ = [
    "ChatRoom",
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
