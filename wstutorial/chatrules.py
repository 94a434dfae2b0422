"""The classroom chat's rules and message format, shared by the room (server) and the student (client).

One room per classroom server. A student joins ``/chat?name=Ada``; each
message a student sends reaches everyone, with the sender's name. The room
(``classroom/room.py``) decides; the WebSocket handlers (``classroom/server.py``)
only pass messages in and out; the student's side (``student/chat.py``) speaks
the same format. Nothing here does I/O, so it is tested without a network.

Message format (JSON objects, one per WebSocket text message)
--------------------------------------------------------------

A student sends either plain text (a chat line, what the tutorial's Hello
World panel sends) or a JSON object:

- ``{"type": "chat", "text": "hello"}`` — a chat line;
- ``{"type": "reading", "value": 21.5}`` — a sensor-like reading (a finite
  number) that everyone's live chart shows;
- ``{"type": "progress", "exercise": "mini_chat", "passed": true, "reason": "..."}``
  — a self-check result for the teacher's board (``board.py``), sent back to
  the student alone as confirmation, never to the others; it may carry
  ``"at"``, when the check ran (seconds since 1970);
- ``{"type": "progress_batch", "results": [{"exercise", "passed", "reason", "at"}, ...]}``
  — up to ``MAX_BATCH`` results checked before joining, sent once on joining
  (one message: one token of the rate limit); the student gets back
  ``{"type": "progress_batch", "stored": n, "kept": m}`` (``kept``: results
  not stored: the board had a newer one, or no room for the exercise).

Everyone in the room receives JSON objects:

- ``{"type": "welcome", "name": "Ada", "members": [...], "history": [...]}`` —
  to the student who just joined (``history``: the last chat lines);
- ``{"type": "presence", "joined": ["Ada"], "left": ["Bob"]}`` — who came
  and went: only the changes, never the whole list, and one message for a
  burst (changes within ``PRESENCE_DELAY`` seconds; someone who joined and
  left within it is not mentioned);
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

import functools
import json
import math
import re
import time
import unicodedata
from typing import Any, Callable, Mapping

from .confusables import skeleton
from .jsontext import JsonTooComplex, loads
from .messages import MessageType
from .protocol import CloseCode

__all__ = [
    "NameRejected",
    "TokenBucket",
    "validate_name",
    "parse_incoming",
    "describe",
    "dump",
    "MAX_NAME_LENGTH",
    "MAX_TEXT_LENGTH",
    "DEFAULT_RATE",
    "DEFAULT_BURST",
    "DEFAULT_MAX_REFUSALS",
    "HISTORY_LENGTH",
    "CLOSE_POLICY",
    "TooManyJoins",
    "DEFAULT_JOIN_RATE",
    "DEFAULT_JOIN_BURST",
    "PRESENCE_DELAY",
    "name_key",
    "parse_progress",
    "parse_progress_batch",
    "MAX_BATCH",
    "MAX_EXERCISE_LENGTH",
    "MAX_REASON_LENGTH",
    "NOTEBOOK_SUFFIXES",
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
# Per address: joins (with or without leaving) at 1 every 2 seconds on
# average, bursts of 10 (a student reconnecting, a few notebooks on one
# laptop); a script joining and leaving in a loop is refused.
DEFAULT_JOIN_RATE = 0.5
DEFAULT_JOIN_BURST = 10
# Who came and went is sent once per this many seconds, for everyone who
# changed in between: 30 students joining at the start of a lesson cost
# each member one message, not 30 lists of 30 names.
PRESENCE_DELAY = 0.25
CLOSE_POLICY = CloseCode.POLICY_VIOLATION

# A self-check result for the teacher's board (classroom/board.py).
MAX_EXERCISE_LENGTH = 40
MAX_REASON_LENGTH = 300
# Results in one progress_batch message: a student's whole board row fits in one
# (the tutorial has fewer than 40 exercises: wstutorial/curriculum.py).
MAX_BATCH = 40
EXERCISE_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")

_NAME_PUNCTUATION = frozenset(" -_.'")

# Notebook 06 names its other connections after the student: NAME-panel, NAME-code, ...
# The room counts them as NAME's (activity on NAME's board row), not as students of their own.
NOTEBOOK_SUFFIXES = ("panel", "hello", "code", "speedy", "twin", "browser")


class NameRejected(ValueError):
    """A name that cannot be used; ``str()`` says why and what to type instead."""


@functools.lru_cache(maxsize=4096)
def name_key(name: str) -> str:
    """What two names are compared by: equal keys look alike.

    Remembered for the last 4,096 names (a student's connections and rejoins
    ask again); a room keeps its members' keys itself (``taken_keys``).

    NFKC folds compatibility forms (fullwidth ``Ａｄａ``, mathematical ``𝐀da``),
    ``casefold`` ignores case, and the Unicode TS #39 confusable skeleton
    (:func:`.confusables.skeleton`) maps look-alikes from other scripts
    (Cyrillic ``А``, Greek ``Α``) and within one (``rn``/``m``, ``l``/``1``)
    to one prototype and drops invisible characters (a Hangul filler).
    """
    return skeleton(unicodedata.normalize("NFKC", name).casefold())


def validate_name(raw: object, taken: Any = (), *, taken_keys: Mapping[str, str] | None = None) -> str:
    """Return ``raw`` as a clean chat name, or raise :class:`NameRejected`.

    A name has 1 to ``MAX_NAME_LENGTH`` characters: letters (any alphabet),
    digits, spaces and ``- _ . '``; it starts with a letter or digit and does
    not look like a name already ``taken`` (compared by :func:`name_key`:
    without case, compatibility forms or look-alike letters).
    ``taken_keys`` (each taken name by its :func:`name_key`) does the same in
    one lookup: a room of thousands keeps it, since comparing with each name
    in turn makes every join cost as much as the whole room.
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
    key = name_key(name)
    if taken_keys is not None:
        same = taken_keys.get(key)
    else:
        same = next((other for other in taken if name_key(other) == key), None)
    if same is not None:
        if same.casefold() == name.casefold():
            looks = "is already in the room" if same == name else f"is already in the room (as {same!r})"
        else:
            looks = f"looks like {same!r}, who is in the room"
        raise NameRejected(f"name {name!r} {looks}; choose another one")
    return name


