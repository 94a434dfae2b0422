"""Self-checks for notebook 07's exercises (message protocols and robust clients).

Like the checks in ``exercises.py``: each runs the student's code against a
real server on a free port with a real client (or calls the function many
times) and returns a ``CheckResult``, one sentence, never a traceback.
"""

from __future__ import annotations

import inspect
import json
from typing import Any

from ..client import BlockingClient, ConnectionClosed, ConnectionFailed, connect_blocking
from ..reconnect import Backoff
from ..server.jsonproto import JsonHandler
from ..server.runner import start_server
from .probe import Probe
from .selfcheck import CheckResult, NotYet, describe, run_check

__all__ = ["check_add_type", "check_backoff"]

ANSWER_TIMEOUT = 3.0
PATH = "/exercise"


def _ask(client: BlockingClient, message: dict[str, Any], what: str) -> dict[str, Any]:
    """Send ``message`` and return the decoded answer, or end the check with a sentence."""
    sent = json.dumps(message)
    client.send(sent)
    try:
        answer = client.receive(timeout=ANSWER_TIMEOUT)
    except TimeoutError:
        raise NotYet(f"no answer within {ANSWER_TIMEOUT:g} s to {sent}: {what}", generic=True) from None
    except ConnectionClosed as closed:
        raise NotYet(f"the connection closed after {sent} ({closed})", generic=True) from None
    try:
        data = json.loads(answer)
    except (TypeError, ValueError):
        raise NotYet(f"the answer to {sent} was not JSON: {describe(answer)}") from None
    if not isinstance(data, dict):
        raise NotYet(f"the answer to {sent} was not a JSON object: {describe(answer)}")
    return data


def _reply_of_add(reply: Any) -> str | None:
    """A sentence when handle_add returned something that is not a reply (a dict) or None."""
    if reply is None or isinstance(reply, dict):
        return None
    return (
        f"handle_add returned {describe(reply)}, not a reply: return a dict, e.g. "
        '{"type": "sum", "value": 6.5}'
    )


def check_add_type(handler_class: object) -> CheckResult:
    """Exercise "add a message type": ``AddHandler`` adds ``add`` to the ``/json`` protocol.

    ``{"type": "add", "numbers": [1, 2, 3.5]}`` is answered with
    ``{"type": "sum", "value": 6.5}``; a missing or wrong ``numbers`` and a
    list holding anything but numbers get ``{"type": "error", ...}``; the
    other types (``echo``, ``ping``) still work.
    """
    probes: list[Probe] = []

    def body() -> str:
        probe = Probe(
            handler_class, "AddHandler", base=JsonHandler, base_hint="JsonHandler", returns={"handle_add": _reply_of_add}
        )
        probes.append(probe)
        fields = getattr(probe.learner, "fields", None)
        if not isinstance(fields, dict) or "add" not in fields:
            raise NotYet('AddHandler.fields has no "add" type yet: add "add": {"numbers": list} to it')
        missing = sorted(set(JsonHandler.fields) - set(fields))
        if missing:
            raise NotYet(
                f"AddHandler.fields lost the types {', '.join(missing)}: keep them with fields = {{**JsonHandler.fields, \"add\": ...}}"
            )
        if fields["add"] != {"numbers": list}:
            raise NotYet(
                f'the "add" type should have one field, "numbers" (a list): {{"numbers": list}}, got {describe(fields["add"])}'
            )
        if not callable(getattr(probe.learner, "handle_add", None)):
            raise NotYet('AddHandler has no handle_add method: the server calls handle_add for each "add" message')
        server = start_server("127.0.0.1", 0, handlers={PATH: probe.watched}, ping_interval=None, quiet=True)
        try:
            try:
                client = connect_blocking(server.ws_url(PATH), timeout=ANSWER_TIMEOUT)
            except ConnectionFailed as error:
                raise NotYet(f"could not connect to your handler: {error.reason}") from None
            with client:
                _ask_every_case(client)
        finally:
            server.stop()
        return 'your "add" type sums [1, 2, 3.5] to 6.5 and [] to 0, refuses [1, "two"] with an error, and echo still works.'

    def _ask_every_case(client: BlockingClient) -> None:
        hint = 'return the reply from handle_add, e.g. {"type": "sum", "value": 6.5}'
        answer = _ask(client, {"type": "add", "numbers": [1, 2, 3.5]}, hint)
        if answer.get("type") == "error":
            raise NotYet(f"adding [1, 2, 3.5] was answered with the error {answer.get('error')!r}", generic=True)
        if answer != {"type": "sum", "value": 6.5}:
            raise NotYet(f'adding [1, 2, 3.5] was answered with {json.dumps(answer)}, expected {{"type": "sum", "value": 6.5}}')
        answer = _ask(client, {"type": "add", "numbers": []}, hint)
        if answer != {"type": "sum", "value": 0}:
            raise NotYet(f'adding [] was answered with {json.dumps(answer)}, expected {{"type": "sum", "value": 0}}')
        refuse = 'raise ProtocolError("...") in handle_add for an item that is not a number'
        answer = _ask(client, {"type": "add", "numbers": [1, "two"]}, refuse)
        if answer.get("type") != "error":
            raise NotYet(f'[1, "two"] was answered with {json.dumps(answer)}: {refuse}')
        if "failed to handle" in str(answer.get("error")):
            raise NotYet(f'[1, "two"] made handle_add fail with an exception instead of a clear error: {refuse}')
        answer = _ask(client, {"type": "add", "numbers": [True]}, refuse)
        if answer.get("type") != "error":
            raise NotYet(f"[true] was answered with {json.dumps(answer)}: true is not a number in JSON; {refuse}")
        answer = _ask(client, {"type": "echo", "text": "still there?"}, "echo should still work")
        if answer != {"type": "echo", "text": "still there?"}:
            raise NotYet(f"echo stopped working: it answered {json.dumps(answer)}")

    def explain(failure: BaseException | None) -> str | None:
        return probes[0].explain(failure) if probes else None

    return run_check(body, explain)


