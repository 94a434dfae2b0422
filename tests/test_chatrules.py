"""The chat room's logic: names, the token bucket, parsing, who gets what (no network)."""

from __future__ import annotations

import pytest

from helpers import FakeClock
from wstutorial.chatrules import (
    MAX_NAME_LENGTH,
    MAX_TEXT_LENGTH,
    NameRejected,
    TokenBucket,
    parse_incoming,
    validate_name,
)


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










