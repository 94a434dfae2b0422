"""The browser pages in a real Chromium against a real tutorial server."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

import wstutorial

from .conftest import ROOT
from .dialogs import Dialogs

RED = "rgb(255, 0, 0)"
GREEN = "rgb(0, 255, 0)"
FIELDS = ("#host", "#port", "#uri")

# Runs only if a page inserts the message as HTML: the image fails to load.
XSS_PAYLOAD = (
    '<img class="xss-probe" src=x onerror="window.__xss = (window.__xss || 0) + 1">'
    '<b class="xss-probe">bold</b>'
)

# Every page in static/ is either tested with XSS_PAYLOAD below or listed as
# showing no messages, so a new page cannot be forgotten.
PAGES_TESTED_WITH_HTML_MESSAGES = {"hello.html", "streaming.html", "chat.html", "teacher.html", "reconnect.html"}  # chat, teacher: test_classroom_pages.py; reconnect: test_reconnect_page.py
PAGES_WITHOUT_MESSAGES = {"index.html"}


def open_hello(page: Page, dialogs: Dialogs, server: wstutorial.TutorialServer) -> None:
    page.goto(server.page_url("hello.html"))
    for field in FIELDS:
        expect(page.locator(field)).to_have_css("background-color", RED)
    page.fill("#host", "127.0.0.1")
    page.fill("#port", str(server.port))
    page.fill("#uri", "/ws")
    page.click("#open")
    dialogs.wait_for("message received: Hello World")


def test_hello_fields_turn_green_and_hello_world_pops_up(page: Page, dialogs: Dialogs, server: wstutorial.TutorialServer) -> None:
    """Red fields; open; 'message received: Hello World'; all three fields green."""
    open_hello(page, dialogs, server)
    for field in FIELDS:
        expect(page.locator(field)).to_have_css("background-color", GREEN)
    assert server.events.wait_for("new connection", timeout=10)


def test_hello_message_from_page_reaches_server(page: Page, dialogs: Dialogs, server: wstutorial.TutorialServer) -> None:
    """The page's WebSocket is a real one: the server records what the page sends."""
    open_hello(page, dialogs, server)
    # The page itself has no send box (like the original); send through its origin.
    page.evaluate(
        """port => new Promise((resolve, reject) => {
            const ws = new WebSocket("ws://127.0.0.1:" + port + "/ws");
            ws.onopen = () => { ws.send("hi from the browser"); resolve(); };
            ws.onerror = reject;
        })""",
        server.port,
    )
    assert server.events.wait_for("message received hi from the browser", timeout=10)


def test_hello_server_stop_pops_up_connection_close(page: Page, dialogs: Dialogs, server: wstutorial.TutorialServer) -> None:
    """Stopping the server closes the page's WebSocket: 'Connection close', fields red again."""
    open_hello(page, dialogs, server)
    expect(page.locator("#host")).to_have_css("background-color", GREEN)
    server.stop()
    dialogs.wait_for("Connection close")
    for field in FIELDS:
        expect(page.locator(field)).to_have_css("background-color", RED)


def test_hello_rejects_bad_fields_without_connecting(page: Page, dialogs: Dialogs, server: wstutorial.TutorialServer) -> None:
    """A port that is not a number is refused on the page: no connection, fields stay red."""
    page.goto(server.page_url("hello.html"))
    page.fill("#port", "eighty")
    page.click("#open")
    expect(page.locator("#status")).to_contain_text("port number")
    expect(page.locator("#host")).to_have_css("background-color", RED)
    assert dialogs.messages == []
    assert server.clients("/ws") == []


