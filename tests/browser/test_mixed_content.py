"""What a real browser does with ws:// from an https:// page, and with wss:// (notebook 08).

The page is served over TLS (a certificate from ``LocalCA``) under a name
that is not this machine's own (``wstutorial.test``, mapped to 127.0.0.1 by
Chromium's resolver rules): browsers count localhost and 127.0.0.1 as
trustworthy, so those would not show the rule.
"""

from __future__ import annotations

from typing import Iterator

import pytest
from playwright.sync_api import Browser, Playwright

import wstutorial
from wstutorial.server.tls import LocalCA

from .conftest import CHROMIUM_ARGS, chromium_path

NAME = "wstutorial.test"

ATTEMPT = """async (urls) => {
  const attempt = (url) => new Promise((resolve) => {
    let socket;
    try {
      socket = new WebSocket(url);
    } catch (error) {
      resolve("threw " + error.name + ": " + error.message);
      return;
    }
    socket.onopen = () => { socket.close(); resolve("open"); };
    socket.onerror = () => resolve("error");
  });
  const results = [];
  for (const url of urls) results.push(await attempt(url));
  return results;
}"""


@pytest.fixture(scope="module")
def renamed_browser(playwright_driver: Playwright) -> Iterator[Browser]:
    """A Chromium that resolves wstutorial.test to 127.0.0.1."""
    launched = playwright_driver.chromium.launch(
        executable_path=chromium_path(),
        headless=True,
        args=[*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {NAME} 127.0.0.1"],
    )
    try:
        yield launched
    finally:
        launched.close()


def test_https_page_may_use_wss_but_not_ws(renamed_browser: Browser) -> None:
    """From an https:// page, ws:// is refused by the browser itself (nothing reaches the server); wss:// opens."""
    ca = LocalCA()
    secure = wstutorial.start_server(port=0, ssl_context=ca.server_context((NAME,)), allowed_hosts=[NAME])
    plain = wstutorial.start_server(
        port=0, allowed_hosts=[NAME], allowed_origins=[f"https://{NAME}:{secure.port}"]
    )
    # The browser does not know our CA: let it show the https page anyway.
    context = renamed_browser.new_context(ignore_https_errors=True)
    try:
        page = context.new_page()
        page.goto(f"https://{NAME}:{secure.port}/hello.html")
        insecure = f"ws://{NAME}:{plain.port}/ws"
        results = page.evaluate(ATTEMPT, [insecure, f"wss://{NAME}:{secure.port}/ws"])
        # The WebSocket constructor itself refuses (the HTML standard's "mixed content" rule).
        assert results == [
            "threw SecurityError: Failed to construct 'WebSocket': An insecure WebSocket connection "
            "may not be initiated from a page loaded over HTTPS.",
            "open",
        ]
        assert secure.events.wait_for("new connection", timeout=5)
        assert plain.events.find("new connection") is None  # the ws:// attempt never left the browser
    finally:
        context.close()
        secure.stop()
        plain.stop()
