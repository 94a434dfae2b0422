"""Smaller faults found by probing the server (issue 15, item 6)."""

from __future__ import annotations

import gc
import logging
import signal
import socket

import pytest
from websockets.sync.client import connect

import wstutorial
from helpers import RawClient, Running, poll_until


@pytest.mark.parametrize("message", [12345, True, None, 1.5, ["a"]])
def test_broadcast_of_something_else_than_text_or_bytes_is_a_type_error(message: object) -> None:
    with wstutorial.start_server(port=0) as server, connect(server.ws_url("/echo"), open_timeout=10) as client:
        with pytest.raises(TypeError, match=f"got {type(message).__name__}"):
            server.broadcast("/echo", message)  # type: ignore[arg-type]
        assert server.broadcast("/echo", b"\x00\x01") == 1
        assert client.recv(timeout=10) == b"\x00\x01"  # and nothing before it


def test_a_second_ctrl_c_while_stopping_exits_quietly() -> None:
    serving = Running("serve", "--port", "0", "--quiet")
    port = next(int(line.rsplit(":", 1)[1].split("/")[0]) for line in serving.lines if "ws://" in line)
    # A client that never answers the close frame keeps stop() busy for a few seconds.
    silent = RawClient(f"ws://127.0.0.1:{port}/ws")
    try:
        serving.process.send_signal(signal.SIGINT)
        serving.wait_for_line("Stopping:")
        serving.process.send_signal(signal.SIGINT)
        code, output = serving.interrupt()
    finally:
        silent.close()
    assert code == 0, output
    assert "Traceback" not in output and "KeyboardInterrupt" not in output, output
    assert "Already stopping" in output and "Stopped: 1 WebSocket client(s) closed with 1001" in output


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_clients_that_reset_right_after_the_handshake_leave_no_error() -> None:
    """open() sends Hello World to a client already gone: no exception, no unretrieved Task."""
    collect = Collect()
    logging.getLogger("asyncio").addHandler(collect)
    try:
        with wstutorial.start_server(port=0) as server:
            for _ in range(100):
                RawClient(server.ws_url("/ws")).reset()
            poll_until(lambda: server.clients() == [])
            with connect(server.ws_url("/ws"), open_timeout=10) as client:
                assert client.recv(timeout=10) == "Hello World"
            errors = [event.text for event in server.events.snapshot() if event.kind == "error"]
            assert errors == []
        gc.collect()
    finally:
        logging.getLogger("asyncio").removeHandler(collect)
    assert [record.getMessage() for record in collect.records if "never retrieved" in record.getMessage()] == []


def test_port_in_use_by_this_very_process_says_so() -> None:
    """A port held by a socket of this process (app.listen() in an earlier cell) is not 'another program'."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        with pytest.raises(wstutorial.PortInUse, match="in use by this process itself") as refused:
            wstutorial.start_server(port=port)
        assert "another program" not in str(refused.value) and "port=0" in str(refused.value)
