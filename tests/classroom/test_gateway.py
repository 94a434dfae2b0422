"""A classroom with worker processes (`classroom --workers N`): one room, students on several processes, a real Redis."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from typing import Iterator

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from helpers import Running, next_json
from wstutorial.classroom.room import ChatRoom
from wstutorial.classroom.server import Classroom, start_classroom
from wstutorial.services.redisserver import RedisServer


@pytest.fixture(scope="module")
def classroom(redis_server: RedisServer) -> Iterator[Classroom]:
    # No presence delay: each join and leave is its own message, so the tests can name them.
    room = ChatRoom(presence_delay=0, rate=1.0, burst=3, max_refusals=2)
    running = start_classroom(port=0, room=room, workers=2, redis_url=redis_server.url, interval=0.05)
    try:
        yield running
    finally:
        running.stop()


def test_names_are_unique_across_workers(classroom: Classroom) -> None:
    """A name taken on worker 1 is refused on worker 2 (1008, with the room's sentence)."""
    with connect(classroom.chat_url("Ada", worker=1)) as ada:
        assert next_json(ada, "welcome")["name"] == "Ada"
        with connect(classroom.chat_url("ada", worker=2)) as copy:
            with pytest.raises(ConnectionClosed):
                copy.recv(timeout=10)
            assert copy.close_code == 1008
            assert "name 'ada' is already in the room (as 'Ada')" in copy.close_reason
        assert classroom.members() == ["Ada"]


def test_chat_and_member_lists_cross_workers(classroom: Classroom) -> None:
    """Join, chat and leave on different workers: right names, right member lists, one room."""
    with connect(classroom.chat_url("Bea", worker=1)) as bea:
        assert next_json(bea, "welcome")["members"] == ["Bea"]
        with connect(classroom.chat_url("Cy", worker=2)) as cy:
            assert next_json(cy, "welcome")["members"] == ["Bea", "Cy"]
            assert next_json(bea, "presence") == {"type": "presence", "joined": ["Cy"], "left": []}
            bea.send("hello from worker 1")
            assert next_json(cy, "chat") == {"type": "chat", "name": "Bea", "text": "hello from worker 1"}
            assert next_json(bea, "chat")["name"] == "Bea"  # the sender gets it too, as in one process
            with connect(classroom.chat_url("Dee")) as dee:  # the room's own process serves /chat as well
                assert next_json(dee, "welcome")["history"][-1]["text"] == "hello from worker 1"
                assert next_json(cy, "presence")["joined"] == ["Dee"]
        changes = [next_json(bea, "presence") for _ in range(3)]
        assert [(c["joined"], c["left"]) for c in changes] == [(["Dee"], []), ([], ["Dee"]), ([], ["Cy"])]
        assert classroom.members() == ["Bea"]


def test_rate_limit_applies_on_a_worker(classroom: Classroom) -> None:
    """The room's limits hold for a student on a worker: a notice, then 1008 after too many refusals."""
    with connect(classroom.chat_url("Eve", worker=2)) as eve:
        next_json(eve, "welcome")
        for number in range(8):
            eve.send(f"spam {number}")
        assert next_json(eve, "notice")["text"].startswith("too many messages: at most 1 a second")
        with pytest.raises(ConnectionClosed):
            while True:
                eve.recv(timeout=10)
        assert eve.close_code == 1008
        assert "messages refused in a row" in eve.close_reason


def test_a_worker_limits_message_size(classroom: Classroom) -> None:
    """A message over the classroom's 16 KiB closes the connection with 1009 on the worker itself."""
    with connect(classroom.chat_url("Finn", worker=1), max_size=None) as finn:
        next_json(finn, "welcome")
        finn.send("x" * (16 * 1024 + 1))
        with pytest.raises(ConnectionClosed):
            while True:
                finn.recv(timeout=10)
        assert finn.close_code == 1009


def test_board_gets_a_check_result_from_a_worker(classroom: Classroom) -> None:
    """A student on worker 2 is listed on the teacher's page and reports a self-check that the board shows."""
    with connect(f"{classroom.server.ws_url('/teacher')}?token={classroom.teacher_token}") as teacher:
        next_json(teacher, "board")
        with connect(classroom.chat_url("Gus", worker=2)) as gus:
            next_json(gus, "welcome")
            while "Gus" not in next_json(teacher, "members")["members"]:  # the first is the list on connecting
                pass
            # Who is connected on /chat lists the room's members, those on workers included.
            while "Gus" not in next_json(teacher, "connections")["paths"]["/chat"]:
                pass
            gus.send(json.dumps({"type": "progress", "exercise": "mini_chat", "passed": True, "reason": "it echoes"}))
            expected = {"type": "progress", "name": "Gus", "exercise": "mini_chat", "passed": True, "reason": "it echoes"}
            live = next_json(teacher, "progress")
            assert (live["exercise"], live["passed"], live["reason"]) == ("mini_chat", True, "it echoes")
            assert next_json(gus, "progress") == expected  # the student's own receipt
        assert classroom.room.board.find("Gus").results["mini_chat"].passed is True  # type: ignore[union-attr]


def test_teacher_stops_the_stream_on_every_worker(classroom: Classroom) -> None:
    """stop_stream on the teacher's page pauses each worker's /streaming too."""
    after = classroom.events.next_seq
    assert classroom.set_stream_running(False)
    paused = set()
    seen = after
    for _ in range(len(classroom.workers) + 1):  # the room's own process pauses its stream too
        event = classroom.events.wait_for("stream paused for everyone", after=seen, timeout=10)
        paused.add(event.client or "room")
        seen = event.seq + 1
    assert paused == {"room", "worker 1", "worker 2"}
    assert classroom.set_stream_running(True)


def test_one_address_for_the_class_through_nginx(classroom: Classroom) -> None:
    """nginx (least_conn) in front of the workers: two students on one address land on both workers, in one room."""
    from wstutorial.services.nginxproxy import start_nginx

    balancer = start_nginx([worker.port for worker in classroom.workers])
    after = classroom.events.next_seq
    try:
        with connect(balancer.ws_url("/chat?name=Max")) as max_, connect(balancer.ws_url("/chat?name=Nia")) as nia:
            next_json(max_, "welcome")
            # Two workers publish the two joins: the room may take Nia's first (her welcome then lists her alone).
            assert next_json(nia, "welcome")["members"] in (["Max", "Nia"], ["Nia"])
            assert sorted(classroom.members()) == ["Max", "Nia"]
            nia.send("through nginx")
            assert next_json(max_, "chat") == {"type": "chat", "name": "Nia", "text": "through nginx"}
    finally:
        balancer.stop()
    for name in ("Max", "Nia"):  # a worker's events come through its pipe: wait for them, not just read
        classroom.events.wait_for(f"{name} joined the chat", after=after, timeout=10)
    joined = {event.client for event in classroom.events.snapshot(after) if event.text.endswith("joined the chat")}
    assert joined == {"worker 1 Max", "worker 2 Nia"} or joined == {"worker 2 Max", "worker 1 Nia"}


def test_unnamed_clients_of_different_workers_are_told_apart(classroom: Classroom) -> None:
    """Each worker numbers its clients from 1: the teacher page adds the worker to an unnamed one's label, never to a name."""
    teacher_url = f"{classroom.server.ws_url('/teacher')}?token={classroom.teacher_token}"
    with connect(teacher_url) as teacher, connect(classroom.workers[0].ws_url("/ws")), \
            connect(classroom.workers[1].ws_url("/ws")), connect(classroom.workers[1].ws_url("/ws?name=Ove")):
        while True:
            listed = next_json(teacher, "connections")["paths"]["/ws"]
            if len([label for label in listed if label.startswith("client-")]) == 2 and "Ove" in listed:
                break
    unnamed = sorted((label for label in listed if label.startswith("client-")), key=lambda label: label[-2:])
    assert re.fullmatch(r"client-\d+ from 127\.0\.0\.1 \(worker 1\)", unnamed[0]), unnamed
    assert re.fullmatch(r"client-\d+ from 127\.0\.0\.1 \(worker 2\)", unnamed[1]), unnamed


def test_a_dead_workers_students_leave_the_room(redis_server: RedisServer) -> None:
    """A worker killed from outside drops its students; the room lets them go, so their names are free again."""
    running = start_classroom(port=0, room=ChatRoom(presence_delay=0), workers=2, redis_url=redis_server.url)
    teacher_url = f"{running.server.ws_url('/teacher')}?token={running.teacher_token}"
    try:
        with connect(running.chat_url("Kim", worker=1)) as kim, connect(running.chat_url("Lou", worker=2)) as lou, \
                connect(running.workers[0].ws_url("/ws?name=Wes")), connect(teacher_url) as teacher:
            kims_key = next_json(kim, "welcome")["secret"]
            next_json(lou, "welcome")
            while "Wes" not in next_json(teacher, "connections")["paths"]["/ws"]:
                pass
            running.workers[0].process.kill()
            while "Kim" not in next_json(lou, "presence")["left"]:
                pass
            running.events.wait_for("worker 1 is gone: 1 of its students left the chat room", timeout=10)
            # Its /ws client went with it: the teacher page no longer lists it.
            while "Wes" in next_json(teacher, "connections")["paths"]["/ws"]:
                pass
            with connect(running.chat_url("Kim", worker=2) + f"&secret={kims_key}") as again:  # her own row, on another worker
                assert next_json(again, "welcome")["members"] == ["Kim", "Lou"]
    finally:
        running.stop()


def test_stop_ends_workers_and_redis() -> None:
    """stop() closes the workers' students with 1001 and ends every process it started (workers, redis-server)."""
    running = start_classroom(port=0, workers=2)
    processes = [worker.process for worker in running.workers]
    redis_process = running.owned_redis.process
    with connect(running.chat_url("Hal", worker=2)) as hal:
        next_json(hal, "welcome")
        assert running.stop() == 1
        with pytest.raises(ConnectionClosed):
            hal.recv(timeout=10)
        assert hal.close_code == 1001
    assert all(process.poll() is not None for process in processes)
    assert redis_process.poll() is not None
    assert running.stop() == 0  # twice is fine


def test_classroom_with_workers_on_the_command_line() -> None:
    """`classroom --workers 2` prints each worker's port; students on both share the room; Ctrl-C ends every worker."""
    with Running("classroom", "--host", "127.0.0.1", "--port", "0", "--workers", "2") as teaching:
        workers = re.findall(r"worker \d \(pid (\d+)\): host localhost   port (\d+)", teaching.text)
        redis_port = re.search(r"through Redis at redis://127\.0\.0\.1:(\d+)/0", teaching.text)
        assert len(workers) == 2 and redis_port, teaching.text
        with connect(f"ws://127.0.0.1:{workers[0][1]}/chat?name=Ida") as ida:
            next_json(ida, "welcome")
            with connect(f"ws://127.0.0.1:{workers[1][1]}/chat?name=Jo") as jo:
                assert next_json(jo, "welcome")["members"] == ["Ida", "Jo"]
                jo.send("hi Ida")
                assert next_json(ida, "chat") == {"type": "chat", "name": "Jo", "text": "hi Ida"}
                code, printed = teaching.interrupt()
                with pytest.raises(ConnectionClosed):
                    while True:  # its own "hi Ida" may come first
                        jo.recv(timeout=10)
                assert jo.close_code == 1001
    assert code == 0, printed
    assert "Stopped: 2 WebSocket client(s) closed with 1001" in printed
    for pid, _ in workers:
        with pytest.raises(ProcessLookupError):
            os.kill(int(pid), 0)
    with pytest.raises(ConnectionRefusedError):  # the redis-server it started is gone too
        socket.create_connection(("127.0.0.1", int(redis_port.group(1))), timeout=5).close()


def test_missing_redis_server_is_one_line() -> None:
    """Without redis-server on this machine, `classroom --workers 2` says how to install it, in one line."""
    result = subprocess.run(
        [sys.executable, "-m", "wstutorial", "classroom", "--host", "127.0.0.1", "--port", "0", "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ, PATH=""),
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: redis-server is not installed"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
