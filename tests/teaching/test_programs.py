"""The standalone programs of notebooks/programs/, each run as its own process, and the runner that starts them."""

from __future__ import annotations

import socket
import threading
from pathlib import Path
from typing import Iterator

import pytest
from websockets.sync.client import connect
from websockets.sync.server import ServerConnection, serve

from helpers import ROOT, free_port
from wstutorial.teaching.programs import Program, ProgramError, run_program, running_programs

PROGRAMS = ROOT / "notebooks" / "programs"


@pytest.fixture
def started() -> Iterator[list[Program]]:
    """Programs a test starts; all stopped at its end."""
    programs: list[Program] = []
    try:
        yield programs
    finally:
        for program in programs:
            program.stop()


def start(started: list[Program], name: str, *args: object, port: int | None = None) -> Program:
    program = run_program(PROGRAMS / name, *args, port=port)
    started.append(program)
    return program


@pytest.mark.parametrize("name", sorted(path.name for path in PROGRAMS.glob("*.py")))
def test_program_is_short_with_docstring_and_main_guard(name: str) -> None:
    """Each program is 15-50 lines, opens with a one-line docstring and ends with a __main__ guard."""
    text = (PROGRAMS / name).read_text()
    lines = text.splitlines()
    assert 15 <= len(lines) <= 50, f"{name} has {len(lines)} lines"
    assert lines[0].startswith('"""') and lines[0].endswith('"""') and len(lines[0]) > 10
    assert 'if __name__ == "__main__":' in text


def test_hello_server_prints_what_the_original_printed(started: list[Program]) -> None:
    """hello_server.py greets with Hello World and prints new connection / message received / connection closed."""
    port = free_port()
    program = start(started, "hello_server.py", port, port=port)
    program.wait_for("listening")
    with connect(f"ws://127.0.0.1:{port}/ws", open_timeout=10) as websocket:
        assert websocket.recv(timeout=10) == "Hello World"
        websocket.send("hi from websockets")
    program.wait_for("connection closed")
    assert program.output.splitlines()[1:] == [
        "new connection",
        "message received hi from websockets",
        "connection closed",
    ]


def test_streaming_server_sends_the_same_count_to_every_client(started: list[Program]) -> None:
    """streaming_server.py sends 'message: <n>' to each client, the same n to all, 2 s apart."""
    port = free_port()
    program = start(started, "streaming_server.py", port, port=port)
    program.wait_for("listening")
    url = f"ws://127.0.0.1:{port}/streaming"
    with connect(url, open_timeout=10) as first, connect(url, open_timeout=10) as second:
        program.wait_for("new connection")
        got = [first.recv(timeout=10), second.recv(timeout=10)]
        assert got == ["message: 1", "message: 1"]
        assert first.recv(timeout=10) == "message: 2"
    program.wait_for("connection closed")


def test_graceful_server_closes_its_clients_with_1001_on_sigterm(started: list[Program]) -> None:
    """graceful_server.py: GET /health answers; on SIGTERM every client gets 1001 and the program ends by itself."""
    import json
    import urllib.request

    from websockets.exceptions import ConnectionClosedOK

    port = free_port()
    program = start(started, "graceful_server.py", port, port=port)
    program.wait_for("listening")
    with connect(f"ws://127.0.0.1:{port}/ws", open_timeout=10) as websocket:
        assert websocket.recv(timeout=10) == "Hello World"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10) as response:
            assert json.loads(response.read()) == {"status": "ok", "clients": 1}
        stopping = threading.Thread(target=program.stop)  # SIGTERM on POSIX; waits for the end
        stopping.start()
        with pytest.raises(ConnectionClosedOK):
            websocket.recv(timeout=10)
        assert websocket.close_code == 1001 and websocket.close_reason == "server shutting down"
        stopping.join(10)
    assert program.returncode == 0, program.output
    assert program.output.splitlines()[-3:] == ["stopping: no new connections; closing 1 with 1001", "connection closed", "stopped"]


