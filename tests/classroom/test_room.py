"""A classroom that cannot be flooded (issue 15, item 5), against a real classroom server."""

from __future__ import annotations

import json

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from helpers import FakeClock
from wstutorial.chatrules import (
    CLOSE_POLICY,
    TooManyJoins,
)
from wstutorial.classroom import start_classroom
from wstutorial.classroom.room import ChatRoom


def test_joins_are_rate_limited_per_address() -> None:
    """A script joining and leaving in a loop is refused with 1008 once its address used up the burst."""
    # No token comes back during the test; this machine's address is limited too (tests connect from 127.0.0.1).
    room = ChatRoom(join_rate=0.001, join_burst=3, limit_local_joins=True)
    with start_classroom(port=0, room=room) as classroom:
        for n in range(3):
            with connect(classroom.chat_url(f"Loop{n}")) as ws:
                assert json.loads(ws.recv(timeout=10))["type"] == "welcome"
        with connect(classroom.chat_url("Loop3")) as ws:
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
        assert "too many joins from 127.0.0.1" in closed.value.rcvd.reason
        assert classroom.members() == []


def test_members_get_changes_in_bursts_never_the_whole_list() -> None:
    """30 join/leave cycles cost a member a few small messages, not 60 lists."""
    room = ChatRoom(join_burst=1000, presence_delay=1.0)
    with start_classroom(port=0, room=room) as classroom:
        with connect(classroom.chat_url("Watcher")) as watcher:
            assert json.loads(watcher.recv(timeout=10))["members"] == ["Watcher"]
            for n in range(30):
                with connect(classroom.chat_url(f"Visitor{n}")) as ws:
                    ws.recv(timeout=10)
            with connect(classroom.chat_url("Stays")) as stays:
                stays.recv(timeout=10)
                seen = []
                members = ["Watcher"]
                while "Stays" not in members:
                    message = json.loads(watcher.recv(timeout=10))
                    seen.append(message)
                    assert message["type"] == "presence" and "members" not in message
                    # A set: the watcher's own join may come again within its burst.
                    members = sorted({m for m in members if m not in message["left"]} | set(message["joined"]))
        assert len(seen) <= 5, seen
        assert members == ["Stays", "Watcher"]


def test_a_member_welcomed_within_a_burst_learns_every_change() -> None:
    """Ada joins, Bob joins (his welcome lists Ada), Ada leaves, Cy leaves and comes back, within one burst: Bob ends up right."""
    import asyncio

    async def scenario() -> dict[str, list[dict[str, object]]]:
        room = ChatRoom(presence_delay=60)  # the test flushes by hand
        inbox: dict[str, list[dict[str, object]]] = {"Bob": []}
        cy: list[str] = []
        room.join("Cy", cy.append)
        room.flush_presence()
        room.join("Ada", lambda text: None)
        room.join("Bob", lambda text: inbox["Bob"].append(json.loads(text)))
        room.leave("Ada")
        room.leave("Cy")
        room.join("Cy", lambda text: None, secret=json.loads(cy[0])["secret"])  # back, with the room's key to the name
        room.flush_presence()
        return inbox

    messages = asyncio.run(scenario())["Bob"]
    members = set(messages[0]["members"])  # type: ignore[arg-type]
    assert members == {"Ada", "Bob", "Cy"}
    for message in messages[1:]:
        members = (members | set(message["joined"])) - set(message["left"])  # type: ignore[arg-type]
    assert members == {"Bob", "Cy"}, messages


@pytest.mark.parametrize("look_alike", ["Ａｄａ", "Аda", "Αda", "𝐀da", "ADA", "Adа"])
def test_a_name_that_looks_like_a_member_is_refused(look_alike: str) -> None:
    """Fullwidth, Cyrillic, Greek and mathematical look-alikes of 'Ada' (NFKC + TS #39 skeleton) close with 1008."""
    with start_classroom(port=0) as classroom, connect(classroom.chat_url("Ada")) as ada:
        assert json.loads(ada.recv(timeout=10))["type"] == "welcome"
        with connect(classroom.chat_url(look_alike)) as impostor:
            with pytest.raises(ConnectionClosed) as closed:
                impostor.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
        assert "'Ada'" in closed.value.rcvd.reason
        with connect(classroom.chat_url("Adam")) as adam:
            assert json.loads(adam.recv(timeout=10))["members"] == ["Ada", "Adam"]
        assert classroom.members() == ["Ada"]


