"""The /json protocol: typed JSON messages checked on arrival, errors sent back, backpressure."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from websockets.sync.client import connect as ws_connect

import wstutorial
from wstutorial.server.jsonproto import MAX_COUNT, JsonHandler, ProtocolError, parse_message

FIELDS = JsonHandler.fields


@pytest.mark.parametrize(
    "message, sentence",
    [
        (b"\x00\x01", "got a binary message (2 bytes); send JSON as text"),
        ("hello", "not JSON (Expecting value at character 0)"),
        ("[1, 2]", 'a message is a JSON object with a "type" field, got a list'),
        ('"echo"', "got a string"),
        ('{"text": "hi"}', 'no "type" field; known types: count, echo, ping'),
        ('{"type": 5}', "unknown type 5; known types: count, echo, ping"),
        ('{"type": "shout"}', 'unknown type "shout"'),
        ('{"type": "echo"}', '"echo" messages need a "text" field (a string)'),
        ('{"type": "echo", "text": null}', 'the "text" of "echo" messages must be a string, got null'),
        ('{"type": "ping", "id": true}', 'the "id" of "ping" messages must be a whole number, got a boolean'),
        ('{"type": "ping", "id": 1.5}', "must be a whole number, got a number"),
        ('{"type": "count", "to": 3}', '"count" messages need a "size" field'),
    ],
)
def test_parse_message_refuses_with_a_sentence(message: str | bytes, sentence: str) -> None:
    """Each kind of bad message gets a sentence naming what was wrong."""
    with pytest.raises(ProtocolError) as refused:
        parse_message(message, FIELDS)
    assert sentence in str(refused.value)


def test_parse_message_returns_the_object() -> None:
    """A good message comes back decoded; extra fields are kept."""
    assert parse_message('{"type": "echo", "text": "hi", "extra": 1}', FIELDS) == {"type": "echo", "text": "hi", "extra": 1}
    assert parse_message('{"type": "ping", "id": 7}', FIELDS)["id"] == 7


def test_float_fields_take_whole_numbers_too() -> None:
    """A field declared float accepts 2 as well as 2.5 (JSON has one number type), not true."""
    fields = {"move": {"x": float}}
    assert parse_message('{"type": "move", "x": 2}', fields)["x"] == 2
    with pytest.raises(ProtocolError, match="must be a number, got a boolean"):
        parse_message('{"type": "move", "x": false}', fields)


def ask(websocket: Any, message: Any) -> dict[str, Any]:
    websocket.send(message if isinstance(message, (str, bytes)) else json.dumps(message))
    return json.loads(websocket.recv(timeout=5))


def test_json_route_answers_and_refuses(server: wstutorial.TutorialServer) -> None:
    """An independent client (websockets) gets echo, pong, and errors back; the connection stays open."""
    with ws_connect(server.ws_url("/json")) as websocket:
        assert ask(websocket, {"type": "echo", "text": "hi"}) == {"type": "echo", "text": "hi"}
        assert ask(websocket, {"type": "ping", "id": 3}) == {"type": "pong", "id": 3}
        refused = ask(websocket, "not json")
        assert refused["type"] == "error" and "not JSON" in refused["error"]
        assert ask(websocket, {"type": "echo", "text": "still open"}) == {"type": "echo", "text": "still open"}
    event = server.events.wait_for("refused not json", kind="protocol")
    assert "not JSON" in event.text


def test_count_is_checked(server: wstutorial.TutorialServer) -> None:
    """A count outside its limits is refused with the limits in the sentence."""
    with ws_connect(server.ws_url("/json")) as websocket:
        refused = ask(websocket, {"type": "count", "to": MAX_COUNT + 1, "size": 1})
    assert refused["type"] == "error" and f"count to 1..{MAX_COUNT}" in refused["error"]


def test_count_sends_in_order_then_done(server: wstutorial.TutorialServer) -> None:
    """count sends n = 1..to, then done."""
    with ws_connect(server.ws_url("/json")) as websocket:
        websocket.send(json.dumps({"type": "count", "to": 5, "size": 3}))
        messages = [json.loads(websocket.recv(timeout=5)) for _ in range(6)]
    assert [m.get("n") for m in messages[:5]] == [1, 2, 3, 4, 5]
    assert messages[0]["data"] == "xxx"
    assert messages[5]["type"] == "done" and messages[5]["sent"] == 5


def test_count_waits_for_a_slow_reader(server: wstutorial.TutorialServer) -> None:
    """Backpressure: while the client does not read, the server's awaited writes wait (it does not buffer everything)."""

    async def scenario() -> dict[str, Any]:
        client = await wstutorial.connect(server.ws_url("/json"), max_message_size=2**20)
        # 32 MB in all: more than the sockets' buffers take from a reader that does not read.
        await client.send(json.dumps({"type": "count", "to": 320, "size": 100_000}))
        await asyncio.sleep(1.0)  # the slow reader; what is measured is the server's wait, not this sleep
        last: dict[str, Any] = {}
        while last.get("type") != "done":
            last = json.loads(await client.receive(timeout=10))
        await client.close()
        return last

    done = asyncio.run(scenario())
    assert done["sent"] == 320
    assert done["longest_wait"] >= 0.5, f"the server never waited for the reader: {done}"
    server.events.wait_for("count sent 320 messages")


def test_count_stops_with_websocketclosederror_when_the_client_leaves(server: wstutorial.TutorialServer) -> None:
    """A client that leaves during a count ends it: WebSocketClosedError is caught and recorded."""
    # close_timeout: the client stops reading, so on a loaded machine the server's close frame can sit
    # behind unread counts; the client then drops the connection after 1 s instead of websockets' 10 s.
    with ws_connect(server.ws_url("/json"), max_size=2**21, close_timeout=1) as websocket:
        websocket.send(json.dumps({"type": "count", "to": 500, "size": 100_000}))
        websocket.recv(timeout=5)
    event = server.events.wait_for("count stopped after", timeout=10)
    assert "the client left (WebSocketClosedError)" in event.text


class Broken(JsonHandler):
    fields = {**JsonHandler.fields, "boom": {}}

    def handle_boom(self, message: dict[str, Any]) -> None:
        raise ZeroDivisionError("division by zero")


class Forgotten(JsonHandler):
    fields = {**JsonHandler.fields, "lost": {}}


def test_a_failing_handle_method_answers_with_an_error_and_keeps_the_connection() -> None:
    """An exception in handle_<type> is recorded; the sender gets an error, not a dropped connection."""
    with wstutorial.start_server(port=0, handlers={"/broken": Broken, "/forgotten": Forgotten}) as running:
        with ws_connect(running.ws_url("/broken")) as websocket:
            answer = ask(websocket, {"type": "boom"})
            assert answer == {"type": "error", "error": "the server failed to handle this message (see its event log)"}
            assert ask(websocket, {"type": "ping", "id": 1}) == {"type": "pong", "id": 1}
        assert "ZeroDivisionError" in running.events.wait_for("error handling", kind="error").text
        with ws_connect(running.ws_url("/forgotten")) as websocket:
            answer = ask(websocket, {"type": "lost"})
        assert answer["error"] == 'the server lists type "lost" but has no handle_lost method'