def test_client_program_talks_to_a_websockets_server(started: list[Program]) -> None:
    """client.py prints the greeting, sends its message and closes with 1000 (server: the websockets library)."""
    received: list[str] = []

    def handler(connection: ServerConnection) -> None:
        connection.send("Hello World")
        for message in connection:
            received.append(str(message))

    with serve(handler, "127.0.0.1", 0) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            program = start(started, "client.py", f"ws://127.0.0.1:{server.socket.getsockname()[1]}/ws")
            program.wait_for("closed with code")
        finally:
            server.shutdown()
            thread.join(10)
    assert program.output.splitlines() == ["received: Hello World", "closed with code 1000"]
    assert received == ["hi from the Python client"]


def test_a_port_in_use_is_a_sentence_and_nothing_starts() -> None:
    """run_program(..., port=N) with N taken starts nothing; .problem and wait_for name the port and the fix."""
    with socket.create_server(("127.0.0.1", 0)) as holder:
        port = holder.getsockname()[1]
        program = run_program(PROGRAMS / "hello_server.py", port, port=port)
    assert not program.running and program.returncode is None
    assert program.problem.startswith(f"port {port} is in use by another program")
    assert "Kernel > Shut Down Kernel" in program.problem
    with pytest.raises(ProgramError, match=f"port {port} is in use"):
        program.wait_for("listening")
    assert not running_programs()


def test_a_port_held_by_this_notebooks_program_names_it(started: list[Program]) -> None:
    """A second program on the port of a running one is told which program to stop."""
    port = free_port()
    start(started, "hello_server.py", port, port=port).wait_for("listening")
    second = start(started, "streaming_server.py", port, port=port)
    assert second.problem.startswith(f"port {port} is in use by hello_server.py, which this notebook started")


def test_a_port_taken_after_the_check_is_explained_from_the_output(started: list[Program]) -> None:
    """Without port=, a program that cannot listen ends and .problem says its port is in use."""
    with socket.create_server(("127.0.0.1", 0)) as holder:
        port = holder.getsockname()[1]
        program = start(started, "hello_server.py", port)
        with pytest.raises(ProgramError, match="port is in use"):
            program.wait_for("listening")
    assert program.returncode not in (0, None)


def test_rerunning_replaces_the_process(started: list[Program], tmp_path: Path) -> None:
    """run_program on the same file stops the old process first."""
    script = tmp_path / "wait.py"
    script.write_text("import time\nprint('up', flush=True)\ntime.sleep(60)\n")
    first = start(started, script)
    first.wait_for("up")
    second = start(started, script)
    second.wait_for("up")
    assert not first.running and second.running
    assert running_programs() == [second]


def test_a_failing_program_says_why(started: list[Program], tmp_path: Path) -> None:
    """A program that raises ends; .problem holds its exit code and last line."""
    script = tmp_path / "broken.py"
    script.write_text("raise SystemExit('no such sensor: /dev/ttyUSB0')\n")
    program = start(started, script)
    with pytest.raises(ProgramError, match="no such sensor"):
        program.wait_for("never")
    assert program.problem == "broken.py ended with exit code 1: no such sensor: /dev/ttyUSB0"


def test_the_program_ends_when_the_kernel_goes(started: list[Program], tmp_path: Path) -> None:
    """When its standard input closes (the kernel died), the program ends by itself."""
    script = tmp_path / "wait.py"
    script.write_text("import time\nprint('up', flush=True)\ntime.sleep(60)\n")
    program = start(started, script)
    program.wait_for("up")
    assert program._process is not None and program._process.stdin is not None
    program._process.stdin.close()  # what a killed kernel's end of the pipe does
    assert program._process.wait(10) == 0


def test_a_missing_file_is_a_sentence() -> None:
    """A wrong file name says which file was looked for."""
    with pytest.raises(ProgramError, match="there is no program 'programs/nope.py'"):
        Program("programs/nope.py")


