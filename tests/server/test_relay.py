"""The relay (notebook 09): a broadcast's channel message, and a real Redis passing it to one server's /updates clients."""

from __future__ import annotations

import json
from typing import Iterator

import pytest
import redis
from websockets.sync.client import connect as websockets_connect

import wstutorial
from helpers import free_port
from wstutorial.server.relay import Relay, UpdatesHandler, decode, encode, publish
from wstutorial.services.redisserver import RedisServer


@pytest.fixture
def updates_server() -> Iterator[wstutorial.TutorialServer]:
    """A server with the listening-only /updates route a relay sends to."""
    running = wstutorial.start_server(port=0, handlers={"/updates": UpdatesHandler})
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def relay(updates_server: wstutorial.TutorialServer, redis_server: RedisServer) -> Iterator[Relay]:
    """A relay on the server's loop, subscribed to a channel of this test module's real Redis."""
    running = updates_server.call(lambda: Relay(updates_server.hub, redis_server.url, "test:relay"))
    updates_server.run(running.start(), timeout=10)
    try:
        yield running
    finally:
        updates_server.run(running.stop(), timeout=10)


def test_channel_messages_are_checked() -> None:
    """encode/decode round-trip; anything else is refused with a sentence naming what it got."""
    assert decode(encode("/updates", "hi")) == ("/updates", "hi")
    for bad in (b"not json", '{"path": 1, "text": "x"}', '{"path": "nope", "text": "x"}', "[]"):
        with pytest.raises(ValueError, match="broadcast"):
            decode(bad)
    with pytest.raises(ValueError, match=r"path must start with '/', e\.g\. '/updates', got 'updates'"):
        encode("updates", "x")
    with pytest.raises(TypeError, match=r"a broadcast through Redis is text \(str\), got bytes"):
        encode("/updates", b"x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"must be JSON like .*, got b'not json'"):
        decode(b"not json")
    with pytest.raises(ValueError, match=r"needs a string 'path' and a string 'text', got \{'path': '/updates'\}"):
        decode('{"path": "/updates"}')
    with pytest.raises(ValueError, match=r"a broadcast's path must start with '/', got 'nope'"):
        decode('{"path": "nope", "text": "x"}')


def test_decode_takes_bytes_as_redis_delivers_them() -> None:
    """Redis hands subscribers bytes: decode reads UTF-8 bytes as the same message, non-ASCII text included."""
    assert decode(encode("/updates", "Grüße ✓").encode()) == ("/updates", "Grüße ✓")


def test_publish_checks_the_message_before_reaching_redis() -> None:
    """A bad path is refused by publish itself, before any connection (nothing listens at that URL)."""
    with pytest.raises(ValueError, match="got 'updates'"):
        publish(f"redis://127.0.0.1:{free_port()}/0", "updates", "x")


def test_a_published_broadcast_reaches_the_servers_clients(
    updates_server: wstutorial.TutorialServer, relay: Relay, redis_server: RedisServer
) -> None:
    """publish() through a real Redis: one subscriber (this relay), the /updates client gets the text, the relay counts it."""
    after = updates_server.events.next_seq
    with websockets_connect(updates_server.ws_url("/updates")) as client:
        updates_server.events.wait_for("new connection", after=after, timeout=10)
        assert publish(redis_server.url, "/updates", "to every process", channel="test:relay") == 1
        assert client.recv(timeout=10) == "to every process"
    event = updates_server.events.wait_for("broadcast from Redis", after=after, timeout=10)
    assert (event.kind, event.text, event.path) == ("relay", "broadcast from Redis sent to 1 clients on /updates", "/updates")
    assert relay.relayed == 1


def test_a_bad_channel_message_is_an_error_event_not_a_broadcast(
    updates_server: wstutorial.TutorialServer, relay: Relay, redis_server: RedisServer
) -> None:
    """Something not made by encode() on the channel: one error event saying why; the clients get nothing; the relay goes on."""
    after = updates_server.events.next_seq
    with websockets_connect(updates_server.ws_url("/updates")) as client:
        updates_server.events.wait_for("new connection", after=after, timeout=10)
        publisher = redis.Redis.from_url(redis_server.url)
        try:
            assert publisher.publish("test:relay", "not json") == 1
        finally:
            publisher.close()
        error = updates_server.events.wait_for("relay ignored a message", after=after, timeout=10)
        assert error.kind == "error" and "a broadcast must be JSON" in error.text and "'not json'" in error.text
        assert relay.relayed == 0
        publish(redis_server.url, "/updates", "still relaying", channel="test:relay")
        assert client.recv(timeout=10) == "still relaying"  # the first message the client gets
    assert relay.relayed == 1


def test_the_relay_sends_only_to_the_path_named(updates_server: wstutorial.TutorialServer) -> None:
    """deliver() on the server's loop: the clients of the message's path, nobody on other paths (no Redis needed)."""
    relay = updates_server.call(lambda: Relay(updates_server.hub, f"redis://127.0.0.1:{free_port()}/0"))
    after = updates_server.events.next_seq
    with websockets_connect(updates_server.ws_url("/updates")) as listener, websockets_connect(updates_server.ws_url("/echo")) as other:
        updates_server.events.wait_for("new connection", after=after, timeout=10)
        assert updates_server.call(relay.deliver, encode("/echo", "for /echo")) == 1
        assert updates_server.call(relay.deliver, encode("/nowhere", "nobody")) == 0
        assert updates_server.call(relay.deliver, json.dumps({"path": "/updates", "text": "for /updates"})) == 1
        assert other.recv(timeout=10) == "for /echo"
        assert listener.recv(timeout=10) == "for /updates"
    assert relay.relayed == 3


def test_updates_only_sends(updates_server: wstutorial.TutorialServer) -> None:
    """A message from an /updates client is ignored with an event saying so; the connection stays open."""
    after = updates_server.events.next_seq
    with websockets_connect(updates_server.ws_url("/updates")) as client:
        client.send("hello?")
        event = updates_server.events.wait_for("this path only sends", after=after, timeout=10)
        assert event.text == "this path only sends; ignored a message from the client" and event.path == "/updates"
        assert updates_server.broadcast("/updates", "still open") == 1
        assert client.recv(timeout=10) == "still open"
