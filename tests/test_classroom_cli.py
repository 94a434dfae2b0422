"""`python -m wstutorial classroom`, run as a real subprocess."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

from websockets.sync.client import connect

from helpers import free_port
from wstutorial.address import lan_addresses


class Classroom:
    """`python -m wstutorial classroom ...` running until interrupted."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "wstutorial", "classroom", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ, PYTHONUNBUFFERED="1"),
        )
        self.lines: list[str] = []
        assert self.process.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                raise AssertionError(f"classroom ended early: {self.lines} {self.process.stderr.read()}")  # type: ignore[union-attr]
            self.lines.append(line.rstrip("\n"))
            if "Press Ctrl-C" in line:
                return
        raise AssertionError(f"classroom did not start: {self.lines}")

    def wait_for_line(self, text: str, timeout: float = 30) -> None:
        """Read the output until a line contains ``text`` (the server prints events as they come)."""
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            self.lines.append(line.rstrip("\n"))
            if text in line:
                return
        raise AssertionError(f"no line with {text!r}: {self.lines[-5:]}")

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def interrupt(self) -> tuple[int, str]:
        self.process.send_signal(signal.SIGINT)
        out, err = self.process.communicate(timeout=30)
        return self.process.returncode, out + err


def test_classroom_prints_what_to_type_and_serves_chat_and_teacher() -> None:
    """The addresses for students and the teacher's page with its token; chat and teacher work."""
    port = free_port()
    running = Classroom("--host", "127.0.0.1", "--port", str(port), "--interval", "0.1")
    try:
        assert f"host localhost   port {port}   uri /chat?name=YourName" in running.text
        assert f"http://localhost:{port}/chat.html" in running.text
        match = re.search(rf"http://127\.0\.0\.1:{port}/teacher\.html\?token=(\S+)", running.text)
        assert match, running.text
        token = match.group(1)
        with connect(f"ws://127.0.0.1:{port}/teacher?token={token}") as teacher:
            assert json.loads(teacher.recv(timeout=10))["type"] == "room"
            assert json.loads(teacher.recv(timeout=10))["type"] == "board"
            assert json.loads(teacher.recv(timeout=10)) == {"type": "members", "members": []}
            with connect(f"ws://127.0.0.1:{port}/chat?name=Ada") as ada:
                assert json.loads(ada.recv(timeout=10))["type"] == "welcome"
                ada.send("hello class")
                assert json.loads(ada.recv(timeout=10))["text"] == "hello class"
                stream = teacher.recv(timeout=10)
                assert json.loads(stream) == {"type": "stream", "running": True}
                seen = []  # the board and who is connected come too
                while {"type": "members", "members": ["Ada"]} not in seen and len(seen) < 20:
                    seen.append(json.loads(teacher.recv(timeout=10)))
                assert {"type": "members", "members": ["Ada"]} in seen, seen
        with connect(f"ws://127.0.0.1:{port}/streaming") as listener:
            assert listener.recv(timeout=10).startswith("message: ")
        running.wait_for_line("Ada joined the chat")
        running.wait_for_line("chat hello class")
    finally:
        code, output = running.interrupt()
    assert code == 0
    assert "Traceback" not in output


def test_classroom_listens_on_the_network_by_default_and_warns() -> None:
    """Without --host it listens on every interface and says that the network can reach it."""
    running = Classroom("--port", "0")
    try:
        assert any("Warning" in line and "anyone on your network" in line for line in running.lines)
        assert "Students type into the notebook's ClientPanel:" in running.text
        # The addresses students can reach (this machine's network addresses), not the teacher's 127.0.0.1.
        port = re.search(r"port (\d+)", running.text).group(1)  # type: ignore[union-attr]
        hosts = lan_addresses()
        assert hosts and all(f"host {host}   port {port}" in running.text for host in hosts)
        assert all(f"http://{host}:{port}/chat.html" in running.text for host in hosts)
        assert "127.0.0.1" not in running.text.split("Teacher page")[0]
    finally:
        code, _ = running.interrupt()
    assert code == 0


def test_classroom_bad_port_exits_2() -> None:
    """A bad port is one line naming it, exit 2."""
    result = subprocess.run(
        [sys.executable, "-m", "wstutorial", "classroom", "--port", "nope"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2 and "'nope'" in result.stderr
    assert "Traceback" not in result.stderr