def test_hello_wrong_uri_says_what_probably_went_wrong(page: Page, dialogs: Dialogs, server: wstutorial.TutorialServer) -> None:
    """A uri the server lacks, a page instead of a WebSocket, a closed port: each gets its sentence, not just 1006."""
    page.goto(server.page_url("hello.html"))
    cases = [
        ("127.0.0.1", str(server.port), "/wrong", "the server has no WebSocket at /wrong (404 Not Found)"),
        ("localhost", str(server.port), "/hello.html", "/hello.html is a page (HTTP 200), not a WebSocket"),
        ("127.0.0.1", "1", "/ws", "nothing answers at 127.0.0.1:1; is the server started"),
    ]
    for host, port, uri, sentence in cases:
        page.fill("#host", host)
        page.fill("#port", port)
        page.fill("#uri", uri)
        page.click("#open")
        expect(page.locator("#status")).to_contain_text(sentence)
        expect(page.locator("#status")).to_contain_text(f"could not open ws://{host}:{port}{uri}")
        expect(page.locator("#host")).to_have_css("background-color", RED)
    assert server.clients("/ws") == []


def test_streaming_wrong_address_says_what_probably_went_wrong(page: Page, server: wstutorial.TutorialServer) -> None:
    """streaming.html with a wrong path or no address at all: a sentence, not 'closed (code 1006)'."""
    page.goto(server.page_url("streaming.html"))
    expect(page.locator("#status")).to_have_text("open")
    page.click("#close")
    expect(page.locator("#status")).to_have_text("closed (code 1000)")
    wrong = f"ws://127.0.0.1:{server.port}/streming"
    page.fill("#url", wrong)
    page.click("#open")
    expect(page.locator("#status")).to_have_text(
        f"could not open {wrong}: the server has no WebSocket at /streming (404 Not Found); check the uri, e.g. /streaming"
    )
    page.fill("#url", "localhost:8888/streaming")
    page.click("#open")
    expect(page.locator("#status")).to_contain_text("not a WebSocket address: localhost:8888/streaming (it looks like ws://")


def test_hello_opened_from_disk_is_told_to_open_it_from_the_server(
    page: Page, dialogs: Dialogs, server: wstutorial.TutorialServer
) -> None:
    """A page opened from disk (Origin: null) is refused; the page and the server's event both say: serve it from the server."""
    page.goto((ROOT / "static" / "hello.html").as_uri())
    page.fill("#host", "127.0.0.1")
    page.fill("#port", str(server.port))
    page.fill("#uri", "/ws")
    page.click("#open")
    expect(page.locator("#status")).to_contain_text(
        f"this page was opened from disk, and the server refuses pages without an origin; "
        f"open it from the server instead: http://127.0.0.1:{server.port}/hello.html"
    )
    event = server.events.wait_for("origin rejected", timeout=10)
    assert event.text == (
        f"origin rejected 'null' (403): a page opened from disk (file://) has no origin; "
        f"open it from the server instead, e.g. http://127.0.0.1:{server.port}/hello.html"
    )
    assert "allowed_origins" not in event.text


def test_hello_close_code_is_explained(page: Page, dialogs: Dialogs, server: wstutorial.TutorialServer) -> None:
    """A connection that was open and is closed by the server says the code and what it means."""
    open_hello(page, dialogs, server)
    server.stop()
    dialogs.wait_for("Connection close")
    expect(page.locator("#status")).to_have_text("closed (code 1001: going away: the server stopped, or the page is leaving, reason 'server shutting down')")


def log_lines(page: Page) -> list[str]:
    return page.locator("#log > *").all_inner_texts()


def test_streaming_log_is_newest_first(page: Page, server: wstutorial.TutorialServer) -> None:
    """The stream's messages appear in #log, newest on top."""
    page.goto(server.page_url("streaming.html"))
    expect(page.locator("#status")).to_have_text("open")
    page.wait_for_function("Number(document.getElementById('count').textContent) >= 4")
    numbers = []
    for line in log_lines(page):
        match = re.fullmatch(r"message: (\d+)", line.strip())
        assert match, f"unexpected log line {line!r}"
        numbers.append(int(match.group(1)))
    assert len(numbers) >= 4
    assert numbers == sorted(numbers, reverse=True), f"log is not newest first: {numbers}"
    assert len(set(numbers)) == len(numbers)


