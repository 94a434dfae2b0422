"""Self-checks for notebook 07's exercises (message protocols and robust clients).

Like the checks in ``exercises.py``: each runs the learner's code against a
real server on a free port with a real client and returns a ``CheckResult``,
one sentence, never a traceback.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from tornado.websocket import WebSocketHandler

from ..client import BlockingClient, ConnectionClosed, ConnectionFailed, connect_blocking
from ..reconnect import Backoff
from ..server.jsonproto import JsonHandler
from ..server.runner import start_server
from .exercises import CheckResult

__all__ = ["check_add_type", "check_backoff"]

ANSWER_TIMEOUT = 3.0
PATH = "/exercise"


class _NotYet(Exception):
    """Ends a check with the sentence to show."""


def _server_error(events: Any) -> str:
    for event in events.snapshot():
        if event.kind == "error":
            return f" (the server recorded: {event.text})"
    return ""


def _ask(client: BlockingClient, message: dict[str, Any], what: str) -> dict[str, Any]:
    """Send ``message`` and return the decoded answer, or end the check with a sentence."""
    sent = json.dumps(message)
    client.send(sent)
    try:
        answer = client.receive(timeout=ANSWER_TIMEOUT)
    except TimeoutError:
        raise _NotYet(
            f"no answer within {ANSWER_TIMEOUT:g} s to {sent}: {what}"
        ) from None
    except ConnectionClosed as closed:
        raise _NotYet(f"the connection closed after {sent}: {closed}") from None
    try:
        data = json.loads(answer)
    except (TypeError, ValueError):
        raise _NotYet(f"the answer to {sent} was not JSON: {answer!r:.80}") from None
    if not isinstance(data, dict):
        raise _NotYet(f"the answer to {sent} was not a JSON object: {answer!r:.80}")
    return data


def check_add_type(handler_class: object) -> CheckResult:
    """Exercise "add a message type": ``AddHandler`` adds ``add`` to the ``/json`` protocol.

    ``{"type": "add", "numbers": [1, 2, 3.5]}`` is answered with
    ``{"type": "sum", "value": 6.5}``; a missing or wrong ``numbers`` and a
    list holding anything but numbers get ``{"type": "error", ...}``; the
    other types (``echo``, ``ping``) still work.
    """
    if isinstance(handler_class, WebSocketHandler):
        return CheckResult(False, f"pass the class itself ({type(handler_class).__name__}), not an instance of it")
    if not (isinstance(handler_class, type) and issubclass(handler_class, JsonHandler)):
        return CheckResult(False, f"expected a class defined as 'class AddHandler(JsonHandler):', got {handler_class!r:.60}")
    fields = getattr(handler_class, "fields", None)
    if not isinstance(fields, dict) or "add" not in fields:
        return CheckResult(False, 'AddHandler.fields has no "add" type yet: add "add": {"numbers": list} to it')
    missing = sorted(set(JsonHandler.fields) - set(fields))
    if missing:
        return CheckResult(
            False,
            f"AddHandler.fields lost the types {', '.join(missing)}: keep them with fields = {{**JsonHandler.fields, \"add\": ...}}",
        )
    if fields["add"] != {"numbers": list}:
        return CheckResult(False, f'the "add" type should have one field, "numbers" (a list): {{"numbers": list}}, got {fields["add"]!r}')
    try:
        server = start_server("127.0.0.1", 0, handlers={PATH: handler_class}, ping_interval=None)
    except Exception as error:
        return CheckResult(False, f"the server could not use {handler_class.__name__}: {error}")
    try:
        try:
            client = connect_blocking(server.ws_url(PATH), timeout=ANSWER_TIMEOUT)
        except ConnectionFailed as error:
            raise _NotYet(f"could not connect to your handler: {error.reason}") from None
        with client:
            hint = 'return the reply from handle_add, e.g. {"type": "sum", "value": 6.5}'
            answer = _ask(client, {"type": "add", "numbers": [1, 2, 3.5]}, hint)
            if answer.get("type") == "error":
                raise _NotYet(f"adding [1, 2, 3.5] was answered with the error {answer.get('error')!r}")
            if answer != {"type": "sum", "value": 6.5}:
                raise _NotYet(f'adding [1, 2, 3.5] was answered with {json.dumps(answer)}, expected {{"type": "sum", "value": 6.5}}')
            answer = _ask(client, {"type": "add", "numbers": []}, hint)
            if answer != {"type": "sum", "value": 0}:
                raise _NotYet(f'adding [] was answered with {json.dumps(answer)}, expected {{"type": "sum", "value": 0}}')
            refuse = 'raise ProtocolError("...") in handle_add for an item that is not a number'
            answer = _ask(client, {"type": "add", "numbers": [1, "two"]}, refuse)
            if answer.get("type") != "error":
                raise _NotYet(f'[1, "two"] was answered with {json.dumps(answer)}: {refuse}')
            if "failed to handle" in str(answer.get("error")):
                raise _NotYet(f'[1, "two"] made handle_add fail with an exception instead of a clear error: {refuse}')
            answer = _ask(client, {"type": "add", "numbers": [True]}, refuse)
            if answer.get("type") != "error":
                raise _NotYet(f"[true] was answered with {json.dumps(answer)}: true is not a number in JSON; {refuse}")
            answer = _ask(client, {"type": "echo", "text": "still there?"}, "echo should still work")
            if answer != {"type": "echo", "text": "still there?"}:
                raise _NotYet(f"echo stopped working: it answered {json.dumps(answer)}")
        return CheckResult(
            True,
            'your "add" type sums [1, 2, 3.5] to 6.5 and [] to 0, refuses [1, "two"] with an error, and echo still works.',
        )
    except _NotYet as failure:
        return CheckResult(False, f"{failure}{_server_error(server.events)}")
    except Exception as error:  # never a traceback for the learner
        return CheckResult(False, f"the check stopped: {type(error).__name__}: {error}{_server_error(server.events)}")
    finally:
        server.stop()


def check_backoff(delay: Callable[..., Any]) -> CheckResult:
    """Exercise "exponential backoff with jitter": ``delay(attempt, initial, maximum)``.

    Returns a random number of seconds between 0 and
    ``min(maximum, initial * 2 ** (attempt - 1))``, attempts counted from 1.
    """
    if not callable(delay):
        return CheckResult(False, f"expected the function delay, got {delay!r:.60}")
    try:
        cases = [(1, 1.0, 30.0), (2, 1.0, 30.0), (4, 0.5, 30.0), (10, 1.0, 30.0), (3, 2.0, 5.0)]
        for attempt, initial, maximum in cases:
            cap = Backoff(initial=initial, maximum=maximum, jitter=False).cap(attempt)
            values = [delay(attempt, initial, maximum) for _ in range(200)]
            if any(value is None for value in values):
                return CheckResult(False, "delay returned None: return the number of seconds to wait")
            if not all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in values):
                return CheckResult(False, f"delay returned {values[0]!r}, not a number of seconds")
            call = f"delay({attempt}, {initial:g}, {maximum:g})"
            if min(values) < 0 or max(values) > cap + 1e-9:
                outside = min(values) if min(values) < 0 else max(values)
                return CheckResult(False, f"{call} returned {outside:.3f}, outside 0 to {cap:g} (= min(maximum, initial * 2 ** (attempt - 1)))")
            if len(set(values)) == 1:
                return CheckResult(False, f"{call} returned {values[0]:g} every time: add jitter, e.g. random.uniform(0, cap), so clients spread out")
            if max(values) < cap * 0.8 or min(values) > cap * 0.2:
                return CheckResult(False, f"{call} returned values from {min(values):.2f} to {max(values):.2f}: spread them over the whole range 0 to {cap:g}")
    except Exception as error:
        return CheckResult(False, f"delay raised {type(error).__name__}: {error}")
    return CheckResult(True, "your delays grow 1, 2, 4, ... times initial up to maximum, each a random part of that cap.")

