"""The notebook panels, built and clicked from Python against a real server (no browser needed)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from typing import Any

import pytest
import tornado.websocket

import wstutorial
from helpers import free_port, wait_until
from wstutorial.events import EventKind
from wstutorial.widgets.panels import (
    GREEN,
    RED,
    ClientPanel,
    ServerConsole,
    StreamView,
    parse_reading,
)


def colours(panel: ClientPanel) -> set[str]:
    return {field.style.background for field in panel.fields}


def test_import_wstutorial_does_not_import_ipywidgets() -> None:
    """A script, a server or a classroom never loads ipywidgets (nor the chart); wstutorial.ClientPanel does.

    At run time, what the import contracts (pyproject.toml) check in the source.
    """
    code = (
        "import sys, wstutorial, wstutorial.clientstate, wstutorial.widgets.batching\n"
        "import wstutorial.classroom.room, wstutorial.classroom.server, wstutorial.student.chat\n"
        "import wstutorial.teaching.links\n"
        "assert 'ipywidgets' not in sys.modules and 'bqplot' not in sys.modules\n"
        "wstutorial.ClientPanel\n"
        "assert 'ipywidgets' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# -- ClientPanel ------------------------------------------------------------------------


def test_client_panel_red_green_red(server: wstutorial.TutorialServer) -> None:
    """Red fields, Open -> green and Hello World, Send reaches the server, Close -> red again."""

    async def main() -> None:
        panel = ClientPanel("localhost", server.port, "/ws")
        assert colours(panel) == {RED}
        assert panel.state.status == "closed"
        panel.open_button.click()
        await panel.wait()
        await wait_until(lambda: "Hello World" in panel.messages.value)
        assert colours(panel) == {GREEN}
        assert panel.status.value.startswith(f"open: ws://localhost:{server.port}/ws")
        mark = server.events.next_seq
        panel.send_field.value = "hi from the panel"
        panel.send_button.click()
        await panel.wait()
        await asyncio.to_thread(server.events.wait_for, "message received hi from the panel", after=mark)
        assert panel.send_field.value == "", "a sent message leaves the box"
        panel.close_button.click()
        await panel.wait()
        await wait_until(lambda: colours(panel) == {RED})
        assert panel.state.status == "closed"
        assert panel.status.value.startswith("closed with code 1000")
        panel.close()

    asyncio.run(main())


def test_client_panel_turns_red_when_the_server_stops() -> None:
    """Stopping the server (1001) turns the green fields red and says so."""
    running = wstutorial.start_server(port=0)

    async def main() -> None:
        panel = ClientPanel("127.0.0.1", running.port)
        panel.open_button.click()
        await panel.wait()
        await wait_until(lambda: colours(panel) == {GREEN})
        await asyncio.to_thread(running.stop)
        await wait_until(lambda: colours(panel) == {RED})
        assert "closed with code 1001" in panel.status.value

    try:
        asyncio.run(main())
    finally:
        running.stop()


@pytest.mark.parametrize(
    ("host", "port", "uri", "sentence"),
    [
        # One bad field and one network failure: the panel shows its state's sentence
        # (all the sentences: test_address.py, test_clientstate.py, test_client.py).
        ("", "{port}", "/ws", "host is empty"),
        ("localhost", "{free}", "/ws", "connection refused"),
    ],
)
def test_client_panel_failures_are_sentences(
    server: wstutorial.TutorialServer, host: str, port: str, uri: str, sentence: str
) -> None:
    """Every failure shows in the status line as a sentence; the fields stay red."""

    async def main() -> None:
        panel = ClientPanel()
        panel.host_field.value = host
        panel.port_field.value = port.format(port=server.port, free=free_port())
        panel.uri_field.value = uri
        panel.open_button.click()
        await panel.wait()
        assert panel.state.status == "failed"
        assert sentence in panel.status.value
        assert panel.status.value.startswith("failed: ")
        assert "Traceback" not in panel.status.value
        assert colours(panel) == {RED}

    asyncio.run(main())


def test_client_panel_click_from_another_thread(server: wstutorial.TutorialServer) -> None:
    """A click handled in another thread still runs the connection on the panel's loop."""

    async def main() -> None:
        panel = ClientPanel("localhost", server.port, "/ws")
        await asyncio.to_thread(panel.open_button.click)
        await panel.wait()
        await wait_until(lambda: colours(panel) == {GREEN})
        await wait_until(lambda: "Hello World" in panel.state.messages)
        await asyncio.to_thread(panel.close_button.click)
        await panel.wait()
        await wait_until(lambda: colours(panel) == {RED})

    asyncio.run(main())


