"""Bad query arguments on every WebSocket route: refused at the handshake, nothing left behind (issue 24, item 1).

Tornado's ``get_argument`` raises inside ``open()`` (and inside the teacher
page's connection lists) for text that is not UTF-8; before this, such a
client stayed in the hub for good, stopped the teacher page's updates and
printed a traceback.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Iterator

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from helpers import next_json, poll_until
from wstutorial.classroom.server import Classroom, start_classroom

TOKEN = "teacher-secret-123"
ROUTES = ("/ws", "/streaming", "/echo", "/sensor", "/json", "/chat", "/readings", "/teacher")
BAD_QUERIES = {
    "not UTF-8 (a lone surrogate)": "{name}=%ED%A0%80",
    "not UTF-8 (a stray byte)": "{name}=%FF",
    "a NUL": "{name}=a%00b",
    "10 kB": "{name}=" + "x" * 10_000,
    "repeated": "{name}=Ada&{name}=Bob",
    "a NUL in the name": "na%00me=Ada",
}


@pytest.fixture
def classroom() -> Iterator[Classroom]:
    running = start_classroom(port=0, interval=0.05, teacher_token=TOKEN)
    try:
        yield running
    finally:
        running.stop()


def open_count(classroom: Classroom) -> int:
    return classroom.server.call(lambda: sum(len(handlers) for handlers in classroom.server.hub.connections.values()))


def test_the_rules_in_one_function() -> None:
    """query_problem names the argument and what is wrong; plain arguments pass."""
    from wstutorial.server.handlers import MAX_ARGUMENT_LENGTH, query_problem

    assert query_problem({"name": [b"Ada"], "rate": [b"10"], "empty": [b""]}) is None
    assert "not UTF-8" in str(query_problem({"name": [b"\xed\xa0\x80"]}))
    assert "NUL" in str(query_problem({"name": [b"a\x00"]}))
    assert "given 2 times" in str(query_problem({"token": [b"wrong", b"RIGHT"]}))
    assert f"at most {MAX_ARGUMENT_LENGTH}" in str(query_problem({"name": [b"x" * 10_000]}))


@pytest.mark.parametrize("argument", ["name", "token", "rate"])
def test_every_route_refuses_bad_arguments_and_keeps_nothing(
    classroom: Classroom, argument: str, capfd: pytest.CaptureFixture[str]
) -> None:
    """Each bad query on each route: 400 at the handshake; then the hub holds only the teacher, whose page still updates, and stop() closes 1."""
    base = classroom.server.ws_url("/").rstrip("/")
    with connect(f"{base}/teacher?token={TOKEN}") as teacher:
        next_json(teacher, "connections")
        for route in ROUTES:
            for label, query in BAD_QUERIES.items():
                url = f"{base}{route}?{query.format(name=argument)}"
                with pytest.raises(InvalidStatus) as refused:
                    with connect(url, open_timeout=5, max_size=None) as websocket:
                        websocket.recv(timeout=5)
                assert refused.value.response.status_code == 400, (route, label)
        # An empty argument is no bad text: each route opens (/chat and /teacher then close it with 1008).
        for route in ROUTES:
            with connect(f"{base}{route}?{argument}=") as websocket:
                try:
                    websocket.send("hi")
                except ConnectionClosed:
                    assert route in ("/chat", "/teacher")
        poll_until(lambda: open_count(classroom) == 1)  # the teacher only
        # The teacher's page still follows who comes and goes.
        with connect(f"{base}/ws?name=Grace"):
            while "Grace" not in next_json(teacher, "connections")["paths"]["/ws"]:
                pass
        assert classroom.stop() == 1
    refusals = [event.text for event in classroom.events.snapshot() if "handshake refused" in event.text]
    assert len(refusals) >= len(ROUTES) * len(BAD_QUERIES)
    assert not [event for event in classroom.events.snapshot() if event.kind == "error"]
    output = capfd.readouterr()
    assert "Traceback" not in output.out + output.err


def test_a_repeated_token_is_refused(classroom: Classroom) -> None:
    """``?token=wrong&token=RIGHT`` (the last value would win) is refused at the handshake."""
    url = f"{classroom.server.ws_url('/teacher')}?token=wrong&token={TOKEN}"
    with pytest.raises(InvalidStatus) as refused:
        with connect(url):
            pass
    assert refused.value.response.status_code == 400
    assert classroom.events.wait_for("is given 2 times", timeout=5)


def test_an_argument_missing_in_open_closes_with_1008_and_unregisters() -> None:
    """A handler of one's own whose open() raises an HTTPError (a required argument missing): 1008, an event, nothing left behind."""
    import wstutorial
    from wstutorial.server.handlers import TutorialHandler

    class NeedsName(TutorialHandler):
        def open(self) -> None:
            self.record(f"hello {self.get_argument('name')}")  # MissingArgumentError: 400

    server = wstutorial.start_server(port=0, handlers={"/needs": NeedsName})
    try:
        with connect(server.ws_url("/needs")) as websocket:
            with pytest.raises(ConnectionClosed) as closed:
                websocket.recv(timeout=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
        assert "Missing argument name" in closed.value.rcvd.reason
        server.events.wait_for("closed with 1008: Missing argument name", timeout=5)
        poll_until(lambda: server.call(lambda: len(server.hub.connections)) == 0)
    finally:
        assert server.stop() == 0


def test_the_teacher_token_never_reaches_a_log_line(classroom: Classroom, caplog: pytest.LogCaptureFixture) -> None:
    """A plain GET of /teacher?token=RIGHT (no upgrade: 400) is recorded with the token masked; no logger writes it either."""
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(f"{classroom.server.url}teacher?token={TOKEN}", timeout=5)
    assert answer.value.code == 400
    line = classroom.events.wait_for("GET /teacher", timeout=5).text
    assert "token=***" in line
    assert all(TOKEN not in str(event) for event in classroom.events.snapshot())
    assert all(TOKEN not in record.getMessage() for record in caplog.records)