def check_backoff(delay: object) -> CheckResult:
    """Exercise "exponential backoff with jitter": ``delay(attempt, initial, maximum)``.

    Returns a random number of seconds between 0 and
    ``min(maximum, initial * 2 ** (attempt - 1))``, attempts counted from 1.
    """

    def body() -> str:
        if not callable(delay) or isinstance(delay, type):
            raise NotYet(f"expected the function delay, got {describe(delay)}")
        try:
            inspect.signature(delay).bind(1, 1.0, 30.0)
        except TypeError:
            raise NotYet("delay must take three arguments: def delay(attempt, initial, maximum):") from None
        except ValueError:
            pass  # no signature to read (a builtin): just call it
        cases = [(1, 1.0, 30.0), (2, 1.0, 30.0), (4, 0.5, 30.0), (10, 1.0, 30.0), (3, 2.0, 5.0)]
        for attempt, initial, maximum in cases:
            cap = Backoff(initial=initial, maximum=maximum, jitter=False).cap(attempt)
            values = [delay(attempt, initial, maximum) for _ in range(200)]
            if any(value is None for value in values):
                raise NotYet("delay returned None: return the number of seconds to wait")
            if not all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in values):
                odd = next(value for value in values if not isinstance(value, (int, float)) or isinstance(value, bool))
                raise NotYet(f"delay returned {describe(odd)}, not a number of seconds")
            call = f"delay({attempt}, {initial:g}, {maximum:g})"
            if min(values) < 0 or max(values) > cap + 1e-9:
                outside = min(values) if min(values) < 0 else max(values)
                # Where the cap is not the maximum, a value 10 to 1000 times too big is milliseconds.
                uncapped = initial * 2 ** (attempt - 1) <= maximum
                unit = ": count in seconds, not milliseconds" if uncapped and cap * 10 < outside <= cap * 1000 + 1e-6 else ""
                raise NotYet(
                    f"{call} returned {outside:.3f}, outside 0 to {cap:g} "
                    f"(= min(maximum, initial * 2 ** (attempt - 1))){unit}"
                )
            if len(set(values)) == 1:
                raise NotYet(f"{call} returned {values[0]:g} every time: add jitter, e.g. random.uniform(0, cap), so clients spread out")
            if max(values) < cap * 0.8 or min(values) > cap * 0.2:
                raise NotYet(
                    f"{call} returned values from {min(values):.2f} to {max(values):.2f}: spread them over the whole range 0 to {cap:g}"
                )
        return "your delays grow 1, 2, 4, ... times initial up to maximum, each a random part of that cap."

    return run_check(body)
