"""`classroom --workers N`: every worker gets the room's process's settings, its wheelhouse, and shows on the teacher page.

A real redis-server, real worker processes, `websockets` as the client.
"""

from __future__ import annotations

import json
import ssl
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from helpers import next_json
from wstutorial.classroom.room import ChatRoom
from wstutorial.classroom.server import Classroom, start_classroom
from wstutorial.cli import build_parser
from wstutorial.server.options import WORKER_SETTINGS, ServerOptions
from wstutorial.services.redisserver import RedisServer

ALLOWED = "http://localhost:8889"
WHEEL = "wstutorial-0.0.1-py3-none-any.whl"


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("wheels")
    (folder / WHEEL).write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip: pip would only download it here
    return folder


@pytest.fixture(scope="module")
def classroom(redis_server: RedisServer, wheels: Path) -> Iterator[Classroom]:
    # One join per address (then one a minute), so a second join from an address the proxy names is refused.
    room = ChatRoom(presence_delay=0, join_rate=1 / 60, join_burst=1)
    running = start_classroom(
        port=0, room=room, workers=1, redis_url=redis_server.url, interval=0.05,
        allowed_origins=[ALLOWED], xheaders=True, wheels=wheels,
    )
    try:
        yield running
    finally:
        running.stop()


def closed(client: ClientConnection) -> tuple[int | None, str | None]:
    with pytest.raises(ConnectionClosed):
        while True:
            client.recv(timeout=10)
    return client.close_code, client.close_reason


def test_worker_settings_cross_into_another_process_unchanged() -> None:
    """What a worker gets (--options JSON) makes the same ServerOptions, for every setting that can cross; what cannot says so."""
    changed = {
        "interval": 0.5, "allowed_origins": [ALLOWED], "allowed_hosts": ["laptop.local"], "xheaders": True,
        "max_message_size": 1234, "ping_interval": 3, "ping_timeout": 2, "max_connections": 50, "header_timeout": 4,
        "max_partial_bytes": 99999, "check_host": False, "student_dir": Path(__file__).parent,
    }
    assert set(changed) == set(WORKER_SETTINGS)  # a new setting that can cross is tested here too
    options = ServerOptions(**changed)
    again = ServerOptions(**json.loads(json.dumps(options.worker_settings())))
    assert all(getattr(options, name) != getattr(ServerOptions(), name) for name in WORKER_SETTINGS)
    assert {name: getattr(again, name) for name in WORKER_SETTINGS} == {name: getattr(options, name) for name in WORKER_SETTINGS}
    with pytest.raises(ValueError, match="cannot be given an ssl_context.*nginx"):
        ServerOptions(ssl_context=ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)).worker_settings()


def test_command_line_takes_origins_and_xheaders() -> None:
    args = build_parser().parse_args(
        ["classroom", "--workers", "2", "--allowed-origin", ALLOWED, "--allowed-origin", "https://a.example", "--xheaders"]
    )
    assert args.allowed_origins == [ALLOWED, "https://a.example"] and args.xheaders is True
    defaults = build_parser().parse_args(["classroom"])
    assert defaults.allowed_origins == [] and defaults.xheaders is False


def test_a_worker_refuses_an_origin_as_the_room_does(classroom: Classroom) -> None:
    """Refused on a worker with the same 403 and the same sentence as on the room's port; the allowed origin gets in."""
    worker = classroom.workers[0]
    texts = []
    for url, tag in ((classroom.server.ws_url("/ws"), ""), (worker.ws_url("/ws"), "worker 1 ")):
        after = classroom.events.next_seq
        with pytest.raises(InvalidStatus) as refused:
            connect(url, origin="http://evil.example", open_timeout=10)
        assert refused.value.response.status_code == 403
        event = classroom.events.wait_for("origin rejected", kind="origin", after=after, timeout=10)
        assert event.client.startswith(tag)
        texts.append(event.text)
    assert texts[0] == texts[1] == (
        "origin rejected 'http://evil.example' (403): a page of another origin; "
        "add it to allowed_origins only if that page is yours"
    )
    with connect(worker.ws_url("/ws"), origin=ALLOWED, open_timeout=10) as allowed:
        assert allowed.recv(timeout=10)


def test_a_worker_believes_the_proxys_address_headers(classroom: Classroom) -> None:
    """xheaders on the worker: X-Real-IP / X-Forwarded-For name the address the room limits joins by."""
    url = classroom.chat_url("Ann", worker=1)
    with connect(url, additional_headers={"X-Real-IP": "10.1.1.1"}) as ann:
        next_json(ann, "welcome")
        with connect(classroom.chat_url("Ben", worker=1), additional_headers={"X-Real-IP": "10.1.1.1"}) as ben:
            code, reason = closed(ben)
            assert code == 1008 and reason is not None and reason.startswith("too many joins from 10.1.1.1")
        with connect(classroom.chat_url("Cal", worker=1), additional_headers={"X-Forwarded-For": "10.1.1.2"}) as cal:
            assert next_json(cal, "welcome")["members"] == ["Ann", "Cal"]


def test_the_wheelhouse_is_served_on_every_port(classroom: Classroom, wheels: Path) -> None:
    """--wheels: a student's find-links URL works on the room's port and on a worker's (nginx in front of the workers)."""
    for port in (classroom.port, classroom.workers[0].port):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/wheels/", timeout=10) as page:
            assert f'<a href="{WHEEL}">{WHEEL}</a>' in page.read().decode()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/wheels/{WHEEL}", timeout=10) as wheel:
            assert wheel.read() == (wheels / WHEEL).read_bytes()


def test_the_teacher_page_lists_a_workers_connections(classroom: Classroom) -> None:
    """A /ws and a /streaming client on a worker appear among the teacher page's connections, and go when they leave."""
    worker = classroom.workers[0]
    with connect(f"{classroom.server.ws_url('/teacher')}?token={classroom.teacher_token}") as teacher:
        next_json(teacher, "board")
        with connect(worker.ws_url("/ws?name=Zed"), open_timeout=10), connect(worker.ws_url("/streaming?name=Yan")):
            while True:
                paths = next_json(teacher, "connections")["paths"]
                if "Zed" in paths["/ws"] and "Yan" in paths["/streaming"]:
                    break
        while "Zed" in next_json(teacher, "connections")["paths"]["/ws"]:
            pass
    assert classroom.server.call(lambda: classroom.remote_connections.counts)