def test_client_panel_send_before_open_says_what_to_do() -> None:
    """Send with no connection says to press Open first."""

    async def main() -> None:
        panel = ClientPanel(port=free_port())
        panel.send_field.value = "too early"
        panel.send_button.click()
        await panel.wait()
        assert panel.status.value == "closed - not sent: the connection is closed; open it first (the Open button, or await state.open())"

    asyncio.run(main())


def test_client_panel_port_defaults_to_wstutorial_port(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a port, the field shows $WSTUTORIAL_PORT (the notebooks' server)."""
    monkeypatch.setenv("WSTUTORIAL_PORT", "9321")
    panel = ClientPanel()
    assert panel.port_field.value == "9321"
    assert (panel.host_field.value, panel.uri_field.value) == ("localhost", "/ws")


def test_client_panel_without_loop_explains() -> None:
    """Clicking Open where no event loop runs explains it instead of failing."""
    panel = ClientPanel(port=free_port())
    panel.open_button.click()
    assert "no event loop is running" in panel.status.value


def test_client_panel_messages_are_bounded(server: wstutorial.TutorialServer) -> None:
    """The message area keeps only the newest max_lines messages."""

    async def main() -> None:
        panel = ClientPanel("localhost", server.port, "/echo", max_lines=3)
        panel.open_button.click()
        await panel.wait()
        for n in range(10):
            await panel.state.send(f"m{n}")
        await wait_until(lambda: "m9" in panel.messages.value)
        assert panel.messages.value.splitlines() == [f"message received: m{n}" for n in (7, 8, 9)]
        await panel.state.close()

    asyncio.run(main())


# -- ServerConsole -------------------------------------------------------------------------


def test_server_console_shows_events_live(server: wstutorial.TutorialServer) -> None:
    """The console shows new connection / message received / connection closed from the server thread."""

    async def main() -> None:
        console = ServerConsole(server)
        assert "server listening" in console.text, "events from before the console are shown too"
        panel = ClientPanel("localhost", server.port, "/ws")
        panel.open_button.click()
        await panel.wait()
        await panel.state.send("hello console")
        await panel.state.close()
        await wait_until(lambda: "connection closed" in console.text)
        text = console.text
        assert text.index("new connection") < text.index("message received hello console")
        assert text.index("message received hello console") < text.index("connection closed")
        assert len(set(console.lines)) == len(console.lines), "no event shown twice"
        console.clear_button.click()
        assert console.text == ""
        console.close()
        server.events.record("after close")
        console.flush()  # anything still queued would show now
        assert "after close" not in console.text

    asyncio.run(main())


def test_server_console_is_bounded_and_batched() -> None:
    """A burst of events from another thread: few widget updates, at most max_lines lines, skips counted."""
    events = wstutorial.EventLog()

    async def main() -> None:
        console = ServerConsole(events, max_lines=50)
        updates: list[Any] = []
        console.output.observe(updates.append, "value")

        def burst() -> None:
            for n in range(5000):
                events.record(f"event {n}")

        await asyncio.to_thread(burst)
        await wait_until(lambda: console.lines and console.lines[-1].endswith("event 4999"))
        assert len(console.lines) == 50
        assert console.lines[0].endswith("event 4950")
        assert len(updates) <= console._batcher.batches < 5000
        assert "skipped" in console.status.value

    asyncio.run(main())


def test_server_console_without_loop_flushes_on_demand() -> None:
    """In a plain script (no loop) the console shows events when flushed."""
    events = wstutorial.EventLog()
    console = ServerConsole(events)
    events.record("new connection", kind=EventKind.OPEN, client="client-1")
    assert "new connection" not in console.text
    console.flush()
    assert "[client-1] new connection" in console.text


def test_server_console_rejects_other_things() -> None:
    """Passing something that is not a server or event log names what was passed."""
    with pytest.raises(TypeError, match="got str"):
        ServerConsole("ws://localhost:8888/ws")


# -- StreamView ------------------------------------------------------------------------------


def test_parse_reading() -> None:
    """Stream messages give the numbers to draw: sensor JSON by axis, other text its last number."""
    assert parse_reading('{"t": 1.5, "x": 0.1, "y": -2, "z": 9.81}') == {"x": 0.1, "y": -2.0, "z": 9.81}
    assert parse_reading("message: 7") == {"value": 7.0}
    assert parse_reading("Hello World") == {}
    assert parse_reading(b"\x00\x01") == {}
    assert parse_reading('{"x": true, "y": "3"}') == {}


def test_stream_view_shows_the_stream(server: wstutorial.TutorialServer) -> None:
    """Start shows message: <n> newest first and draws the numbers; Stop closes with 1000."""

    async def main() -> None:
        view = StreamView(server.ws_url("/streaming"), max_points=20, max_lines=5)
        view.start_button.click()
        await wait_until(lambda: view.count >= 30 and len(view.lines) == 5)
        view.stop_button.click()
        await view.wait()
        assert not view.running
        lines = view.messages.value.splitlines()
        assert len(lines) == 5
        numbers = [int(line.split(":")[0]) for line in lines]
        assert numbers == sorted(numbers, reverse=True), "newest first"
        assert lines[0].endswith(f"message: {view.count - 1}")
        mark = view._lines_mark
        assert list(mark.labels) == ["value"]
        assert len(mark.x) == 20, "the chart keeps max_points points"
        assert list(mark.y) == [float(x - 1) for x in mark.x], "message n carries n - 1"
        assert view.status.value.startswith("closed with code 1000")

    asyncio.run(main())


class BurstHandler(tornado.websocket.WebSocketHandler):
    """Sends 5000 sensor-like readings at once, then closes."""

    async def open(self) -> None:
        for n in range(5000):
            self.write_message(json.dumps({"t": n / 100, "x": n, "y": -n, "z": 9.81}))
        self.close(1000, "burst done")


def test_stream_view_folds_a_burst_into_few_updates() -> None:
    """5000 messages at once: all counted, few widget updates, bounded lines and points, 3 series."""
    running = wstutorial.start_server(port=0, handlers={"/burst": BurstHandler})

    async def main() -> None:
        view = StreamView(running.ws_url("/burst"), max_points=300, max_lines=100)
        updates: list[Any] = []
        view.messages.observe(updates.append, "value")
        view.start()
        await view.wait()
        assert view.count == 5000
        assert "burst done" in view.status.value and "after 5000 messages" in view.status.value
        assert len(view.lines) == 100
        assert view.lines[0] == '5000: {"t": 49.99, "x": 4999, "y": -4999, "z": 9.81}'
        assert list(view._lines_mark.labels) == ["x", "y", "z"]
        assert len(view._lines_mark.x) == 300
        assert len(updates) == view._batcher.batches
        assert view._batcher.batches < 5000 / 10, "messages must be folded into batches"

    try:
        asyncio.run(main())
    finally:
        running.stop()


def test_stream_view_failure_is_a_sentence() -> None:
    """A stream that cannot be reached shows a sentence in the status line."""

    async def main() -> None:
        view = StreamView(f"ws://127.0.0.1:{free_port()}/streaming")
        view.start()
        await view.wait()
        assert view.status.value.startswith("failed: nothing is listening")

    asyncio.run(main())


def test_client_panel_shows_open_at_once_even_if_closed_right_after(server: wstutorial.TutorialServer) -> None:
    """Open then close straight away (Run All) still shows green for a moment: status changes are not batched."""

    async def main() -> None:
        panel = ClientPanel("localhost", server.port, "/ws")
        seen: list[str] = []
        panel.host_field.style.observe(lambda change: seen.append(change["new"]), "background")
        await panel.state.open()
        await panel.state.close()
        assert seen[:2] == [GREEN, RED], seen

    asyncio.run(main())
