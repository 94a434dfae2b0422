"""The tutorial's handlers, each behaviour once: a real server, an independent client (the websockets library).

Refusals (404, 403), limits (1009, 1007), errors in handlers and page paths
are tested where they are made: test_reliability.py and test_security.py.
"""

from __future__ import annotations

import urllib.request

from websockets.sync.client import connect

import wstutorial


def test_hello_says_hello_world_and_records_the_originals_sentences(server: wstutorial.TutorialServer) -> None:
    """/ws sends Hello World; the server records new connection, message received ..., connection closed."""
    with connect(server.ws_url("/ws")) as websocket:
        assert websocket.recv(timeout=10) == "Hello World"
        websocket.send("hi there")
        opened = server.events.wait_for("new connection")
        server.events.wait_for("message received hi there", after=opened.seq)
    closed = server.events.wait_for("connection closed", after=opened.seq)
    texts = [event.text for event in server.events.snapshot() if event.client == opened.client]
    assert texts == ["new connection", "message received hi there", "connection closed"]
    assert closed.client == opened.client


def test_echo_returns_text_as_text_and_binary_as_binary(server: wstutorial.TutorialServer) -> None:
    with connect(server.ws_url("/echo")) as websocket:
        websocket.send("abc")
        assert websocket.recv(timeout=10) == "abc"
        websocket.send(b"\xff\x00")
        assert websocket.recv(timeout=10) == b"\xff\x00"


def test_streaming_counts_up_for_every_client(server: wstutorial.TutorialServer) -> None:
    """/streaming sends message: n to every client, n counting up."""
    with connect(server.ws_url("/streaming")) as first, connect(server.ws_url("/streaming")) as second:
        got = {name: [str(ws.recv(timeout=10)) for _ in range(3)] for name, ws in (("first", first), ("second", second))}
    for messages in got.values():
        numbers = [int(message.removeprefix("message: ")) for message in messages]
        assert numbers == sorted(numbers) and len(set(numbers)) == 3




def test_pages_are_served(server: wstutorial.TutorialServer) -> None:
    """The index, hello and streaming pages come from static/."""
    for page, text in [("", "hello.html"), ("hello.html", 'id="uri"'), ("streaming.html", 'id="log"')]:
        with urllib.request.urlopen(server.page_url(page), timeout=10) as response:
            assert response.status == 200, page
            assert text in response.read().decode()
