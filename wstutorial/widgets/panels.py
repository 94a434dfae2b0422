"""The notebook's panels: the server's console, the page's client, a live stream.

The only module that imports ipywidgets (``import wstutorial`` does not).
Each panel only displays and drives a logic object (``EventLog``,
``ClientState``, a ``Client``) and applies its updates in batches on the
kernel's loop (``UpdateBatcher``), about ten per second, so a fast server
cannot flood the browser. Everything a client or the server sends is shown
as text, never as HTML.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import math
import re
import time
from typing import Any, Coroutine

import ipywidgets as widgets

from ..client import Client, ConnectionFailed, connect
from ..clientstate import ClientState, NotOpen
from ..events import Event, EventLog
from ..jsontext import loads
from ..protocol import CloseCode, describe_message
from ..wording import count
from .batching import UpdateBatcher, running_loop

__all__ = [
    "ServerConsole",
    "ClientPanel",
    "StreamView",
    "RED",
    "GREEN",
    "parse_reading",
    "StatePanel",
    "text_area",
    "WIDGET_NOTE",
]

# How long stop() waits for the server's answer before it drops the connection.
STOP_TIMEOUT = 5.0

# The colours of the original page's fields (static/hello.js uses the same).
RED = "#ff0000"
GREEN = "#00ff00"

# The text/plain of every panel: what shows where widgets cannot (a notebook
# viewed on the web, a JupyterLab without the widget extension). It must not
# look like ipywidgets' own repr, which notebook 00 names as the sign of a
# missing widget front end.
WIDGET_NOTE = "(a widget: in JupyterLab it shows as a box once the cell has run)"

NO_LOOP = (
    "no event loop is running here: create the panel in a notebook cell "
    "(or inside async code) so its buttons can run"
)


class _Tasks:
    """Coroutines started by buttons, run on the loop captured when the panel was made."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None) -> None:
        self.loop = loop
        self.pending: set[asyncio.Future[Any] | concurrent.futures.Future[Any]] = set()

    def spawn(
        self, coroutine: Coroutine[Any, Any, Any]
    ) -> asyncio.Future[Any] | concurrent.futures.Future[Any] | None:
        """Start ``coroutine`` on the loop; None (and the coroutine closed) when there is none."""
        loop = self.loop or running_loop()
        if loop is None or loop.is_closed():
            coroutine.close()
            return None
        future: asyncio.Future[Any] | concurrent.futures.Future[Any]
        if running_loop() is loop:
            future = loop.create_task(coroutine)
        else:  # a click handled in another thread: the thread-safe way in
            future = asyncio.run_coroutine_threadsafe(coroutine, loop)
        self.pending.add(future)
        future.add_done_callback(self.pending.discard)
        return future

    async def wait(self) -> None:
        """Wait (on the panel's loop) until every started coroutine has finished."""
        while self.pending:
            await asyncio.gather(*(asyncio.wrap_future(f) for f in list(self.pending)), return_exceptions=True)


def text_area(rows: int) -> widgets.Textarea:
    """A read-only text area for messages."""
    # A disabled Textarea shows text as text (never HTML) and can be scrolled.
    return widgets.Textarea(disabled=True, rows=rows, layout=widgets.Layout(width="100%"))


