"""reconnect.html in a real Chromium: JSON messages, the heartbeat, and reconnection after a server restart."""

from __future__ import annotations

from typing import Any, Iterator

import pytest
from playwright.sync_api import Page, expect

import wstutorial
from wstutorial import JsonHandler

from .test_pages import XSS_PAYLOAD, assert_not_html

# Short times so the tests are quick; the page's defaults are 5 s, 3 s, 1 s and 30 s.
FAST = "heartbeat=0.3&timeout=1&initial=0.2&max=1"


class FrozenHandler(JsonHandler):
    """Never answers a ping: a stuck server, or a connection that died silently."""

    def handle_ping(self, message: dict[str, Any]) -> None:
        return None


class ClosesAtOnce(JsonHandler):
    """Closes every new connection with the code in its ?code= argument."""

    def open(self, *args: Any, **kwargs: Any) -> None:
        self.close(int(self.get_argument("code")), "closed by the test")


@pytest.fixture
def json_server() -> Iterator[wstutorial.TutorialServer]:
    running = wstutorial.start_server(port=0, handlers={"/frozen": FrozenHandler, "/closes": ClosesAtOnce})
    try:
        yield running
    finally:
        running.stop()


def state(page: Page, name: str) -> Any:
    return page.evaluate(f"window.reconnectState.{name}")


def log_line(page: Page, text: str) -> Any:
    return page.locator("#log > *", has_text=text)


def test_page_connects_and_its_heartbeat_gets_pongs(page: Page, json_server: wstutorial.TutorialServer) -> None:
    """Connected, the page's ping messages are answered: pongs counted, round trip shown."""
    page.goto(json_server.page_url(f"reconnect.html?{FAST}"))
    expect(page.locator("#status")).to_have_text("connected")
    expect(page.locator("#url")).to_have_text(json_server.ws_url("/json"))
    page.wait_for_function("window.reconnectState.pongs >= 3")
    expect(page.locator("#pong")).to_contain_text("ms round trip")
    assert state(page, "connections") == 1


def test_page_echo_and_errors_are_shown_as_text(page: Page, json_server: wstutorial.TutorialServer) -> None:
    """An echo of HTML is shown literally; a message without a type gets the server's sentence."""
    page.goto(json_server.page_url(f"reconnect.html?{FAST}"))
    expect(page.locator("#status")).to_have_text("connected")
    page.fill("#text", XSS_PAYLOAD)
    page.click("#send")
    expect(log_line(page, "onerror")).to_have_count(1)
    assert_not_html(page)
    assert log_line(page, "onerror").inner_text().endswith("echo: " + XSS_PAYLOAD)
    page.click("#bad")
    expect(log_line(page, 'error from the server: the message has no "type" field')).to_have_count(1)
    json_server.events.wait_for('refused {"text":"no type"}', kind="protocol")


def test_page_comes_back_after_a_server_restart(page: Page, json_server: wstutorial.TutorialServer) -> None:
    """Server stopped: the page sees 1001, fails while it is down, and reconnects once it is back."""
    page.goto(json_server.page_url(f"reconnect.html?{FAST}"))
    expect(page.locator("#status")).to_have_text("connected")
    port = json_server.port
    assert json_server.stop() == 1
    expect(log_line(page, "connection lost (code 1001, server shutting down)")).to_have_count(1)
    page.wait_for_function("window.reconnectState.attempts >= 1")  # tried while the server was down
    expect(page.locator("#status")).to_contain_text("reconnecting in")
    restarted = wstutorial.start_server(port=port)
    try:
        page.wait_for_function("window.reconnectState.connections === 2")
        expect(page.locator("#status")).to_have_text("connected")
        restarted.events.wait_for("new connection")
        page.wait_for_function("window.reconnectState.pongs >= 1")  # the new connection works
    finally:
        restarted.stop()


def test_page_drops_a_connection_whose_pongs_stop(page: Page, json_server: wstutorial.TutorialServer) -> None:
    """No pong within the timeout: the page drops the connection and connects again."""
    page.goto(json_server.page_url(f"reconnect.html?path=frozen&{FAST}"))
    expect(log_line(page, "no pong within 1 s: the connection is dead, dropping it").first).to_be_visible()
    page.wait_for_function("window.reconnectState.connections >= 2")
    assert state(page, "pongs") == 0
    json_server.events.wait_for("connection closed")  # the dropped connection was really closed


def test_disconnect_stops_reconnecting(page: Page, json_server: wstutorial.TutorialServer) -> None:
    """After 'disconnect' the page closes with 1000 and does not come back by itself."""
    page.goto(json_server.page_url(f"reconnect.html?{FAST}"))
    expect(page.locator("#status")).to_have_text("connected")
    page.click("#stop")
    expect(page.locator("#status")).to_have_text("disconnected")
    json_server.events.wait_for("connection closed")
    # Nothing left that could reconnect: no socket, no retry waiting on a timer.
    assert state(page, "scheduled") is False
    assert state(page, "connections") == 1
    assert json_server.clients("/json") == []
    page.click("#start")
    page.wait_for_function("window.reconnectState.connections === 2")


def test_page_gives_up_on_a_policy_violation(page: Page, json_server: wstutorial.TutorialServer) -> None:
    """Closed with 1008: the page says it gives up and does not reconnect; with 1011 it does."""
    page.goto(json_server.page_url(f"reconnect.html?path=closes%3Fcode%3D1008&{FAST}"))
    expect(page.locator("#status")).to_have_text("gave up: the server closed with 1008; connecting again would get the same answer")
    assert state(page, "scheduled") is False
    assert state(page, "connections") == 1
    page.goto(json_server.page_url(f"reconnect.html?path=closes%3Fcode%3D1011&{FAST}"))
    page.wait_for_function("window.reconnectState.connections >= 2")