class TooManyJoins(NameRejected):
    """An address that joins too often; ``str()`` says how long to wait."""


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

    @property
    def full(self) -> bool:
        """True when the bucket has refilled (forgetting it changes nothing)."""
        return self._tokens + (self._clock() - self._last) * self.rate >= self.burst


def dump(message: dict[str, Any]) -> str:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


def parse_incoming(raw: str | bytes) -> dict[str, Any]:
    """Turn what a student sent into ``{"type": "chat"|"reading", ...}``, or raise ``ValueError``."""
    if isinstance(raw, bytes):
        raise ValueError("binary messages are not part of the chat; send text or JSON")
    text = raw
    if text.lstrip().startswith("{"):
        try:
            data = loads(text)
        except JsonTooComplex as error:
            raise ValueError(f"{error} (the room takes chat text or a message of one type)") from None
        except ValueError:
            data = None  # text that merely starts with "{" is a chat line
        if isinstance(data, dict):
            kind = data.get("type")
            if kind == MessageType.CHAT and isinstance(data.get("text"), str):
                text = data["text"]
            elif kind == MessageType.READING:
                value = data.get("value")
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                    raise ValueError(f"a reading's value must be a finite number, got {value!r}")
                return {"type": MessageType.READING, "value": value}
            elif kind == MessageType.PROGRESS:  # a self-check result, for the teacher's board (board.py)
                return parse_progress(data)
            elif kind == MessageType.PROGRESS_BATCH:  # results from before joining (student/progress.py keeps them)
                return parse_progress_batch(data)
            else:
                raise ValueError(
                    f'unknown message {text[:60]!r}: send text, {{"type": "chat", "text": ...}} '
                    f'or {{"type": "reading", "value": <number>}}'
                )
    if not text.strip():
        raise ValueError("empty message: type something first")
    if len(text) > MAX_TEXT_LENGTH:
        raise ValueError(f"message is {len(text)} characters long; the limit is {MAX_TEXT_LENGTH}")
    return {"type": MessageType.CHAT, "text": text}



