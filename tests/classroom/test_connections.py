"""Who is connected (classroom/connections.py): the labels and lists the teacher's page shows, from a real server and from workers' reports."""

from __future__ import annotations

from typing import Any, Iterator

import pytest
from websockets.sync.client import connect as websockets_connect

import wstutorial
from helpers import poll_until
from wstutorial.classroom.connections import MAX_LISTED, RemoteConnections, connections_message
from wstutorial.server.handlers import EchoHandler


class Member(EchoHandler):
    """A chat connection that joined as "Grace": its member name counts before any ``?name=``."""

    member_name = "Grace"


class Unchecked(EchoHandler):
    """A student's own handler that skips the base class's checks of the query (non-UTF-8 gets through)."""

    def prepare(self) -> None:
        pass


@pytest.fixture
def watched() -> Iterator[wstutorial.TutorialServer]:
    """A server whose /chat is a member's connection and whose /streaming does not check the query."""
    running = wstutorial.start_server(port=0, handlers={"/chat": Member, "/streaming": Unchecked})
    try:
        yield running
    finally:
        running.stop()


def message_when(server: wstutorial.TutorialServer, counts: dict[str, int], remote: RemoteConnections | None = None) -> dict[str, Any]:
    """connections_message (on the server's loop) once the server counts ``counts`` clients on each path."""
    poll_until(lambda: all(len(server.clients(path)) == count for path, count in counts.items()))
    return server.call(connections_message, server.hub, None, remote)


def test_named_and_unnamed_connections_are_listed_without_regard_to_case(watched: wstutorial.TutorialServer) -> None:
    """A valid ?name= is the label; no name or a bad one (never shown) is the number and address; sorted ignoring case."""
    ws = watched.ws_url("/ws")
    with (
        websockets_connect(ws + "?name=Zoe"), websockets_connect(ws + "?name=bob"), websockets_connect(ws),
        websockets_connect(ws + "?name=%3Cb%3E"), websockets_connect(watched.ws_url("/chat") + "?name=NotGrace"),
    ):  # fmt: skip
        message = message_when(watched, {"/ws": 4, "/chat": 1})
    assert message["type"] == "connections" and message["more"] == {}
    listed = message["paths"]["/ws"]
    assert listed[0] == "bob" and listed[3] == "Zoe"
    assert all(label.startswith("client-") and label.endswith(" from 127.0.0.1") for label in listed[1:3])
    assert message["paths"]["/chat"] == ["Grace"] and message["paths"]["/streaming"] == []


def test_a_name_that_is_not_utf8_does_not_break_the_list(watched: wstutorial.TutorialServer) -> None:
    """A handler that let ?name=%FF through: the connection is listed by number and address, the list is still made."""
    with websockets_connect(watched.ws_url("/streaming") + "?name=%FF"):
        message = message_when(watched, {"/streaming": 1})
    [label] = message["paths"]["/streaming"]
    assert label.startswith("client-") and label.endswith(" from 127.0.0.1")


def test_workers_connections_join_the_list_and_the_rest_is_counted(watched: wstutorial.TutorialServer) -> None:
    """A worker's labels are merged with this process's and sorted; beyond MAX_LISTED a path says how many more."""
    remote = RemoteConnections()
    many = [f"student {number:03}" for number in range(MAX_LISTED + 20)]
    remote.update("worker 1", {"/ws": many, "/streaming": ["Ann"]}, {"/ws": 150, "/streaming": 1})
    with websockets_connect(watched.ws_url("/streaming") + "?name=aaron"):
        message = message_when(watched, {"/streaming": 1}, remote)
    assert message["paths"]["/streaming"] == ["aaron", "Ann"]
    assert message["paths"]["/ws"] == many[:MAX_LISTED]
    assert message["more"] == {"/ws": 50}  # 150 on the worker, 100 listed


def test_remote_connections_keep_each_workers_report() -> None:
    """update keeps a worker's /ws and /streaming (at most MAX_LISTED labels, counts as reported); drop forgets it; listeners hear each change."""
    remote = RemoteConnections()
    changes: list[str] = []
    unsubscribe = remote.subscribe(lambda: changes.append("changed"))
    labels = [f"s{number}" for number in range(MAX_LISTED + 5)]
    remote.update("worker 1", {"/ws": labels, "/chat": ["not a worker path"]}, {"/ws": 300})
    assert remote.labels["worker 1"] == {"/ws": labels[:MAX_LISTED], "/streaming": []}
    assert remote.counts["worker 1"] == {"/ws": 300, "/streaming": 0}
    remote.update("worker 2", {"/streaming": ["Ann", "Ben"]}, {})
    assert remote.counts["worker 2"] == {"/ws": 0, "/streaming": 2}  # no count reported: the labels counted
    remote.drop("worker 1")
    remote.drop("worker 9")  # never reported: no change
    assert list(remote.labels) == ["worker 2"] and list(remote.counts) == ["worker 2"]
    assert changes == ["changed"] * 3
    unsubscribe()
    remote.drop("worker 2")
    assert changes == ["changed"] * 3 and remote.labels == {}
