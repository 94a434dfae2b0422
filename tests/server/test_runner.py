"""The server in a background thread: start, re-run, ports, stop."""

from __future__ import annotations

import gc
import socket
import threading
import tracemalloc

import pytest

import wstutorial
from helpers import free_port, open_fds, rss_bytes
from wstutorial.address import port_is_free


def test_start_server_listens_and_answers(server: wstutorial.TutorialServer) -> None:
    """start_server returns once the server listens; /ws says Hello World."""
    assert server.running and server.port > 0
    assert server.url == f"http://127.0.0.1:{server.port}/"
    assert server.ws_url("/echo") == f"ws://127.0.0.1:{server.port}/echo"
    with wstutorial.connect_blocking(server.ws_url()) as client:
        assert client.receive() == "Hello World"
    server.events.wait_for("connection closed")


def test_rerun_on_the_same_port_replaces_the_old_server() -> None:
    """Starting again on a fixed port (a re-run cell) stops the old server first."""
    port = free_port()
    first = wstutorial.start_server(port=port)
    second = wstutorial.start_server(port=port)
    try:
        assert not first.running and second.running and second.port == port
        with wstutorial.connect_blocking(second.ws_url()) as client:
            assert client.receive() == "Hello World"
    finally:
        second.stop()


def test_port_zero_picks_a_free_port() -> None:
    """Two servers with port=0 get two different free ports."""
    with wstutorial.start_server(port=0) as one, wstutorial.start_server(port=0) as two:
        assert one.port != two.port and one.running and two.running


def test_port_held_by_another_program_is_a_clear_error() -> None:
    """A port someone else listens on raises PortInUse naming it and suggesting port=0."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        with pytest.raises(wstutorial.PortInUse, match=rf"port {port} .* port=0"):
            wstutorial.start_server(port=port)


def test_bad_host_and_port_are_refused() -> None:
    """A bad port or an unknown host is refused before any thread starts."""
    with pytest.raises(wstutorial.InvalidAddress, match="70000"):
        wstutorial.start_server(port=70000)
    with pytest.raises(wstutorial.ServerError, match="no-such-host.invalid"):
        wstutorial.start_server(host="no-such-host.invalid", port=0)


def test_stop_closes_clients_with_1001_and_frees_the_port() -> None:
    """stop() closes each WebSocket with 1001 (going away) and the port can be reused."""
    server = wstutorial.start_server(port=0)
    clients = [wstutorial.connect_blocking(server.ws_url(path)) for path in ("/ws", "/echo", "/streaming")]
    assert server.stop() == 3
    for client in clients:
        with pytest.raises(wstutorial.ConnectionClosed):
            while True:
                client.receive(timeout=5)
        assert client.close_code == 1001
        client.close()
    assert port_is_free(server.port)  # nobody listens there any more
    assert server.stop() == 0  # twice is fine
    assert not server.thread.is_alive()




def test_handler_written_by_a_student_replaces_ws() -> None:
    """handlers={"/ws": MyHandler} serves a student's own handler class."""

    class UpperHandler(wstutorial.TutorialHandler):
        def on_message(self, message: str | bytes) -> None:
            self.record(f"got {message}")
            self.write_message(str(message).upper())

    with wstutorial.start_server(port=0, handlers={"/ws": UpperHandler}) as server:
        with wstutorial.connect_blocking(server.ws_url("/ws")) as client:
            client.send("shout")
            assert client.receive() == "SHOUT"
        server.events.wait_for("got shout")


def test_hundred_start_stop_cycles_leave_nothing_behind() -> None:
    """100 start/stop cycles with a client each leave no thread, socket or memory behind."""
    baseline_threads = threading.active_count()
    port = free_port()

    def cycle() -> None:
        server = wstutorial.start_server(port=port)
        with wstutorial.connect_blocking(server.ws_url()) as client:
            assert client.receive() == "Hello World"
        server.stop()

    for _ in range(5):  # warm up lazily created resources and caches
        cycle()
    gc.collect()
    baseline_fds = open_fds()
    baseline_rss = rss_bytes()
    tracemalloc.start()
    try:
        baseline_traced = tracemalloc.get_traced_memory()[0]
        for _ in range(100):
            cycle()
        gc.collect()
        traced_growth = tracemalloc.get_traced_memory()[0] - baseline_traced
    finally:
        tracemalloc.stop()
    assert threading.active_count() <= baseline_threads
    assert open_fds() <= baseline_fds + 2
    # A kept server (application, hub, event log, loop) costs tens of KiB: 100 would show.
    assert traced_growth < 512 * 1024, f"Python memory grew by {traced_growth / 1024:.0f} KiB in 100 cycles"
    assert rss_bytes() - baseline_rss < 32 * 2**20
    assert wstutorial.running_servers() == [] or all(s.port != port for s in wstutorial.running_servers())


def test_default_port_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """start_server() with no port uses $WSTUTORIAL_PORT (8888 when unset); a bad value is named."""
    monkeypatch.delenv("WSTUTORIAL_PORT", raising=False)
    assert wstutorial.address.default_port() == 8888
    port = free_port()
    monkeypatch.setenv("WSTUTORIAL_PORT", str(port))
    with wstutorial.start_server() as server:
        assert server.port == port
    monkeypatch.setenv("WSTUTORIAL_PORT", "eighty")
    with pytest.raises(wstutorial.InvalidAddress, match=r"\$WSTUTORIAL_PORT: .*'eighty'"):
        wstutorial.start_server()