def parse_progress(data: dict[str, Any]) -> dict[str, Any]:
    """Check a ``progress`` message; return ``{"type": "progress", "exercise", "passed", "reason"}`` or raise ``ValueError``."""
    exercise, passed, reason = data.get("exercise"), data.get("passed"), data.get("reason", "")
    if not isinstance(exercise, str) or not EXERCISE_NAME.match(exercise) or len(exercise) > MAX_EXERCISE_LENGTH:
        raise ValueError(
            f"a progress message needs an exercise name such as 'mini_chat' (lower case, digits, _; "
            f"at most {MAX_EXERCISE_LENGTH} characters), got {str(exercise)[:60]!r}"
        )
    if not isinstance(passed, bool):
        raise ValueError(f"a progress message's 'passed' must be true or false, got {passed!r:.40}")
    if not isinstance(reason, str) or len(reason) > MAX_REASON_LENGTH:
        size = len(reason) if isinstance(reason, str) else type(reason).__name__
        raise ValueError(f"a progress message's 'reason' is text of at most {MAX_REASON_LENGTH} characters, got {size}")
    result: dict[str, Any] = {"type": MessageType.PROGRESS, "exercise": exercise, "passed": passed, "reason": reason}
    if "at" in data:
        at = data["at"]
        if isinstance(at, bool) or not isinstance(at, (int, float)) or not math.isfinite(at) or at < 0:
            raise ValueError(f"a progress message's 'at' is a time in seconds since 1970, got {str(at)[:40]!r}")
        result["at"] = float(at)
    return result


def parse_progress_batch(data: dict[str, Any]) -> dict[str, Any]:
    """Check a ``progress_batch`` message (earlier results, each with ``at``); return ``{"type", "results"}`` or raise ``ValueError``."""
    results = data.get("results")
    if not isinstance(results, list) or not 1 <= len(results) <= MAX_BATCH:
        size = len(results) if isinstance(results, list) else type(results).__name__
        raise ValueError(f"a progress_batch message's 'results' is a list of 1 to {MAX_BATCH} results, got {size}")
    parsed = []
    for item in results:
        if not isinstance(item, dict) or "at" not in item:
            raise ValueError("each result of a progress_batch needs exercise, passed, reason and at (when the check ran)")
        parsed.append(parse_progress(item))
    return {"type": MessageType.PROGRESS_BATCH, "results": parsed}


def describe(message: dict[str, Any]) -> str | None:
    """One line of text for a message from the room (None for those not shown as lines)."""
    kind = message.get("type")
    if kind == MessageType.CHAT:
        return f"{message.get('name')}: {message.get('text')}"
    if kind == MessageType.PRESENCE:
        joined, left = message.get("joined") or [], message.get("left") or []
        parts = [f"{', '.join(map(str, joined))} joined"] if joined else []
        parts += [f"{', '.join(map(str, left))} left"] if left else []
        return f"* {'; '.join(parts)}" if parts else None
    if kind == MessageType.WELCOME:
        return f"* you joined as {message.get('name')}"
    if kind == MessageType.STREAM:
        return f"* the teacher {'started' if message.get('running') else 'stopped'} the stream"
    if kind == MessageType.NOTICE:
        return f"(only you see this) {message.get('text')}"
    if kind == MessageType.PROGRESS:
        return f"* the teacher's board shows {message.get('exercise')}: {'passed' if message.get('passed') else 'not yet'}"
    if kind in (MessageType.READING, MessageType.PROGRESS_BATCH):
        return None  # readings go to the chart (/readings); earlier results were sent quietly on joining
    return f"? {message}"

