"""A student's first hour: two notebooks at once, checks in sentences, nothing misleading.

Another notebook's kernel is a real second Python process running a real
tutorial server (``$JPY_SESSION_NAME`` set as Jupyter Server sets it).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import socket
import subprocess
import sys
import time
from typing import Iterator

import pytest
from IPython.core.interactiveshell import InteractiveShell

import wstutorial
from wstutorial.clientstate import ClientState
from wstutorial.identity import PATH, ServerIdentity, probe
from wstutorial.server.handlers import origin_advice
from wstutorial.teaching.exercises import check_mini_chat, check_stream_time, check_upper_case

OTHER_KERNEL = """
import sys, wstutorial
server = wstutorial.start_server(port=int(sys.argv[1]))
print(server.port, flush=True)
sys.stdin.read()  # until the test closes stdin
server.stop()
"""


@pytest.fixture
def other_kernel() -> Iterator[int]:
    """A tutorial server in another process, as notebook 01's kernel runs it; yields its port."""
    env = {**os.environ, "JPY_SESSION_NAME": "notebooks/01-hello-server.ipynb"}
    process = subprocess.Popen(
        [sys.executable, "-c", OTHER_KERNEL, "0"], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        yield int(process.stdout.readline())
    finally:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(20)


# -- 1. two notebooks at once --------------------------------------------------------------------


def test_probe_names_the_notebook_of_another_kernel(other_kernel: int) -> None:
    """/wstutorial-server.json tells which notebook's kernel holds the port."""
    holder = probe("127.0.0.1", other_kernel)
    assert isinstance(holder, ServerIdentity)
    assert holder.notebook == "01-hello-server.ipynb" and not holder.is_this_process
    with socket.socket() as plain:
        plain.bind(("127.0.0.1", 0))
        plain.listen()
        assert probe("127.0.0.1", plain.getsockname()[1], timeout=0.5) is None


def test_default_port_taken_by_another_notebook_moves_to_the_next(
    other_kernel: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """start_server() with the default port held by another kernel's server listens on a free neighbour and says why."""
    monkeypatch.setenv("WSTUTORIAL_PORT", str(other_kernel))
    server = wstutorial.start_server()
    try:
        assert server.running and server.port != other_kernel and server.port > other_kernel
        note = server.events.wait_for("so this server listens on", timeout=5).text
        assert note == (
            f"port {other_kernel} is used by the tutorial server of notebook 01-hello-server.ipynb "
            f"(another kernel, process {probe('127.0.0.1', other_kernel).pid}), "  # type: ignore[union-attr]
            f"so this server listens on {server.port} instead"
        )
        # Re-running the cell replaces this server, on the same neighbour port.
        again = wstutorial.start_server()
        assert not server.running and again.port == server.port
        server = again
        with wstutorial.connect_blocking(server.ws_url("/ws")) as client:
            assert client.receive() == "Hello World"
    finally:
        server.stop()


def test_port_asked_for_and_held_by_another_notebook_is_one_sentence(other_kernel: int) -> None:
    """port=N held by another kernel's server: PortInUse names the notebook and the fix."""
    with pytest.raises(wstutorial.PortInUse) as caught:
        wstutorial.start_server(port=other_kernel)
    text = str(caught.value)
    assert text.startswith(f"port {other_kernel} on 127.0.0.1 is already in use by the tutorial server of notebook 01-hello-server.ipynb")
    assert "Kernel → Shut Down Kernel" in text and "port=0" in text
    assert "JupyterLab" not in text


def test_wstutorial_errors_show_as_one_sentence_in_ipython(other_kernel: int, capsys: pytest.CaptureFixture[str]) -> None:
    """In IPython (a notebook's kernel) PortInUse shows as its sentence, without a traceback."""
    shell = InteractiveShell.instance()
    try:
        result = shell.run_cell(f"import wstutorial\nwstutorial.start_server(port={other_kernel})")
        shown = capsys.readouterr().out
        assert isinstance(result.error_in_exec, wstutorial.PortInUse)
        assert "01-hello-server.ipynb" in shown and "Kernel → Shut Down Kernel" in shown
        assert "Traceback" not in shown and "runner.py" not in shown
        assert len(shown.strip().splitlines()) == 1, shown
        # Other errors keep their traceback.
        shell.run_cell("1 / 0")
        assert "Traceback" in capsys.readouterr().out
    finally:
        InteractiveShell.clear_instance()


def test_stale_server_variable_does_not_reach_another_server() -> None:
    """A stopped server has no address: ws_url and page_url say to start it again."""
    server = wstutorial.start_server(port=0)
    server.stop()
    for address in (lambda: server.ws_url("/ws"), lambda: server.page_url("hello.html")):
        with pytest.raises(wstutorial.ServerError, match=r"is stopped; run the cell with start_server\(\) again"):
            address()


def test_panel_state_notes_a_server_of_another_kernel(other_kernel: int) -> None:
    """Opening a connection to another kernel's server works, with a note saying whose it is."""

    async def main() -> None:
        state = ClientState("localhost", other_kernel, "/ws")
        assert await state.open()
        assert "note: this is the tutorial server of notebook 01-hello-server.ipynb (another kernel" in state.summary
        await state.close()
        with wstutorial.start_server(port=0) as own:
            mine = ClientState("localhost", own.port, "/ws")
            assert await mine.open()
            assert mine.note == "" and "note" not in mine.summary
            await mine.close()

    asyncio.run(main())


def test_identity_json_is_served() -> None:
    """Every tutorial server answers /wstutorial-server.json and marks its answers with X-Wstutorial-Server."""
    import json
    import urllib.request

    with wstutorial.start_server(port=0) as server:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}{PATH}", timeout=5) as response:
            data = json.loads(response.read())
            assert response.headers["X-Wstutorial-Server"] == f"pid={os.getpid()}"
        assert data["server"] == "wstutorial" and data["pid"] == os.getpid()
        with urllib.request.urlopen(server.page_url("hello.html"), timeout=5) as response:
            assert response.headers["X-Wstutorial-Server"] == f"pid={os.getpid()}"


# -- 2. checks speak in sentences only -----------------------------------------------------------


class ReturnsAnswer(wstutorial.TutorialHandler):
    def on_message(self, message):  # type: ignore[no-untyped-def]
        return message.upper()


class TimerInSeconds(wstutorial.TutorialHandler):
    interval = 1.0

    def open(self):  # type: ignore[no-untyped-def]
        from tornado.ioloop import PeriodicCallback

        self.timer = PeriodicCallback(self.send_time, self.interval)  # seconds, not milliseconds
        self.timer.start()

    def send_time(self):  # type: ignore[no-untyped-def]
        self.write_message(time.strftime("%H:%M:%S"))

    def on_close(self):  # type: ignore[no-untyped-def]
        self.timer.stop()


class TimerNeverStopped(TimerInSeconds):
    def open(self):  # type: ignore[no-untyped-def]
        from tornado.ioloop import PeriodicCallback

        self.timer = PeriodicCallback(self.send_time, self.interval * 1000)
        self.timer.start()

    def on_close(self):  # type: ignore[no-untyped-def]
        pass


class AnswersOnlyTheSender(wstutorial.TutorialHandler):
    def on_message(self, message):  # type: ignore[no-untyped-def]
        self.write_message(f"{self.get_argument('name')}: {message}")


@pytest.mark.parametrize(
    "check, handler, sentence",
    [
        (check_upper_case, ReturnsAnswer,
         "your on_message returned the answer ('HELLO WEBSOCKETS') instead of sending it: use self.write_message(...)"),
        (check_stream_time, TimerInSeconds, "PeriodicCallback counts in milliseconds, so give it self.interval * 1000"),
        (check_stream_time, TimerNeverStopped, "after the client left: stop the timer in on_close, self.timer.stop()"),
        (check_mini_chat, AnswersOnlyTheSender,
         "Bob did not receive Ada's message: send it to every connection in the room"),
    ],
)
def test_wrong_answers_get_their_sentence_and_no_traceback(
    check, handler: type, sentence: str, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """Each listed mistake fails with its sentence; Tornado logs nothing (no traceback for the cell)."""
    result = check(handler)
    assert not result and sentence in result.message, result.message
    assert "BadYieldError" not in result.message and "Traceback" not in result.message
    time.sleep(0.3)  # a timer that was never stopped would fire (and be logged) now, on a stopped loop
    logged = [f"{record.name}: {record.getMessage()}" for record in caplog.records if record.levelno >= logging.WARNING]
    assert logged == [], logged
    out, err = capfd.readouterr()
    assert out == "" and err == "", f"the check printed:\n{out}{err}"


CHECK_IN_A_FRESH_PROCESS = """
import time
from tornado.ioloop import PeriodicCallback
from wstutorial import TutorialHandler
from wstutorial.teaching.exercises import check_stream_time, check_upper_case

class ReturnsAnswer(TutorialHandler):
    def on_message(self, message):
        return message.upper()

class NeverStopped(TutorialHandler):
    interval = 1.0
    def open(self):
        self.timer = PeriodicCallback(self.send_time, self.interval * 1000)
        self.timer.start()
    def send_time(self):
        self.write_message(time.strftime("%H:%M:%S"))

print(check_upper_case(ReturnsAnswer))
print(check_stream_time(NeverStopped))
"""


def test_checks_print_their_sentences_only_as_in_a_kernel() -> None:
    """As in a kernel (Python's own last-resort log handler, no pytest): stdout has the two sentences, stderr nothing."""
    result = subprocess.run(
        [sys.executable, "-c", CHECK_IN_A_FRESH_PROCESS], capture_output=True, text=True, timeout=60
    )
    assert result.stderr == "", result.stderr
    returned, never_stopped = result.stdout.splitlines()
    assert returned == (
        "Not yet: your on_message returned the answer ('HELLO WEBSOCKETS') instead of sending it: use self.write_message(...)"
    )
    # How many depends on the timer's luck; what to do does not.
    assert re.fullmatch(
        r"Not yet: your handler still sent \d+ messages? after the client left: stop the timer in on_close, self\.timer\.stop\(\)",
        never_stopped,
    ), never_stopped


# -- 4. nothing misleads -------------------------------------------------------------------------


def test_origin_advice_fits_the_lesson() -> None:
    """A page from disk: serve it from the server; another site: only if it is yours; never 'add null'."""
    assert origin_advice("null", "localhost:8888") == (
        "a page opened from disk (file://) has no origin; open it from the server instead, "
        "e.g. http://localhost:8888/hello.html"
    )
    advice = origin_advice("http://evil.example")
    assert advice == "a page of another origin; add it to allowed_origins only if that page is yours"
    assert "null" not in advice


def test_origin_rejected_event_for_a_page_from_disk() -> None:
    """The server's event for Origin: null gives the advice for a page opened from disk."""
    with wstutorial.start_server(port=0) as server:
        with pytest.raises(wstutorial.ConnectionFailed):
            wstutorial.connect_blocking(server.ws_url("/ws"), origin="null")
        event = server.events.wait_for("origin rejected", timeout=5)
        assert event.text == (
            f"origin rejected 'null' (403): a page opened from disk (file://) has no origin; "
            f"open it from the server instead, e.g. http://127.0.0.1:{server.port}/hello.html"
        )


def test_server_stopped_event_counts_in_words() -> None:
    """'1 client', not '1 clients'."""
    server = wstutorial.start_server(port=0)
    client = wstutorial.connect_blocking(server.ws_url("/ws"))
    try:
        server.stop()
        assert server.events.wait_for("server stopped", timeout=5).text == "server stopped (1 client closed with 1001)"
    finally:
        client.close()


def test_widget_text_does_not_look_like_a_broken_widget() -> None:
    """The text/plain a notebook stores for each panel says what it is, never ipywidgets' 'ServerConsole(children=...'."""
    from wstutorial.widgets import ClientPanel, ServerConsole, StreamView

    with wstutorial.start_server(port=0) as server:
        panels = [ServerConsole(server), ClientPanel(port=server.port), StreamView(server.ws_url("/streaming"))]
        try:
            for panel in panels:
                plain = panel._repr_mimebundle_()["text/plain"]
                assert "children=" not in plain and len(plain) <= 110, plain
                assert plain.startswith(type(panel).__name__ + ": ")
                assert plain.endswith("(a widget: in JupyterLab it shows as a box once the cell has run)")
            console = panels[0]
            console.flush()
            assert console.status.value == "1 line"  # 'server listening on ...'
        finally:
            for panel in panels:
                panel.close()


def test_client_panel_opened_from_code_uses_the_typed_fields() -> None:
    """What is typed in the fields is used by `await panel.state.open()` too, not only by the button."""
    from wstutorial.widgets import ClientPanel

    async def main() -> None:
        with wstutorial.start_server(port=0) as server:
            panel = ClientPanel(host="localhost", port=1, uri="/nothing")
            try:
                panel.port_field.value = str(server.port)
                panel.uri_field.value = "/ws"
                assert await panel.state.open(), panel.state.summary
                assert panel.state.url == f"ws://localhost:{server.port}/ws"
                await panel.state.close()
                # Changed from code: the fields follow.
                panel.state.uri = "/echo"
                assert await panel.state.open()
                assert panel.uri_field.value == "/echo"
                await panel.state.close()
            finally:
                panel.close()

    asyncio.run(main())


def test_nearby_free_port_for_a_program_of_the_notebook(other_kernel: int) -> None:
    """The default port when free; the next free one while another kernel's server holds it."""
    from wstutorial.address import nearby_free_port, port_is_free

    assert not port_is_free(other_kernel)
    moved = nearby_free_port(other_kernel)
    assert moved > other_kernel and port_is_free(moved)
    assert nearby_free_port(moved) == moved
