"""JSON messages with a ``type`` field: a small application protocol on a WebSocket.

A WebSocket carries text or bytes; what they mean is up to the application.
The usual answer is one JSON object per message with a ``type`` field saying
what it is, checked on arrival, with a clear error sent back to the sender
when it is wrong (the server never trusts a message's shape).

``/json`` (``JsonHandler``) speaks this protocol::

    a client sends                           that client gets back
    {"type": "echo", "text": "hi"}           {"type": "echo", "text": "hi"}
    {"type": "ping", "id": 7}                {"type": "pong", "id": 7}
    {"type": "count", "to": 3, "size": 10}   {"type": "count", "n": 1, "data": "xxxxxxxxxx"} ... n = 3,
                                             then {"type": "done", "sent": 3, "longest_wait": <seconds>}
    anything else                            {"type": "error", "error": "<what was wrong and what to send>"}

``ping`` is the heartbeat a browser can do: a page cannot send WebSocket ping
frames, so it sends a ``ping`` message and expects the ``pong`` in time.
``count`` shows backpressure: it awaits each ``write_message``, so a client
that does not read pauses the sending instead of filling the server's memory,
and it catches ``WebSocketClosedError``, which says the client has left.

Add a type by naming its fields in ``fields`` and writing ``handle_<type>``
(see the exercise of notebook 07).
"""

from __future__ import annotations

import asyncio
import inspect
import json
from typing import Any, ClassVar, Mapping

from tornado.websocket import WebSocketClosedError

from ..events import EventKind
from ..jsontext import JsonTooComplex, loads
from ..messages import JsonType
from .handlers import TutorialHandler, describe_message

__all__ = ["JsonHandler", "ProtocolError", "parse_message", "MAX_COUNT", "MAX_COUNT_BYTES"]

# A count is a demonstration, not a way to make the server send gigabytes.
MAX_COUNT = 100_000
MAX_COUNT_BYTES = 64 * 1024 * 1024

Fields = Mapping[str, Mapping[str, type]]


class ProtocolError(ValueError):
    """A message that does not follow the protocol; ``str()`` is the sentence sent back."""


