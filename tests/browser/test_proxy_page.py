"""A real Chromium on an https page behind nginx that terminates TLS (notebook 08).

Chromium's resolver rules send ``proxy.test`` and ``evil.test`` (port 443
in the address, so the browser's Host and Origin carry no port, as on a
real site or on Binder) to nginx's free port on 127.0.0.1.
"""

from __future__ import annotations

from typing import Iterator

import pytest
from playwright.sync_api import Browser, Playwright

import wstutorial
from wstutorial.server.tls import LocalCA
from wstutorial.services.nginxproxy import NginxProxy, start_nginx

from .conftest import CHROMIUM_ARGS, chromium_path

SITE, OTHER = "proxy.test", "evil.test"

OPEN = """async (url) => new Promise((resolve) => {
  const socket = new WebSocket(url);
  socket.onmessage = (event) => { socket.close(); resolve("received " + event.data); };
  socket.onerror = () => resolve("error");
})"""


@pytest.fixture(scope="module")
def backend() -> Iterator[wstutorial.TutorialServer]:
    # As a notebook starts it (no xheaders), answering the names nginx serves.
    running = wstutorial.start_server(port=0, allowed_hosts=[SITE, OTHER])
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def proxy(backend: wstutorial.TutorialServer) -> Iterator[NginxProxy]:
    running = start_nginx(backend.port, certificate=LocalCA().issue((SITE, OTHER)), server_names=[SITE, OTHER])
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def proxied_browser(playwright_driver: Playwright, proxy: NginxProxy) -> Iterator[Browser]:
    rules = f"MAP {SITE} 127.0.0.1:{proxy.port},MAP {OTHER} 127.0.0.1:{proxy.port}"
    launched = playwright_driver.chromium.launch(
        executable_path=chromium_path(), headless=True, args=[*CHROMIUM_ARGS, f"--host-resolver-rules={rules}"]
    )
    try:
        yield launched
    finally:
        launched.close()


def test_https_page_behind_nginx_opens_its_websocket(
    proxied_browser: Browser, backend: wstutorial.TutorialServer
) -> None:
    """https://proxy.test/hello.html opens wss://proxy.test/ws; another site's page (evil.test) is refused."""
    # The browser does not know our CA: let it show the https pages anyway.
    context = proxied_browser.new_context(ignore_https_errors=True)
    try:
        page = context.new_page()
        page.goto(f"https://{SITE}/hello.html")
        assert page.evaluate(OPEN, f"wss://{SITE}/ws") == "received Hello World"
        mark = backend.events.next_seq
        page.goto(f"https://{OTHER}/hello.html")
        assert page.evaluate(OPEN, f"wss://{SITE}/ws") == "error"
        event = backend.events.wait_for("origin rejected", after=mark, timeout=10)
        assert event.text.startswith(f"origin rejected 'https://{OTHER}' (403): a page of another origin")
    finally:
        context.close()
