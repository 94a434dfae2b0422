"""``/whoami`` (notebook 08): one JSON message saying what the server believes about the connection, reached directly."""

from __future__ import annotations

import json
from typing import Any, Iterator

import pytest
from websockets.sync.client import connect as websockets_connect

import wstutorial
from wstutorial.server.whoami import FORWARDING_HEADERS, WhoAmIHandler


@pytest.fixture
def plain() -> Iterator[wstutorial.TutorialServer]:
    """A server with /whoami that does not believe forwarding headers (no xheaders), as a notebook starts it."""
    running = wstutorial.start_server(port=0, handlers={"/whoami": WhoAmIHandler})
    try:
        yield running
    finally:
        running.stop()


def whoami(server: wstutorial.TutorialServer, **options: Any) -> dict[str, Any]:
    """The one message /whoami sends, read by a real client (``options``: websockets' connect options)."""
    with websockets_connect(server.ws_url("/whoami"), open_timeout=10, **options) as client:
        message = client.recv(timeout=10)
    assert isinstance(message, str)
    return dict(json.loads(message))


def test_what_the_server_sees_of_a_direct_client(plain: wstutorial.TutorialServer) -> None:
    """Address, scheme, Host and Origin as they arrived; no forwarding headers, none listed; the open event says the same."""
    after = plain.events.next_seq
    origin = f"http://127.0.0.1:{plain.port}"
    assert whoami(plain, origin=origin) == {
        "remote_ip": "127.0.0.1", "protocol": "http", "host": f"127.0.0.1:{plain.port}", "origin": origin, "headers": {},
    }  # fmt: skip
    event = plain.events.wait_for("new connection from", after=after, timeout=10)
    assert (event.kind, event.text, event.path) == ("open", "new connection from 127.0.0.1 over http", "/whoami")


def test_forwarding_headers_are_shown_not_believed_without_xheaders(plain: wstutorial.TutorialServer) -> None:
    """Without xheaders the claims are listed as they came, but the address and scheme stay the connection's own; other headers are not listed."""
    claims = {"X-Real-Ip": "10.0.0.9", "X-Forwarded-For": "6.6.6.6", "X-Forwarded-Proto": "https"}
    seen = whoami(plain, additional_headers={**claims, "X-Other": "not a forwarding header"})
    assert set(claims) == set(FORWARDING_HEADERS)
    assert seen["headers"] == claims
    assert (seen["remote_ip"], seen["protocol"], seen["origin"]) == ("127.0.0.1", "http", None)


def test_with_xheaders_the_real_ip_header_names_the_client() -> None:
    """xheaders=True: X-Real-Ip and X-Forwarded-Proto become the address and scheme, in the message and in the open event."""
    with wstutorial.start_server(port=0, handlers={"/whoami": WhoAmIHandler}, xheaders=True) as server:
        after = server.events.next_seq
        seen = whoami(server, additional_headers={"X-Real-Ip": "10.0.0.9", "X-Forwarded-Proto": "https"})
        assert (seen["remote_ip"], seen["protocol"]) == ("10.0.0.9", "https")
        assert seen["headers"] == {"X-Real-Ip": "10.0.0.9", "X-Forwarded-Proto": "https"}
        assert server.events.wait_for("new connection from", after=after, timeout=10).text == "new connection from 10.0.0.9 over https"
