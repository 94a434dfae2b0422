"""``classroom --workers 2`` while its redis-server is killed and started again mid-class (issue 24, item 5; issue 22, one link).

A real redis-server on a fixed port is stopped and a new one started on the
same port. What each party sees is in ``classroom/gateway.py``'s docstring.
"""

from __future__ import annotations

import contextlib
import json
import time
from typing import Iterator

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from helpers import next_json
from wstutorial.classroom.gateway import NOT_DELIVERED, ROOM_AWAY
from wstutorial.classroom.room import ChatRoom
from wstutorial.classroom.server import Classroom, start_classroom
from wstutorial.services.redisserver import RedisServer, start_redis


class Outage:
    """A classroom with two workers and the redis-server it uses, which the test stops and starts again."""

    def __init__(self) -> None:
        self.redis: RedisServer = start_redis(reuse=False)
        self.port = self.redis.port
        room = ChatRoom(presence_delay=0)
        self.classroom: Classroom = start_classroom(port=0, room=room, workers=2, redis_url=self.redis.url, interval=0.5)

    def kill(self) -> None:
        self.redis.stop()

    def restart(self) -> None:
        self.redis = start_redis(port=self.port, reuse=False)

    def close(self) -> None:
        self.classroom.stop()
        self.redis.stop()


@pytest.fixture(scope="module")  # one classroom with workers for the file: each costs seconds to start
def outage() -> Iterator[Outage]:
    running = Outage()
    try:
        yield running
    finally:
        running.close()


# Each name's rejoin secret (the room's key to its board row, sent once in its welcome): a student who
# comes back, in this test or the next one of the file, brings it as their notebook would.
SECRETS: dict[str, str] = {}


def join(stack: contextlib.ExitStack, classroom: Classroom, name: str, worker: int | None) -> ClientConnection:
    """``name`` joins on ``worker`` (None: the room's own process); closed when ``stack`` closes."""
    secret = f"&secret={SECRETS[name]}" if name in SECRETS else ""
    client = stack.enter_context(connect(classroom.chat_url(name, worker) + secret, open_timeout=10))
    welcome = next_json(client, "welcome")
    assert welcome["name"] == name
    SECRETS.setdefault(name, welcome.get("secret", ""))
    return client


def test_a_worker_refuses_bad_arguments_and_answers_a_deep_batch_with_a_notice(outage: Outage) -> None:
    """On a worker too: invalid UTF-8 in ?name= gets 400 (nothing registered), a 5,000-deep progress_batch a notice, not silence."""
    from websockets.exceptions import InvalidStatus

    classroom = outage.classroom
    base = classroom.workers[0].ws_url("/chat")
    for query in ("name=%ED%A0%80", "name=Ada&name=Bob", "name=a%00b"):
        with pytest.raises(InvalidStatus) as refused:
            with connect(f"{base}?{query}", open_timeout=10):
                pass
        assert refused.value.response.status_code == 400
    with contextlib.ExitStack() as stack:
        ada = join(stack, classroom, "Ada", 1)
        ada.send('{"type": "progress_batch", "results": ' + "[" * 5_000 + "]" * 5_000 + "}")
        assert "nested too deeply" in next_json(ada, "notice")["text"]


def test_a_redis_outage_is_told_refused_reported_and_healed(outage: Outage) -> None:
    """Killed mid-class and started again: notices, a refused join, undelivered lines reported, then no ghost and nothing lost."""
    classroom = outage.classroom
    events = classroom.events
    with contextlib.ExitStack() as stack:
        ada = join(stack, classroom, "Ada", 1)  # on worker 1
        bob = join(stack, classroom, "Bob", 2)  # on worker 2
        cleo = join(stack, classroom, "Cleo", None)  # on the room's own process
        start = events.next_seq
        outage.kill()
        # Each worker's students are told.
        for student in (ada, bob):
            next_json(student, "notice", containing=ROOM_AWAY)
        # A chat line and a result that cannot reach the room: reported to the sender.
        ada.send("lost in the outage")
        next_json(ada, "notice", containing=NOT_DELIVERED)
        ada.send(json.dumps({"type": "progress", "exercise": "mini_chat", "passed": True, "reason": ""}))
        next_json(ada, "notice", containing=NOT_DELIVERED)
        # A join during the outage: closed within seconds with 1013 and the sentence.
        began = time.monotonic()
        with connect(classroom.chat_url("Dan", 1), open_timeout=10) as dan:
            with pytest.raises(ConnectionClosed) as closed:
                dan.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
        assert ROOM_AWAY in closed.value.rcvd.reason and time.monotonic() - began < 10
        # Bob leaves while his leave cannot reach the room; Cleo (on the room's process) chats on.
        bob.close()
        cleo.send("said while Redis was away")
        assert next_json(cleo, "chat")["text"] == "said while Redis was away"

        outage.restart()
        events.wait_for("the chat room's link: Redis is back", after=start, timeout=20)
        cleo.send("first after the return")  # the workers may not be subscribed again yet
        # Ada is told once the room hears her worker again (not merely once her worker's link is back):
        # what she sends right then is delivered.
        next_json(ada, "notice", containing="the chat room is back")
        ada.send("right after the notice")
        # What was held for Ada's worker comes first, in order, then her own line.
        assert next_json(ada, "chat")["text"] == "said while Redis was away"
        assert next_json(ada, "chat")["text"] == "first after the return"
        assert next_json(ada, "chat")["text"] == "right after the notice"
        assert next_json(cleo, "chat")["text"] == "first after the return"
        assert next_json(cleo, "chat")["text"] == "right after the notice"
        # No ghost: Bob's name is free again, and he rejoins.
        for worker in (1, 2):
            events.wait_for(f"chat room reconciled with worker {worker}", after=start, timeout=20)
        assert sorted(classroom.members()) == ["Ada", "Cleo"]
        bob = join(stack, classroom, "Bob", 2)
        ada.send("hello again")
        assert next_json(bob, "chat")["text"] == "hello again"
    # One line per link per outage (the room's and each worker's), not one per try.
    lost = [event for event in events.snapshot(after=start) if "lost Redis" in event.text]
    assert len(lost) == 3, [str(event) for event in lost]
    assert len([event for event in events.snapshot(after=start) if "Redis is back" in event.text]) == 3
