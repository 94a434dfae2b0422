"""The chat room's logic: names, the token bucket, parsing, who gets what (no network)."""

from __future__ import annotations

import json

import pytest

from wstutorial.chatrules import (
    CLOSE_POLICY,
    MAX_NAME_LENGTH,
    MAX_TEXT_LENGTH,
    NameRejected,
    TokenBucket,
    parse_incoming,
    validate_name,
)
from wstutorial.classroom.room import ChatRoom


class FakeClock:
    """A clock the test moves by hand: no sleeping, no timing."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("name", ["Ada", "Ada Lovelace", "José", "李雷", "o'Brien", "x-1_y.z", "7", "A" * MAX_NAME_LENGTH])
def test_good_names_are_accepted(name: str) -> None:
    """Letters of any alphabet, digits, spaces and - _ . ' make a name."""
    assert validate_name(f"  {name} ") == name


@pytest.mark.parametrize(
    "name, says",
    [
        ("", "empty"),
        ("   ", "empty"),
        ("A" * (MAX_NAME_LENGTH + 1), f"at most {MAX_NAME_LENGTH}"),
        ("<script>", "'<>'"),
        ("a\nb", "not allowed"),
        ("a\u202eb", "not allowed"),
        ("-dash", "start with a letter"),
        ("Bob;drop", "';'"),
    ],
)
def test_bad_names_are_rejected_with_the_reason(name: str, says: str) -> None:
    """Empty, too long, odd characters or a bad first character: the error says which."""
    with pytest.raises(NameRejected) as error:
        validate_name(name)
    assert says in str(error.value)


def test_a_taken_name_is_rejected_without_regard_to_case() -> None:
    """Two students cannot both be 'Ada' (or 'ada')."""
    with pytest.raises(NameRejected, match="already in the room"):
        validate_name("ada", ["Ada"])


def test_token_bucket_allows_bursts_then_the_rate() -> None:
    """burst messages at once, then one per 1/rate seconds."""
    clock = FakeClock()
    bucket = TokenBucket(rate=2.0, burst=3, clock=clock)
    assert [bucket.allow() for _ in range(4)] == [True, True, True, False]
    clock.now += 0.5
    assert bucket.allow() and not bucket.allow()
    clock.now += 100  # a long pause refills up to burst only
    assert sum(bucket.allow() for _ in range(10)) == 3


def test_token_bucket_rejects_nonsense_settings() -> None:
    """A rate of 0 or a burst below 1 would refuse everything: refused up front."""
    with pytest.raises(ValueError, match="rate"):
        TokenBucket(0, 3)
    with pytest.raises(ValueError, match="burst"):
        TokenBucket(1, 0)


@pytest.mark.parametrize(
    "raw, parsed",
    [
        ("hello", {"type": "chat", "text": "hello"}),
        ('{"type": "chat", "text": "<b>hi</b>"}', {"type": "chat", "text": "<b>hi</b>"}),
        ('{"type": "reading", "value": 21.5}', {"type": "reading", "value": 21.5}),
        ("{not json", {"type": "chat", "text": "{not json"}),
    ],
)
def test_parse_incoming(raw: str, parsed: dict[str, object]) -> None:
    """Plain text and JSON chat lines and readings are understood."""
    assert parse_incoming(raw) == parsed


@pytest.mark.parametrize(
    "raw, says",
    [
        ("", "empty"),
        ("x" * (MAX_TEXT_LENGTH + 1), f"limit is {MAX_TEXT_LENGTH}"),
        ('{"type": "reading", "value": "hot"}', "finite number"),
        ('{"type": "reading", "value": NaN}', "finite number"),
        ('{"type": "reading", "value": true}', "finite number"),
        ('{"type": "shout", "text": "x"}', "unknown message"),
        (b"\x00\x01", "binary"),
    ],
)
def test_parse_incoming_refuses_with_a_reason(raw: str | bytes, says: str) -> None:
    """Empty, too long, bad readings, unknown types and binary are refused, saying why."""
    with pytest.raises(ValueError, match=says):
        parse_incoming(raw)


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
