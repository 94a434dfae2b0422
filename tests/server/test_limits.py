"""Limits on the whole server (issue 15, item 4): connections, header time, memory of arriving messages, accept errors."""

from __future__ import annotations

import os
import resource
import socket
import struct
import subprocess
import sys
import time
from typing import Iterator

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

import wstutorial
from helpers import RawClient


def idle_connections(port: int, count: int) -> list[socket.socket]:
    return [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(count)]


def hello_within(server: wstutorial.TutorialServer, seconds: float = 10.0) -> str:
    """Hello World from /ws, retrying while the server still counts connections being closed."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with connect(server.ws_url("/ws"), open_timeout=10) as client:
                return str(client.recv(timeout=10))
        except InvalidStatus:
            if time.monotonic() > deadline:
                raise


def test_beyond_max_connections_new_ones_get_503_recorded_once() -> None:
    with wstutorial.start_server(port=0, max_connections=5) as server:
        idle = idle_connections(server.port, 5)
        try:
            for _ in range(3):
                with socket.create_connection(("127.0.0.1", server.port), timeout=10) as extra:
                    extra.sendall(b"GET /hello.html HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                    reply = extra.recv(4096)
                    assert reply.startswith(b"HTTP/1.1 503 Service Unavailable\r\n") and b"try again soon" in reply
            with pytest.raises(InvalidStatus) as refused:
                connect(server.ws_url("/ws"), open_timeout=10)
            assert refused.value.response.status_code == 503
            assert len([e for e in server.events.snapshot() if "(max_connections)" in e.text]) == 1
        finally:
            for sock in idle:
                sock.close()
        assert hello_within(server) == "Hello World"


def test_a_client_that_never_finishes_its_headers_is_closed_after_header_timeout() -> None:
    """Slowloris: a byte every so often keeps no socket for ever."""
    with wstutorial.start_server(port=0, header_timeout=0.5) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as slow:
            slow.sendall(b"GET /hello.html HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            started = time.monotonic()
            closed = False
            while time.monotonic() - started < 10:
                try:
                    slow.sendall(b"X")
                    slow.settimeout(0.2)
                    if slow.recv(1) == b"":
                        closed = True
                        break
                except socket.timeout:
                    continue
                except (BrokenPipeError, ConnectionResetError):
                    closed = True
                    break
            assert closed
        # A body announced and never sent is given as long.
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as slow_body:
            slow_body.sendall(b"POST /hello.html HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\nx")
            slow_body.settimeout(10)
            assert read_until_closed(slow_body)
        assert hello_within(server) == "Hello World"


def read_until_closed(sock: socket.socket) -> bool:
    """Read until the server closes (True) or 10 s pass without it (False)."""
    try:
        while sock.recv(4096):
            pass
    except ConnectionResetError:
        pass
    except socket.timeout:
        return False
    return True


def masked_frame_head(size: int) -> bytes:
    """A masked binary frame's header (mask of zeros: the payload goes as it is) for ``size`` bytes."""
    return struct.pack("!BBQ", 0x82, 0x80 | 127, size) + b"\x00\x00\x00\x00"


def test_partly_received_messages_share_one_budget_beyond_which_a_client_gets_1013() -> None:
    with wstutorial.start_server(port=0, max_partial_bytes=100_000) as server:
        budget = server.context.receive_budget
        assert budget is not None
        first = RawClient(server.ws_url("/echo"))
        second = RawClient(server.ws_url("/echo"))
        try:
            first.sock.sendall(masked_frame_head(60_000) + b"a" * 40_000)
            assert server.call(lambda: budget.held, timeout=10) in range(0, 40_001)
            server.events.wait_for("new connection", timeout=10)
            mark = server.events.next_seq
            second.sock.sendall(masked_frame_head(70_000) + b"b" * 70_000)
            assert second.wait_closed() == 1013
            assert server.events.wait_for("too much partly received data", after=mark, timeout=10)
            first.sock.sendall(b"a" * 20_000)
            assert first.receive().data == b"a" * 60_000
        finally:
            first.close()
            second.close()
        with connect(server.ws_url("/echo"), open_timeout=10) as client:
            client.send(b"c" * 90_000)
            assert client.recv(timeout=10) == b"c" * 90_000
        assert server.call(lambda: budget.held, timeout=10) == 0


SERVE_WITH_FEW_FILES = """
import resource, sys, wstutorial
resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
server = wstutorial.start_server(port=0, max_connections=1000, ping_interval=None)
print(server.port, flush=True)
for event in server.events.follow(poll=0.05):
    print(event.text, flush=True)
"""


@pytest.fixture
def few_files_server() -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE_WITH_FEW_FILES],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        yield process
    finally:
        process.kill()
        process.wait(10)


def test_out_of_file_descriptors_is_recorded_at_most_once_a_second(few_files_server: subprocess.Popen[str]) -> None:
    """With the file limit reached, accept errors neither spin nor print a traceback per loop turn."""
    assert few_files_server.stdout is not None and few_files_server.stderr is not None
    port = int(few_files_server.stdout.readline())
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert soft > 200, "this test needs more than 200 files itself"
    idle = idle_connections(port, 100)  # the server has 64 file descriptors
    try:
        start = time.monotonic()
        lines = []
        os.set_blocking(few_files_server.stdout.fileno(), False)
        while time.monotonic() - start < 2.5:
            line = few_files_server.stdout.readline()
            if line:
                lines.append(line)
            else:
                time.sleep(0.05)
        errors = [line for line in lines if line.startswith("cannot accept connections: Too many open files")]
        assert 1 <= len(errors) <= 4, lines
        assert "ulimit -n" in errors[0]
    finally:
        for sock in idle:
            sock.close()
    few_files_server.kill()
    stderr = few_files_server.stderr.read()
    assert "Traceback" not in stderr and len(stderr) < 2000, stderr[:2000]