class StatePanel(widgets.VBox):
    """Base of the panels that drive a state object (``ClientPanel``, ``ChatPanel``).

    Buttons start coroutines on the loop the panel was made on (the
    kernel's); ``refresh()`` shows the state, called in batches by
    ``self.batcher`` so a burst of messages costs a few widget updates.
    """

    status: widgets.Label

    def _start_updates(self) -> None:
        self._tasks = _Tasks(running_loop())
        self._batcher: UpdateBatcher[None] = UpdateBatcher(lambda items, dropped: self.refresh(), maxlen=1)

    def _start(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        if self._tasks.spawn(coroutine) is None:
            self.status.value = NO_LOOP

    def refresh(self) -> None:
        raise NotImplementedError

    async def wait(self) -> None:
        """Wait until what the buttons started has finished, then show the state."""
        await self._tasks.wait()
        self.refresh()

    def _disconnect(self) -> Coroutine[Any, Any, Any] | None:
        """The coroutine that ends the panel's connection, if one is open."""
        return None

    def close(self) -> None:
        """End the connection (if open) and remove the widget."""
        if hasattr(self, "_batcher"):  # also called by __del__ of a half-built panel
            leaving = self._disconnect()
            if leaving is not None:
                self._start(leaving)
            self._batcher.close()
        super().close()


# -- the server's console ---------------------------------------------------------------


class ServerConsole(widgets.VBox):
    """The server's events, live: ``new connection``, ``message received ...``, ``connection closed``.

    What the original tutorial printed in the server's terminal. Shows the
    newest ``max_lines`` lines; updates arrive from the server thread and
    are applied about ten times per second on the kernel's loop.

    Args:
        events_or_server: a running server (``start_server()``) or its ``EventLog``.
        max_lines: how many lines are shown (the oldest go first).
    """

    def __init__(self, events_or_server: Any, max_lines: int = 200, **kwargs: Any) -> None:
        events = getattr(events_or_server, "events", events_or_server)
        if not isinstance(events, EventLog):
            raise TypeError(
                f"ServerConsole shows a server's events: pass the server (start_server()) or its .events, "
                f"got {type(events_or_server).__name__}"
            )
        if not isinstance(max_lines, int) or max_lines < 1:
            raise ValueError(f"max_lines must be a whole number of at least 1, got {max_lines!r}")
        self.events = events
        self.max_lines = max_lines
        self.lines: collections.deque[str] = collections.deque(maxlen=max_lines)
        self.output = text_area(rows=min(max_lines, 12))
        self.clear_button = widgets.Button(description="Clear", tooltip="forget the lines shown")
        self.status = widgets.Label()
        self.clear_button.on_click(lambda _: self.clear())
        self._last_seq = -1
        self._dropped = 0
        self._batcher: UpdateBatcher[Event] = UpdateBatcher(self._apply, maxlen=max_lines)
        super().__init__(
            [widgets.HBox([self.clear_button, self.status]), self.output], **kwargs
        )
        # Subscribe before reading the backlog, and skip by seq: nothing lost, nothing twice.
        self._unsubscribe = events.subscribe(self._batcher.put)
        self._apply(events.snapshot()[-max_lines:], 0)

    def _apply(self, batch: list[Event], dropped: int) -> None:
        fresh = [event for event in batch if event.seq > self._last_seq]
        if fresh:
            self._last_seq = fresh[-1].seq
        self._dropped += dropped
        self.lines.extend(str(event) for event in fresh)
        self._render()

    def _render(self) -> None:
        self.output.value = "\n".join(self.lines)
        skipped = f", {self._dropped} skipped (too many at once)" if self._dropped else ""
        self.status.value = f"{count(len(self.lines), 'line')}{skipped}"

    @property
    def text(self) -> str:
        """The lines shown, as one string."""
        return self.output.value

    def flush(self) -> None:
        """Show what is queued now (the kernel's loop does this by itself ~10 times per second)."""
        self._batcher.flush()

    def clear(self) -> None:
        """Empty the console (the server's event log keeps its events)."""
        self.lines.clear()
        self._dropped = 0
        self._render()

    def __repr__(self) -> str:
        return f"ServerConsole: the server's events {WIDGET_NOTE}"

    def close(self) -> None:
        """Stop following the server and remove the widget."""
        if hasattr(self, "_unsubscribe"):  # also called by __del__ of a half-built console
            self._unsubscribe()
            self._batcher.close()
        super().close()


# -- the tutorial page's client ---------------------------------------------------------


class ClientPanel(StatePanel):
    """The original page in a notebook: host, port, uri fields, red until open, green while open.

    Open and Close buttons, the messages received (where ``Hello World``
    appears), a box to send a message, and a status line where every
    failure is a sentence. The logic is :attr:`state`, a
    :class:`~wstutorial.clientstate.ClientState`, which a notebook can also
    drive with ``await``.

    Args:
        host, port, uri: the fields' first values; ``port`` defaults to
            ``wstutorial.address.default_port()`` ($WSTUTORIAL_PORT, else 8888).
        max_lines: how many received messages are shown.
    """

    def __init__(
        self,
        host: str = "localhost",
        port: int | str | None = None,
        uri: str = "/ws",
        *,
        max_lines: int = 100,
        **kwargs: Any,
    ) -> None:
        self.state = ClientState(host, port, uri, max_messages=max_lines)
        style = {"background": RED, "description_width": "3em"}
        self.host_field = widgets.Text(str(self.state.host), description="host", style=dict(style))
        self.port_field = widgets.Text(str(self.state.port), description="port", style=dict(style))
        self.uri_field = widgets.Text(str(self.state.uri), description="uri", style=dict(style))
        self.open_button = widgets.Button(description="Open", button_style="success")
        self.close_button = widgets.Button(description="Close", button_style="warning")
        self.messages = text_area(rows=6)
        self.send_field = widgets.Text(placeholder="a message to send", layout=widgets.Layout(flex="1"))
        self.send_button = widgets.Button(description="Send")
        self.status = widgets.Label("closed")
        self.open_button.on_click(lambda _: self._start(self._open()))
        self.close_button.on_click(lambda _: self._start(self.state.close()))
        self.send_button.on_click(lambda _: self._start(self._send()))
        # What is typed is the state's address at once, so an open from code
        # (await panel.state.open()) uses the fields just as the button does.
        for name, field in zip(("host", "port", "uri"), (self.host_field, self.port_field, self.uri_field), strict=True):
            field.observe(lambda change, name=name: setattr(self.state, name, change["new"]), "value")
        self._start_updates()
        self._shown_status = ""
        self.state.on_change(self._state_changed)
        super().__init__(
            [
                widgets.HBox([self.host_field, self.port_field, self.uri_field]),
                widgets.HBox([self.open_button, self.close_button]),
                self.messages,
                widgets.HBox([self.send_field, self.send_button]),
                self.status,
            ],
            **kwargs,
        )
        self.refresh()

    @property
    def fields(self) -> tuple[widgets.Text, widgets.Text, widgets.Text]:
        return (self.host_field, self.port_field, self.uri_field)

    async def _open(self) -> None:
        # The fields as typed; ClientState checks them and explains a bad one.
        self.state.host = self.host_field.value
        self.state.port = self.port_field.value
        self.state.uri = self.uri_field.value
        await self.state.open()

    async def _send(self) -> None:
        try:
            sent = await self.state.send(self.send_field.value)
        except NotOpen:
            return  # the status line already says so
        if sent:
            self.send_field.value = ""

    def _state_changed(self, state: ClientState) -> None:
        # The state changes on the panel's loop (the kernel's). An open or a
        # close is shown at once, so that even "open, then close at once" (Run
        # All) shows green for a moment; message bursts go in batches.
        if state.status != self._shown_status:
            self.refresh()
        else:
            self._batcher.put(None)

    def refresh(self) -> None:
        """Show the state now: field colours, messages, status line (normally done in batches)."""
        self._shown_status = self.state.status
        colour = GREEN if self.state.is_open else RED
        for field, value in zip(self.fields, (self.state.host, self.state.port, self.state.uri), strict=True):
            field.style.background = colour
            if field.value != str(value):  # changed from code: panel.state.port = 8889
                field.value = str(value)
        self.messages.value = "\n".join(f"message received: {m}" for m in self.state.messages)
        self.status.value = self.state.summary

    def _disconnect(self) -> Coroutine[Any, Any, Any] | None:
        return self.state.close() if self.state.status == "open" else None

    def __repr__(self) -> str:
        return f"ClientPanel: host, port, uri, Open {WIDGET_NOTE}"


# -- a live stream ------------------------------------------------------------------------

_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def parse_reading(message: str | bytes) -> dict[str, float]:
    """The numbers a stream message carries, by name, for the chart.

    A JSON object gives its numeric fields except ``t`` (time), e.g. a sensor
    reading ``{"t": 1.5, "x": 0.1, "y": -0.2, "z": 9.8}`` gives x, y and z;
    other text gives its last number as ``value`` (``message: 7`` → 7);
    anything else gives nothing (the message is still counted and logged).
    """
    if isinstance(message, bytes):
        return {}
    text = message.strip()
    if text.startswith("{"):
        try:
            data = loads(text)
        except ValueError:
            data = None
        if isinstance(data, dict):
            return {
                str(key): float(value)
                for key, value in data.items()
                if key != "t"
                and isinstance(value, (int, float))
                and not isinstance(value, bool)
                and math.isfinite(value)
            }
    found = _NUMBER.findall(text)
    if found:
        value = float(found[-1])
        if math.isfinite(value):
            return {"value": value}
    return {}


class StreamView(widgets.VBox):
    """A stream, live: a log of the newest messages (newest first) and a chart of their numbers.

    Connects to ``url`` (e.g. ``server.ws_url("/streaming")`` or
    ``server.ws_url("/sensor?rate=50")``) on :meth:`start` (or the Start
    button) and closes on :meth:`stop`. Messages are counted as they come
    and shown in batches (at most about ten display updates per second),
    keeping the newest ``max_points`` points and ``max_lines`` lines, so a
    fast stream neither floods the browser nor grows memory.
    """

    def __init__(self, url: str, max_points: int = 300, max_lines: int = 100, **kwargs: Any) -> None:
        for name, value in (("max_points", max_points), ("max_lines", max_lines)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a whole number of at least 1, got {value!r}")
        self.url = url
        self.max_points = max_points
        self.max_lines = max_lines
        self.count = 0  # messages received since start()
        self.skipped = 0  # messages counted but not shown (too many in one batch)
        self.lines: collections.deque[str] = collections.deque(maxlen=max_lines)
        self.series: dict[str, collections.deque[tuple[int, float]]] = {}
        self.start_button = widgets.Button(description="Start", button_style="success")
        self.stop_button = widgets.Button(description="Stop", button_style="warning")
        self.status = widgets.Label("stopped")
        self.messages = text_area(rows=8)
        self.figure, self._lines_mark = self._make_chart()
        self.start_button.on_click(lambda _: self.start())
        self.stop_button.on_click(lambda _: self.stop())
        self._client: Client | None = None
        self._reader: asyncio.Future[Any] | concurrent.futures.Future[Any] | None = None
        self._started = 0.0
        self._tasks = _Tasks(running_loop())
        self._batcher: UpdateBatcher[tuple[int, str]] = UpdateBatcher(
            self._apply, maxlen=max(max_points, max_lines)
        )
        super().__init__(
            [widgets.HBox([self.start_button, self.stop_button, self.status]), self.figure, self.messages],
            **kwargs,
        )

    def _make_chart(self) -> tuple[widgets.DOMWidget, Any]:
        import bqplot  # imported here: only the stream view needs it

        x_scale, y_scale = bqplot.LinearScale(), bqplot.LinearScale()
        lines = bqplot.Lines(
            x=[], y=[], scales={"x": x_scale, "y": y_scale}, display_legend=True, labels=[]
        )
        figure = bqplot.Figure(
            marks=[lines],
            axes=[
                bqplot.Axis(scale=x_scale, label="message number"),
                bqplot.Axis(scale=y_scale, side="left", label="value"),
            ],
            title=self.url,
            animation_duration=0,  # animating 10 updates per second would only blur
            layout=widgets.Layout(width="100%", height="300px"),
            fig_margin={"top": 40, "bottom": 40, "left": 50, "right": 20},
        )
        return figure, lines

    # -- life cycle ----------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._reader is not None and not self._reader.done()

    def start(self) -> None:
        """Connect and show messages as they come (nothing to do if already running)."""
        if self.running:
            return
        self._reader = self._tasks.spawn(self._run())
        if self._reader is None:
            self._set_status(NO_LOOP)

    def stop(self) -> None:
        """Close the connection; what was received stays shown."""
        client = getattr(self, "_client", None)
        if client is not None:
            self._tasks.spawn(self._stop(client))

    async def _stop(self, client: Client) -> None:
        # The reader task ends when the server answers our close frame. A
        # server that never answers must not leave the view (and a cell
        # awaiting wait()) hanging: after STOP_TIMEOUT the reader is cancelled.
        await client.close(CloseCode.NORMAL_CLOSURE, "stream view stopped", timeout=0)
        reader = self._reader
        if reader is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(reader)), STOP_TIMEOUT)
        except asyncio.TimeoutError:
            reader.cancel()

    async def wait(self) -> None:
        """Wait until the connection has ended (after :meth:`stop` or the server closing)."""
        await self._tasks.wait()
        self._batcher.flush()

    def flush(self) -> None:
        """Show what is queued now (the kernel's loop does this by itself ~10 times per second)."""
        self._batcher.flush()

    async def _run(self) -> None:
        self._set_status(f"connecting to {self.url} ...")
        try:
            client = await connect(self.url)
        except ConnectionFailed as error:
            self._set_status(f"failed: {error.reason}")
            return
        except Exception as error:  # never a traceback in the panel
            self._set_status(f"failed: could not connect to {self.url}: {error}")
            return
        self._client = client
        self.count = 0
        self.skipped = 0
        self._started = time.monotonic()
        self._set_status(f"open: {self.url}")
        try:
            async for message in client:
                self.count += 1
                self._batcher.put((self.count, describe_message(message, limit=None)))
        except asyncio.CancelledError:
            self._set_status(f"stopped after {count(self.count, 'message')} (the server did not confirm the close)")
            raise
        except Exception as error:
            self._set_status(f"the connection broke: {error}")
        finally:
            self._client = None
        self._batcher.flush()
        said = f", reason {client.close_reason!r}" if client.close_reason else ""
        self._set_status(f"closed with code {client.close_code}{said} after {count(self.count, 'message')}")

    def _set_status(self, text: str) -> None:
        self.status.value = text

    # -- display --------------------------------------------------------------------

    def _apply(self, batch: list[tuple[int, str]], dropped: int) -> None:
        self.skipped += dropped
        for number, text in batch:
            self.lines.appendleft(f"{number}: {text}")
            for name, value in parse_reading(text).items():
                self.series.setdefault(name, collections.deque(maxlen=self.max_points)).append((number, value))
        self.messages.value = "\n".join(self.lines)
        self._draw()
        if self._client is not None:
            elapsed = max(time.monotonic() - self._started, 1e-9)
            skipped = f", {self.skipped} not drawn" if self.skipped else ""
            self.status.value = (
                f"open: {self.url}: {count(self.count, 'message')} ({self.count / elapsed:.0f}/s){skipped}"
            )

    def _draw(self) -> None:
        names = sorted(self.series)
        if not names:
            return
        # Lines share one x: the message numbers of the longest series.
        longest = max(names, key=lambda name: len(self.series[name]))
        xs = [number for number, _ in self.series[longest]]
        if len(xs) < 2:  # a line needs two points (and bqplot squeezes a 1x1 array to a scalar)
            return
        ys = []
        for name in names:
            values = dict(self.series[name])
            ys.append([values.get(x, math.nan) for x in xs])
        with self._lines_mark.hold_sync():  # one message to the browser, not one per trait
            self._lines_mark.x = xs
            self._lines_mark.y = ys
            self._lines_mark.labels = names

    def __repr__(self) -> str:
        return f"StreamView: a live chart and log {WIDGET_NOTE}"

    def close(self) -> None:
        """Stop the stream and remove the widget."""
        if hasattr(self, "_batcher"):  # also called by __del__ of a half-built view
            self.stop()
            self._batcher.close()
            self.figure.close()
        super().close()