def test_this_machine_is_not_join_limited_by_default() -> None:
    """The teacher's own notebooks and pages (loopback) join freely; an address on the network does not."""
    room = ChatRoom(join_rate=0.001, join_burst=1)
    for number in range(3):
        room.join(f"Local {number}", lambda text: None, "127.0.0.1")
        room.leave(f"Local {number}")
    room.join("Remote", lambda text: None, "192.0.2.7")
    room.leave("Remote")
    with pytest.raises(TooManyJoins, match="too many joins from 192.0.2.7"):
        room.join("Remote", lambda text: None, "192.0.2.7")


class Inbox(list[dict[str, object]]):
    def __call__(self, text: str) -> None:
        self.append(json.loads(text))


def test_room_welcomes_broadcasts_and_says_goodbye() -> None:
    """Each message reaches everyone with the sender's name; joins and leaves are announced."""
    room = ChatRoom()
    ada, bob, teacher = Inbox(), Inbox(), Inbox()
    room.watch("teacher", teacher)
    room.join("Ada", ada)
    room.join("Bob", bob)
    secret = ada[0].pop("secret")  # to Ada alone: her key to her row on the board
    assert isinstance(secret, str) and len(secret) >= 16
    assert ada[0] == {"type": "welcome", "name": "Ada", "members": ["Ada"], "history": []}
    assert ada[1] == {"type": "presence", "joined": ["Bob"], "left": []}  # the change, not the list
    assert room.receive("Ada", "<i>hi</i>").accepted
    assert ada[-1] == bob[-1] == {"type": "chat", "name": "Ada", "text": "<i>hi</i>"}
    assert room.receive("Bob", '{"type": "reading", "value": 3}').accepted
    assert ada[-1] == {"type": "reading", "name": "Bob", "value": 3}
    room.leave("Bob")
    assert ada[-1] == {"type": "presence", "joined": [], "left": ["Bob"]}
    assert [m["members"] for m in teacher if m["type"] == "members"] == [[], ["Ada"], ["Ada", "Bob"], ["Ada"]]
    assert "secret" not in json.dumps(teacher)  # the teacher's page never sees a secret
    late = Inbox()
    room.join("Cy", late)
    assert late[0]["history"] == [{"type": "chat", "name": "Ada", "text": "<i>hi</i>"}]


def test_room_refuses_too_fast_with_a_notice_then_closes() -> None:
    """Over the rate: a notice to the sender only; too many refusals in a row: close 1008."""
    clock = FakeClock()
    room = ChatRoom(rate=1.0, burst=2, max_refusals=3, clock=clock)
    spammer, other = Inbox(), Inbox()
    room.join("Spam", spammer)
    room.join("Other", other)
    before = len(other)
    assert room.receive("Spam", "1").accepted and room.receive("Spam", "2").accepted
    verdicts = [room.receive("Spam", "more") for _ in range(4)]
    assert [v.accepted for v in verdicts] == [False] * 4
    assert [v.close_code for v in verdicts] == [None, None, None, CLOSE_POLICY]
    notices = [m for m in spammer if m["type"] == "notice"]
    assert len(notices) == 3 and "too many messages" in str(notices[0]["text"])
    assert len(other) == before + 2 and all(m["type"] != "notice" for m in other)


def test_an_accepted_message_resets_the_refusal_count() -> None:
    """Refusals must be in a row: a student who slows down is not closed later."""
    clock = FakeClock()
    room = ChatRoom(rate=1.0, burst=1, max_refusals=2, clock=clock)
    room.join("Ada", Inbox())
    for _ in range(5):
        assert room.receive("Ada", "a").accepted
        assert room.receive("Ada", "b").close_code is None
        clock.now += 1


def test_a_join_computes_the_new_names_key_not_everyones() -> None:
    """Joining a room of 300 makes one look-alike key per join, not one per member (bench classroom: 1,000 joins)."""
    from wstutorial.chatrules import name_key
    from wstutorial.classroom.room import ChatRoom

    room = ChatRoom()
    name_key.cache_clear()
    for n in range(300):
        room.join(f"Student{n:05d}", lambda text: None)
    assert name_key.cache_info().misses == 300
    # Beyond the cache (a lecture hall of 5,000 outgrows its 4,096 names) a join still makes only its own key:
    # the room looks names up by key (5,000 keys per join made 10,000 students time out, bench classroom --workers 4).
    name_key.cache_clear()
    for n in range(300, 310):
        room.join(f"Student{n:05d}", lambda text: None)
    assert name_key.cache_info().misses == 10