def test_streaming_plot_draws_the_line(page: Page, server: wstutorial.TutorialServer) -> None:
    """The plot redraws as messages arrive, and the canvas really shows the line."""
    page.goto(server.page_url("streaming.html"))
    page.wait_for_function("window.streamingPlot && window.streamingPlot.drawCount >= 3")
    # Pixels of the line's colour (#1f77b4), allowing for anti-aliasing.
    line_pixels = page.evaluate(
        """() => {
            const canvas = document.getElementById("plot");
            const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
            let count = 0;
            for (let i = 0; i < data.length; i += 4) {
                if (data[i + 3] > 200 && Math.abs(data[i] - 0x1f) < 40 &&
                    Math.abs(data[i + 1] - 0x77) < 40 && Math.abs(data[i + 2] - 0xb4) < 40) { count++; }
            }
            return count;
        }"""
    )
    assert line_pixels > 20, f"the canvas shows almost none of the plot's line ({line_pixels} pixels)"


def plot_pixels(page: Page) -> dict:
    """Where the canvas shows the line's colour (#1f77b4) and the axes' (#333), in canvas pixels."""
    return page.evaluate(
        """() => {
            const canvas = document.getElementById("plot");
            const {width, height} = canvas;
            const data = canvas.getContext("2d").getImageData(0, 0, width, height).data;
            const near = (i, r, g, b) => data[i + 3] > 200 && Math.abs(data[i] - r) < 40 &&
                Math.abs(data[i + 1] - g) < 40 && Math.abs(data[i + 2] - b) < 40;
            let line = 0, minX = width, maxX = 0, dark = 0;
            const rows = new Array(height).fill(0), columns = new Array(width).fill(0);
            for (let y = 0; y < height; y++) {
                for (let x = 0; x < width; x++) {
                    const i = 4 * (y * width + x);
                    if (near(i, 0x1f, 0x77, 0xb4)) { line++; minX = Math.min(minX, x); maxX = Math.max(maxX, x); }
                    if (near(i, 0x33, 0x33, 0x33)) { dark++; rows[y]++; columns[x]++; }
                }
            }
            // The axes: a dark column (y axis) and a dark row (x axis) most of the way across.
            const yAxis = Math.max(...columns) / height, xAxis = Math.max(...rows) / width;
            return {line, spread: (maxX - minX) / width, dark, yAxis, xAxis, width, height};
        }"""
    )


def test_streaming_plot_has_axes_and_a_window_that_suits_the_rate(page: Page, server: wstutorial.TutorialServer) -> None:
    """The plot spans its width from the start, draws axes with labels, and its time window fits the interval."""
    page.goto(server.page_url("streaming.html"))
    page.wait_for_function("window.streamingPlot && window.streamingPlot.samples.length >= 5")
    page.wait_for_function("window.streamingPlot.drawCount >= 5")
    found = plot_pixels(page)
    assert found["spread"] > 0.5, f"the line covers only {found['spread']:.0%} of the plot's width (a line in a corner)"
    assert found["yAxis"] > 0.6 and found["xAxis"] > 0.6, f"no axes drawn: {found}"
    # Beyond the two axis lines, tick labels and axis titles: dark text.
    assert found["dark"] - found["yAxis"] * found["height"] - found["xAxis"] * found["width"] > 100, found
    window = page.evaluate("window.streamingPlot.windowSeconds")
    # The server sends every 0.2 s: about 30 messages in view is 6 s (at least the 5 s minimum).
    assert 5 <= window <= 10, f"a {window} s window for a message every 0.2 s"
    labels = page.evaluate("[window.streamingPlot.xLabel, window.streamingPlot.yLabel]")
    assert labels == ["time (s, 0 = now)", 'n in "message: n"']


def test_streaming_page_fits_a_notebook_frame(page: Page, server: wstutorial.TutorialServer) -> None:
    """In a 250 px high frame (notebook 04's IFrame) the controls, the plot and the newest log line are in view."""
    page.set_viewport_size({"width": 800, "height": 250})
    page.goto(server.page_url("streaming.html"))
    page.wait_for_function("Number(document.getElementById('count').textContent) >= 2")
    for selector in ("#open", "#status", "#plot", "#log > .line >> nth=0"):
        box = page.locator(selector).bounding_box()
        assert box is not None, f"{selector} is not shown"
        assert box["y"] >= 0 and box["y"] + box["height"] <= 250 + 1, f"{selector} is outside the 250 px frame: {box}"
        assert box["height"] > 0 and box["width"] > 0
    assert page.locator("#plot").bounding_box()["height"] >= 120
    assert page.evaluate("document.documentElement.scrollHeight") <= 252


