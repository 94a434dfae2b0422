"""One process of a cluster (``python -m wstutorial.server.worker``): its JSON lines, its relay, and how it stops.

A real worker process, a real redis-server, ``websockets`` as the client.
"""

from __future__ import annotations

import json
import queue
import re
import signal
import subprocess
import sys
import threading
from typing import Any, Iterator

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as websockets_connect

from helpers import free_port
from wstutorial.server.relay import publish
from wstutorial.server.worker import main
from wstutorial.services.redisserver import RedisServer

CHANNEL = "test:worker"


class WorkerProcess:
    """The worker as the cluster runs it: stdin and stdout pipes, each stdout line read as JSON (bounded waits)."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "wstutorial.server.worker", *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(json.loads(line))
        self.lines.put(None)  # end of output

    def next_line(self, key: str, timeout: float = 30) -> dict[str, Any]:
        """The next line that has ``key`` (``listening``, ``event``, ``stopped``, ``error``), keeping every line in ``seen``."""
        while True:
            line = self.lines.get(timeout=timeout)
            assert line is not None, f"the worker ended without a {key!r} line: {self.seen} {self.stderr()}"
            self.seen.append(line)
            if key in line:
                return line

    def event(self, text: str) -> dict[str, Any]:
        """The next event line whose text contains ``text``."""
        while True:
            event = self.next_line("event")["event"]
            if text in event["text"]:
                return dict(event)

    def stderr(self) -> str:
        return self.process.stderr.read() if self.process.poll() is not None and self.process.stderr else ""

    def close(self) -> None:
        """Kill the worker if the test did not stop it; close its pipes."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)
        self.reader.join(10)
        for pipe in (self.process.stdin, self.process.stdout, self.process.stderr):
            if pipe is not None:
                pipe.close()


@pytest.fixture
def worker(redis_server: RedisServer) -> Iterator[WorkerProcess]:
    """A worker listening on a free port, subscribed to this module's Redis, with max_message_size 10 (--options)."""
    running = WorkerProcess("--redis", redis_server.url, "--channel", CHANNEL, "--options", '{"max_message_size": 10}')
    try:
        yield running
    finally:
        running.close()


def closed_with(client: ClientConnection) -> int | None:
    """Read until the server closes ``client``; the close code it sent."""
    with pytest.raises(ConnectionClosed):
        while True:
            client.recv(timeout=10)
    return client.close_code


def test_a_worker_relays_broadcasts_and_stops_when_its_stdin_closes(worker: WorkerProcess, redis_server: RedisServer) -> None:
    """listening line, a published broadcast on /updates, --options applied; stdin closed: 1001, a stopped line, exit 0."""
    assert worker.event("subscribed to Redis channel")["kind"] == "relay"
    port = worker.next_line("listening")["listening"]
    with websockets_connect(f"ws://127.0.0.1:{port}/updates", open_timeout=10) as listener:
        worker.event("new connection")
        assert publish(redis_server.url, "/updates", "to every process", channel=CHANNEL) == 1
        assert listener.recv(timeout=10) == "to every process"
        relayed = worker.event("broadcast from Redis")
        assert (relayed["kind"], relayed["path"]) == ("relay", "/updates")
        with websockets_connect(f"ws://127.0.0.1:{port}/echo", open_timeout=10) as echo:
            echo.send("eleven byte")  # 11 bytes: more than the worker's max_message_size
            assert closed_with(echo) == 1009
        assert worker.process.stdin is not None
        worker.process.stdin.close()
        assert closed_with(listener) == 1001
    assert worker.next_line("stopped") == {"stopped": 1}
    assert worker.process.wait(timeout=30) == 0


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["Ctrl-C", "SIGTERM"])
def test_ctrl_c_or_sigterm_with_stdin_still_open_closes_the_clients_with_1001(
    stop: signal.Signals, worker: WorkerProcess
) -> None:
    """A process manager's SIGTERM stops a worker as Ctrl-C does: its clients get 1001, a stopped line, exit code 0."""
    port = worker.next_line("listening")["listening"]
    with websockets_connect(f"ws://127.0.0.1:{port}/updates", open_timeout=10) as listener:
        worker.event("new connection")
        worker.process.send_signal(stop)
        assert closed_with(listener) == 1001
    assert worker.next_line("stopped") == {"stopped": 1}
    assert worker.process.wait(timeout=30) == 0, worker.stderr()


@pytest.mark.parametrize(
    ("options", "says"),
    [
        (None, r"cannot reach Redis at redis://127\.0\.0\.1:\d+/0 .*; is redis-server running there\?"),
        ('{"interval": 0}', r"interval must be a positive number of seconds, got 0"),
    ],
)
def test_a_worker_that_cannot_serve_says_why_in_one_line(options: str | None, says: str, redis_server: RedisServer) -> None:
    """No Redis at the URL, or a bad setting: one JSON error line naming it, exit code 1, no listening line."""
    url = redis_server.url if options else f"redis://127.0.0.1:{free_port()}/0"
    result = subprocess.run(
        [sys.executable, "-m", "wstutorial.server.worker", "--redis", url, *(["--options", options] if options else [])],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 1 and set(lines[0]) == {"error"}
    assert re.fullmatch(says, lines[0]["error"]), lines[0]


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ("not json", "--options must be a JSON object, got 'not json'"),
        ('{"debug": true}', "--options takes only interval, allowed_origins, max_message_size"),
        ("[1]", "--options must be a JSON object, got '[1]'"),
    ],
)
def test_bad_options_are_refused_before_anything_starts(options: str, says: str, capsys: pytest.CaptureFixture[str]) -> None:
    """--options that are not JSON, or name no worker setting: argparse's exit code 2 with a sentence that shows them."""
    with pytest.raises(SystemExit) as exited:
        main(["--redis", "redis://127.0.0.1:1/0", "--options", options])
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert says in error and options in error


def test_a_redis_url_that_is_no_url_is_named_in_the_error_line() -> None:
    """--redis nonsense: one JSON error line that shows the URL given and one that works, exit code 1."""
    result = subprocess.run(
        [sys.executable, "-m", "wstutorial.server.worker", "--redis", "nonsense"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    (line,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert line["error"].endswith(": got 'nonsense', e.g. redis://127.0.0.1:6379/0"), line
    assert "redis://" in line["error"].partition(": got")[0]  # redis-py's sentence: the schemes it takes