def _kind(value: Any) -> str:
    """A JSON value's type as JSON calls it, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


_NAMES = {str: "a string", int: "a whole number", float: "a number", list: "a list", dict: "an object", bool: "true or false"}


def _fits(value: Any, expected: type) -> bool:
    if isinstance(value, bool) and expected is not bool:
        return False  # JSON true is not the number 1
    if expected is float:
        return isinstance(value, (int, float))
    return isinstance(value, expected)


def parse_message(message: str | bytes, fields: Fields) -> dict[str, Any]:
    """Decode ``message`` and check it against ``fields`` ({type: {field: Python type}}).

    Returns the decoded object. Raises ``ProtocolError`` with a sentence that
    says what was wrong and what to send instead.
    """
    known = ", ".join(sorted(fields))
    if isinstance(message, bytes):
        raise ProtocolError(f"got a binary message ({len(message)} bytes); send JSON as text")
    try:
        data = loads(message)
    except json.JSONDecodeError as error:
        raise ProtocolError(
            f"not JSON ({error.msg} at character {error.pos}); send an object such as "
            '{"type": "echo", "text": "hi"}'
        ) from None
    except JsonTooComplex as error:  # the sender's error too, not the server's
        raise ProtocolError(str(error)) from None
    if not isinstance(data, dict):
        raise ProtocolError(f'a message is a JSON object with a "type" field, got {_kind(data)}')
    if "type" not in data:
        raise ProtocolError(f'the message has no "type" field; known types: {known}')
    kind = data["type"]
    if not isinstance(kind, str) or kind not in fields:
        raise ProtocolError(f"unknown type {json.dumps(kind)[:40]}; known types: {known}")
    for name, expected in fields[kind].items():
        if name not in data:
            raise ProtocolError(f'"{kind}" messages need a "{name}" field ({_NAMES.get(expected, expected.__name__)})')
        if not _fits(data[name], expected):
            raise ProtocolError(
                f'the "{name}" of "{kind}" messages must be {_NAMES.get(expected, expected.__name__)}, '
                f"got {_kind(data[name])}"
            )
    return data


class JsonHandler(TutorialHandler):
    """``/json``: JSON messages with a ``type``, checked on arrival, errors sent back."""

    # The protocol: each type and its required fields. A subclass adds a type
    # with fields = {**JsonHandler.fields, "new": {...}} and a handle_new method.
    fields: ClassVar[dict[str, dict[str, type]]] = {
        JsonType.ECHO: {"text": str},
        JsonType.PING: {"id": int},
        JsonType.COUNT: {"to": int, "size": int},
    }

    counting: "asyncio.Future[None] | None" = None

    def open(self, *args: Any, **kwargs: Any) -> None:
        self.record("new connection", kind=EventKind.OPEN)

    async def on_message(self, message: str | bytes) -> None:
        # A coroutine: Tornado reads this client's next message only once it
        # returns, so one client's messages are handled in order.
        try:
            data = parse_message(message, self.fields)
            handle = getattr(self, f"handle_{data['type']}", None)
            if handle is None:
                raise ProtocolError(f'the server lists type "{data["type"]}" but has no handle_{data["type"]} method')
            reply = handle(data)
            if inspect.isawaitable(reply):
                reply = await reply
        except ProtocolError as error:
            self.record(f"refused {describe_message(message)}: {error}", kind=EventKind.PROTOCOL)
            reply = {"type": JsonType.ERROR, "error": str(error)}
        except Exception as error:  # a bug in a handle_ method: tell the sender, keep the connection
            self.record(f"error handling {describe_message(message)}: {error!r}", kind=EventKind.ERROR)
            reply = {"type": JsonType.ERROR, "error": "the server failed to handle this message (see its event log)"}
        if reply is not None:
            await self.send(reply)

    async def send(self, reply: dict[str, Any]) -> bool:
        """Send ``reply`` as JSON and wait until it is on its way; False when the client has left."""
        try:
            await self.write_message(reply)  # a dict: Tornado sends it as JSON text
        except WebSocketClosedError:
            self.record(f"could not send {reply.get('type')!r}: the client has left (WebSocketClosedError)", kind=EventKind.CLOSE)
            return False
        return True

    def on_close(self) -> None:
        self.record("connection closed", kind=EventKind.CLOSE)

    # -- the message types ------------------------------------------------------

    def handle_echo(self, message: dict[str, Any]) -> dict[str, Any]:
        return {"type": JsonType.ECHO, "text": message["text"]}

    def handle_ping(self, message: dict[str, Any]) -> dict[str, Any]:
        # Not recorded: a heartbeat every few seconds would bury everything else.
        return {"type": JsonType.PONG, "id": message["id"]}

    def handle_count(self, message: dict[str, Any]) -> None:
        to, size = message["to"], message["size"]
        if not 1 <= to <= MAX_COUNT or not 0 <= size or to * size > MAX_COUNT_BYTES:
            raise ProtocolError(
                f"count to 1..{MAX_COUNT} with size >= 0 and at most {MAX_COUNT_BYTES // 2**20} MiB in all, "
                f"got to={to}, size={size}"
            )
        if self.counting is not None and not self.counting.done():
            raise ProtocolError("a count is still running on this connection; wait for its done message")
        # A task of its own, so on_message returns at once: Tornado goes on
        # reading this client's messages (its pings, its close frame) while
        # the count is sent. Keep a reference: asyncio keeps tasks only weakly.
        self.counting = asyncio.ensure_future(self.count(to, size))

    async def count(self, to: int, size: int) -> None:
        """Send ``to`` messages of ``size`` characters, each only once the previous one is on its way."""
        data = "x" * size
        longest = 0.0
        loop = asyncio.get_running_loop()
        try:
            for n in range(1, to + 1):
                started = loop.time()
                # Backpressure: the future completes once this message has left
                # Tornado's buffer for the socket. Awaiting it pauses this loop
                # while the client does not read; without the await, every
                # message would pile up in the server's memory.
                await self.write_message({"type": JsonType.COUNT, "n": n, "data": data})
                longest = max(longest, loop.time() - started)
            self.record(f"count sent {to} messages; the longest wait for the client was {longest:.2f} s", kind=EventKind.MESSAGE)
            await self.write_message({"type": JsonType.DONE, "sent": to, "longest_wait": round(longest, 3)})
        except WebSocketClosedError:
            # Not a bug: the client left. write_message raises it at once when
            # the connection is closing, or through the future when it closes
            # while the message waits.
            self.record(f"count stopped after {n - 1} of {to} messages: the client left (WebSocketClosedError)", kind=EventKind.CLOSE)
        except Exception as error:  # a task's exception would otherwise go unseen
            self.record(f"error in count: {error!r}", kind=EventKind.ERROR)
