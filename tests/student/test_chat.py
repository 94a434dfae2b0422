"""The student's side: ChatState (logic) and ChatPanel (widget) against a real classroom server."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.sync.client import connect

from helpers import free_port
from wstutorial.classroom import Classroom
from wstutorial.student.chat import ChatState


def test_chat_state_joins_talks_and_leaves(classroom: Classroom) -> None:
    """join, say, send_reading, leave: the lines and members follow; a browser-like client sees it all."""
    with connect(classroom.chat_url("Bob")) as bob, connect(classroom.server.ws_url("/readings")) as chart:
        assert json.loads(bob.recv(timeout=10))["type"] == "welcome"

        async def main() -> None:
            ada = ChatState("localhost", classroom.port, "Ada")
            assert await ada.join()
            assert ada.members == ["Ada", "Bob"] and ada.lines[-1] == "* you joined as Ada"
            assert await ada.say("<b>hello</b>")
            assert await ada.send_reading(21.5)
            assert await ada.wait_for("<b>hello") == "Ada: <b>hello</b>"
            with pytest.raises(TimeoutError, match="nobody said this"):
                await ada.wait_for("nobody said this", timeout=0.1)
            await ada.leave()
            assert ada.status == "closed" and ada.close_code == 1000
            assert not await ada.say("too late")
            assert "join first" in ada.error

        asyncio.run(main())
        seen = []  # Ada's join and leave may come (as presence) or not: she stayed less than a burst
        while not seen or seen[-1]["type"] != "reading":
            seen.append(json.loads(bob.recv(timeout=10)))
        said = [m for m in seen if m["type"] != "presence"]
        assert said == [{"type": "chat", "name": "Ada", "text": "<b>hello</b>"}, {"type": "reading", "name": "Ada", "value": 21.5}]
        assert json.loads(chart.recv(timeout=10)) == {"Ada": 21.5}


def test_readings_channel_carries_everyones_latest_value(classroom: Classroom) -> None:
    """/readings sends every sender's newest value on each reading; it is read-only."""
    with connect(classroom.server.ws_url("/readings")) as chart:
        with connect(classroom.chat_url("Ada")) as ada, connect(classroom.chat_url("Bob")) as bob:
            ada.send(json.dumps({"type": "reading", "value": 1}))
            assert json.loads(chart.recv(timeout=10)) == {"Ada": 1}
            bob.send(json.dumps({"type": "reading", "value": 2.5}))
            assert json.loads(chart.recv(timeout=10)) == {"Ada": 1, "Bob": 2.5}
        chart.send("hello?")
        assert "read-only" in json.loads(chart.recv(timeout=10))["text"]


@pytest.mark.parametrize("name, says", [("", "name is empty"), ("<x>", "not allowed")])
def test_chat_state_bad_name_fails_before_connecting(classroom: Classroom, name: str, says: str) -> None:
    """A bad name is explained without a connection."""

    async def main() -> None:
        state = ChatState("localhost", classroom.port, name)
        assert not await state.join()
        assert state.status == "failed" and says in state.summary

    asyncio.run(main())


def test_chat_state_taken_name_gives_the_servers_reason(classroom: Classroom) -> None:
    """A name someone already has: the server's close reason is the sentence."""
    with connect(classroom.chat_url("Ada")) as first:
        first.recv(timeout=10)

        async def main() -> None:
            state = ChatState("localhost", classroom.port, "ada")
            assert not await state.join()
            assert "already in the room" in state.summary and state.close_code == 1008

        asyncio.run(main())


def test_chat_state_nobody_listening_is_a_sentence() -> None:
    """A port with no server: 'nothing is listening', not a traceback."""

    async def main() -> None:
        state = ChatState("127.0.0.1", free_port(), "Ada")
        assert not await state.join()
        assert "nothing is listening" in state.summary

    asyncio.run(main())






def test_a_message_nested_too_deeply_is_shown_as_text_not_raised() -> None:
    """A room's message 100,000 lists deep (RecursionError in json.loads) is kept as an unknown message, as bad JSON is."""
    state = ChatState("localhost", 8888, "Ada")
    deep = "[" * 100_000 + "]" * 100_000
    state.apply(deep)
    state.apply('{"type": "chat", "name": "Bob", "text": "still here"}')
    assert state.received[-2]["type"] == "?"
    assert state.received[-1]["text"] == "still here"