def test_streaming_close_button_and_server_stop(page: Page, server: wstutorial.TutorialServer) -> None:
    """Stopping the server shows 'Connection close' on top of the log, code 1001."""
    page.goto(server.page_url("streaming.html"))
    page.wait_for_function("Number(document.getElementById('count').textContent) >= 1")
    server.stop()
    expect(page.locator("#status")).to_have_text("closed (code 1001)")
    expect(page.locator("#log > *").first).to_have_text("Connection close")


# -- messages are shown as text, never as HTML ------------------------------------------


def assert_not_html(page: Page) -> None:
    """No element came from the payload and its onerror never ran."""
    page.wait_for_timeout(500)  # time for the broken image's onerror, had it been created
    assert page.locator(".xss-probe").count() == 0, "the message was inserted as HTML (its elements exist)"
    assert page.evaluate("window.__xss") is None, "the message's onerror handler ran"


def test_hello_shows_html_message_as_text(page: Page, dialogs: Dialogs, server: wstutorial.TutorialServer) -> None:
    """hello.html pops up a message containing HTML literally and runs none of it."""
    open_hello(page, dialogs, server)
    assert server.broadcast("/ws", XSS_PAYLOAD) == 1
    dialogs.wait_for("message received: " + XSS_PAYLOAD)
    assert_not_html(page)


def test_streaming_shows_html_message_as_text(page: Page, server: wstutorial.TutorialServer) -> None:
    """streaming.html logs a message containing HTML literally and runs none of it."""
    page.goto(server.page_url("streaming.html"))
    expect(page.locator("#status")).to_have_text("open")
    page.wait_for_function("Number(document.getElementById('count').textContent) >= 1")
    assert server.broadcast("/streaming", XSS_PAYLOAD) == 1
    # Messages arrive in order: once the marker is shown, the payload was handled.
    assert server.broadcast("/streaming", "after the payload") == 1
    expect(page.locator("#log > *", has_text="after the payload")).to_have_count(1)
    assert_not_html(page)
    expect(page.locator("#log > *", has_text="onerror")).to_have_text([XSS_PAYLOAD])


def test_every_page_is_checked_for_html_messages() -> None:
    """Each page in static/ is tested with an HTML message, or listed as showing no messages."""
    pages = {path.name for path in (ROOT / "static").glob("*.html")}
    unchecked = sorted(pages - PAGES_TESTED_WITH_HTML_MESSAGES - PAGES_WITHOUT_MESSAGES)
    assert not unchecked, (
        f"pages without a test that messages containing HTML are shown as text: {unchecked}; "
        "add a test like test_streaming_shows_html_message_as_text, or list the page in PAGES_WITHOUT_MESSAGES"
    )
    assert PAGES_TESTED_WITH_HTML_MESSAGES <= pages


# -- the browser tests fail, never skip, without Chromium --------------------------------


def test_missing_chromium_fails_instead_of_skipping(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """No chromium on the PATH and no $WSTUTORIAL_CHROMIUM: a failure that says what to install."""
    from .conftest import chromium_path

    monkeypatch.delenv("WSTUTORIAL_CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(pytest.fail.Exception, match="apt-get install chromium"):
        chromium_path()


def test_wrong_wstutorial_chromium_fails(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """$WSTUTORIAL_CHROMIUM naming no executable is a failure naming the value."""
    from .conftest import chromium_path

    monkeypatch.setenv("WSTUTORIAL_CHROMIUM", str(tmp_path / "no-such-chromium"))
    with pytest.raises(pytest.fail.Exception, match="no-such-chromium"):
        chromium_path()
