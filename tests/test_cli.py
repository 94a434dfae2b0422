"""The command line, run as a real subprocess."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import time
from typing import Iterator

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from helpers import Running, free_port
from wstutorial.address import lan_addresses


def run_cli(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wstutorial", *args], capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def serving() -> Iterator[Running]:
    port = free_port()
    running = Running("serve", "--port", str(port), "--interval", "0.2")
    running.port = port  # type: ignore[attr-defined]
    try:
        yield running
    finally:
        if running.process.poll() is None:
            running.process.kill()
            running.process.wait()


def test_serve_prints_urls_and_serves_everything(serving: Running) -> None:
    """serve prints the page and WebSocket URLs and serves /ws, /streaming, /echo, pages."""
    port = serving.port  # type: ignore[attr-defined]
    text = "\n".join(serving.lines)
    assert f"http://127.0.0.1:{port}/hello.html" in text
    assert f"ws://127.0.0.1:{port}/ws" in text and f"ws://127.0.0.1:{port}/streaming" in text
    with connect(f"ws://127.0.0.1:{port}/ws") as websocket:
        assert websocket.recv(timeout=5) == "Hello World"
    with connect(f"ws://127.0.0.1:{port}/echo") as websocket:
        websocket.send("x")
        assert websocket.recv(timeout=5) == "x"
    with connect(f"ws://127.0.0.1:{port}/streaming") as websocket:
        assert str(websocket.recv(timeout=5)).startswith("message: ")
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/hello.html", timeout=5) as page:
        assert b'id="host"' in page.read()


def test_ctrl_c_closes_clients_with_1001_and_exits_0(serving: Running) -> None:
    """Ctrl-C closes connected clients with 1001, prints the events, exits 0."""
    port = serving.port  # type: ignore[attr-defined]
    with connect(f"ws://127.0.0.1:{port}/ws") as websocket:
        assert websocket.recv(timeout=5) == "Hello World"
        websocket.send("hi cli")
        serving.wait_for_line("message received hi cli")
        code, output = serving.interrupt()
        with pytest.raises(ConnectionClosed) as closed:
            websocket.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
    assert code == 0
    assert "new connection" in output and "message received hi cli" in output
    assert "1 WebSocket client(s) closed with 1001" in output
    assert "Traceback" not in output


@pytest.mark.parametrize(
    "args, message",
    [
        (["--port", "abc"], "'abc'"),
        (["--port", "70000"], "70000"),
        (["--port", "-1"], "'-1'"),
        (["--interval", "0"], "interval"),
        (["--interval", "soon"], "'soon'"),
        (["--bogus"], "--bogus"),
        (["--host", ""], "host is empty"),
        (["--host", "http://localhost"], "'http://localhost'"),
    ],
)
def test_bad_arguments_print_one_line_and_exit_2(args: list[str], message: str) -> None:
    """Each bad argument gives one line naming the value, exit 2, no traceback."""
    result = run_cli("serve", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr


def test_port_in_use_and_unknown_host_exit_1() -> None:
    """A port in use, or a host that cannot be resolved, is named; exit 1."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        result = run_cli("serve", "--port", str(port))
    assert result.returncode == 1 and f"port {port}" in result.stderr and "in use" in result.stderr
    assert "Traceback" not in result.stderr
    result = run_cli("serve", "--host", "no-such-host.invalid", "--port", "0")
    assert result.returncode == 1 and "no-such-host.invalid" in result.stderr
    assert "Traceback" not in result.stderr
    result = run_cli("serve", "--host", "203.0.113.7", "--port", "0")  # TEST-NET-3: not this machine's
    assert result.returncode == 1 and "'203.0.113.7'" in result.stderr and "not an address of this machine" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_port_variable_is_named_and_exits_1(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bad $WSTUTORIAL_PORT is named in one line, exit 1, no traceback."""
    monkeypatch.setenv("WSTUTORIAL_PORT", "eighty")
    result = run_cli("serve")
    assert result.returncode == 1 and "$WSTUTORIAL_PORT" in result.stderr and "'eighty'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_all_interfaces_warns_with_the_address_to_use() -> None:
    """--host 0.0.0.0 warns that the network can reach the server."""
    serving = Running("serve", "--host", "0.0.0.0", "--port", "0")
    try:
        assert any("Warning" in line and "network" in line for line in serving.lines)
    finally:
        code, _ = serving.interrupt()
    assert code == 0


def test_no_command_is_a_usage_error() -> None:
    """Running with no command says a command is needed (exit 2)."""
    result = run_cli()
    assert result.returncode == 2 and "COMMAND" in result.stderr


def test_events_before_the_follow_loop_are_printed_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """A client that connects before serve starts printing (the port is open already) still gets its line.

    The race of the test command (issue 24, item 8), made certain: the client
    connects and its "new connection" is recorded before the printing loop
    begins, as happens when it connects between the port opening and that loop.
    """
    import io
    import threading

    import wstutorial
    from wstutorial.cli import serve_until_interrupted

    printed = io.StringIO()
    seen = threading.Event()

    class Watched(io.TextIOBase):
        def write(self, text: str) -> int:
            printed.write(text)
            if "new connection" in printed.getvalue():
                seen.set()
            return len(text)

    server = wstutorial.start_server(port=0)
    try:
        with connect(server.ws_url("/ws")) as websocket:
            assert websocket.recv(timeout=5) == "Hello World"
            server.events.wait_for("new connection", timeout=5)
            monkeypatch.setattr(sys, "stdout", Watched())

            def interrupt_once_printed() -> None:
                seen.wait(10)  # without the line, interrupt after 10 s: the assertion below says why
                while signal.getsignal(signal.SIGINT) is signal.default_int_handler:
                    time.sleep(0.01)
                signal.raise_signal(signal.SIGINT)

            threading.Thread(target=interrupt_once_printed, daemon=True).start()
            assert serve_until_interrupted(server, quiet=False) == 0
    finally:
        server.stop()
    assert "new connection" in printed.getvalue(), printed.getvalue()


def test_classroom_prints_what_to_type_and_serves_chat_and_teacher() -> None:
    """The addresses for students and the teacher's page with its token; chat and teacher work."""
    port = free_port()
    running = Running("classroom", "--host", "127.0.0.1", "--port", str(port), "--interval", "0.1")
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
    running = Running("classroom", "--port", "0")
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
