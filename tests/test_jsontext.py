"""JSON nested too deeply, or with a 5,000-digit number: one sentence, the sender's error, everywhere (issue 24, item 7)."""

from __future__ import annotations

import json
from typing import Iterator

import pytest
from websockets.sync.client import connect

import wstutorial
from helpers import next_json
from wstutorial.classroom.server import Classroom, start_classroom

DEEP_BATCH = '{"type": "progress_batch", "results": ' + "[" * 5_000 + "]" * 5_000 + "}"
HUGE_NUMBER = '{"type": "ping", "id": ' + "9" * 5_000 + "}"


@pytest.fixture
def classroom() -> Iterator[Classroom]:
    running = start_classroom(port=0, teacher_token="teacher-secret-123")
    try:
        yield running
    finally:
        running.stop()


def test_loads_says_what_is_too_much() -> None:
    """Deep nesting and long integers are JsonTooComplex (a ValueError) with a sentence; plain JSON errors stay JSONDecodeError."""
    from wstutorial.jsontext import JsonTooComplex, loads

    with pytest.raises(JsonTooComplex, match="nested too deeply"):
        loads("[" * 100_000)
    with pytest.raises(JsonTooComplex, match="more than 4300 digits"):
        loads("9" * 5_000)
    with pytest.raises(json.JSONDecodeError):
        loads("{bad")
    assert loads('{"a": [1, 2]}') == {"a": [1, 2]}


def test_a_deep_progress_batch_gets_a_notice_not_1011(classroom: Classroom) -> None:
    """A student's 5,000-deep progress_batch: a notice saying why, and the connection stays open."""
    with connect(classroom.chat_url("Ada")) as student:
        next_json(student, "welcome")
        student.send(DEEP_BATCH)
        notice = next_json(student, "notice")
        assert "nested too deeply" in str(notice["text"])
        student.send("still here")
        assert next_json(student, "chat")["text"] == "still here"
    assert not [event for event in classroom.events.snapshot() if event.kind == "error"]


def test_a_deep_teacher_message_is_an_unknown_action(classroom: Classroom) -> None:
    """The teacher's page sending 10,000 brackets gets a notice, not 1011."""
    with connect(f"{classroom.server.ws_url('/teacher')}?token=teacher-secret-123", max_size=None) as teacher:
        teacher.send("[" * 10_000)
        assert "unknown teacher action" in str(next_json(teacher, "notice")["text"])
    assert not [event for event in classroom.events.snapshot() if event.kind == "error"]


@pytest.mark.parametrize("message, said", [("[" * 10_000, "nested too deeply"), (HUGE_NUMBER, "4300 digits")])
def test_json_route_blames_the_client(message: str, said: str) -> None:
    """/json: deep nesting and a 5,000-digit number get an error reply and a "protocol" event, never an "error" (the server's)."""
    with wstutorial.start_server(port=0) as server:
        with connect(server.ws_url("/json")) as client:
            client.send(message)
            reply = json.loads(client.recv(timeout=5))
        assert reply["type"] == "error" and said in reply["error"]
        server.events.wait_for(said, timeout=5)
        kinds = {event.kind for event in server.events.snapshot() if said in event.text}
        assert kinds == {"protocol"}
