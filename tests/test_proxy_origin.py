"""The Origin check behind a reverse proxy that terminates TLS: real nginx, a trustme certificate, real clients.

The page is ``https://proxy.test/`` (port 443 implied), as on a site or on
Binder: the browser's handshake says ``Host: proxy.test`` and
``Origin: https://proxy.test``, and nginx passes both on to Tornado over
plain http, with ``X-Forwarded-Proto: https``. The clients here reach
nginx's free port on 127.0.0.1 but address it as ``proxy.test`` (TLS name
and Host), exactly what they send to a proxy on port 443.

Before the fix the server compared the page's port (443) with the one of
the scheme it saw itself (http: 80) and refused its own page (403); an
``http://proxy.test`` page was accepted instead. Tornado 6.6 accepts an
Origin whose ``host:port`` equals Host before it asks ``check_origin``, so
there the first test passed anyway; it failed on Tornado 6.4 and 6.5,
which ``pyproject.toml`` allows.
"""

from __future__ import annotations

import socket
from typing import Iterator

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

import wstutorial
from wstutorial.events import EventLog
from wstutorial.server.handlers import origin_advice
from wstutorial.server.hub import Hub, forwarded_scheme
from wstutorial.server.tls import LocalCA
from wstutorial.services.nginxproxy import NginxProxy, start_nginx

NAME = "proxy.test"


@pytest.fixture(scope="module")
def ca() -> LocalCA:
    return LocalCA()


@pytest.fixture(scope="module")
def backend() -> Iterator[wstutorial.TutorialServer]:
    """The server behind the proxy, as a notebook starts it (no xheaders), answering the site's name."""
    running = wstutorial.start_server(port=0, allowed_hosts=[NAME])
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def proxy(backend: wstutorial.TutorialServer, ca: LocalCA) -> Iterator[NginxProxy]:
    running = start_nginx(backend.port, certificate=ca.issue((NAME,)), server_names=[NAME])
    try:
        yield running
    finally:
        running.stop()


def open_through_proxy(proxy: NginxProxy, ca: LocalCA, origin: str) -> str:
    """What the ``websockets`` library receives first from wss://proxy.test/ws, sent with ``origin``."""
    sock = socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
    with connect(f"wss://{NAME}/ws", sock=sock, ssl=ca.client_context(), origin=origin, open_timeout=5) as ws:  # type: ignore[arg-type]
        message = ws.recv(timeout=5)
    assert isinstance(message, str)
    return message


def test_https_page_is_accepted_behind_a_tls_proxy(proxy: NginxProxy, ca: LocalCA) -> None:
    """The proxy's own https page (port 443 implied) connects through nginx to a server without xheaders."""
    assert open_through_proxy(proxy, ca, f"https://{NAME}") == "Hello World"
    assert proxy.wait_for_log('"GET /ws HTTP/1.1" 101')


def test_cross_site_page_is_refused_behind_a_tls_proxy(
    proxy: NginxProxy, ca: LocalCA, backend: wstutorial.TutorialServer
) -> None:
    """Another site's https page still gets 403 through the proxy, and the event says what to do."""
    mark = backend.events.next_seq
    with pytest.raises(InvalidStatus) as refused:
        open_through_proxy(proxy, ca, "https://evil.example")
    assert refused.value.response.status_code == 403
    event = backend.events.wait_for("origin rejected", after=mark, timeout=5)
    assert event.text.startswith(
        "origin rejected 'https://evil.example' (403): a page of another origin; "
        "add it to allowed_origins only if that page is yours"
    )
    assert "proxy_set_header Host $http_host" in event.text


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"X-Forwarded-Proto": "https"}, "https"),  # nginx: $scheme
        ({"X-Forwarded-Proto": "https,ws"}, "https"),  # Binder: the ingress, then JupyterHub's proxy appends ws
        ({"X-Forwarded-Proto": "wss"}, "https"),  # JupyterHub's proxy holding the certificate itself
        ({"X-Scheme": "http"}, "http"),
        ({"Forwarded": 'for=1.2.3.4;proto="https", for=10.0.0.1;proto=http'}, "https"),
        ({"X-Forwarded-Proto": "gopher"}, None),
        ({}, None),
    ],
)
def test_forwarded_scheme_is_the_browser_side(headers: dict[str, str], expected: str | None) -> None:
    """The scheme the browser used is the first entry a chain of proxies wrote down."""
    assert forwarded_scheme(headers) == expected


def test_forwarded_scheme_decides_the_page_port() -> None:
    """Behind a TLS proxy (scheme https) Host 'proxy.test' is port 443: its https page passes, its http page and other sites do not."""
    hub = Hub(EventLog())
    assert hub.origin_allowed(f"https://{NAME}", NAME, "https")
    assert not hub.origin_allowed(f"http://{NAME}", NAME, "https")
    assert not hub.origin_allowed("https://evil.example", NAME, "https")
    assert not hub.origin_allowed(f"https://{NAME}", NAME, "https", "cross-site")


def test_advice_for_a_proxy_that_does_not_say_https() -> None:
    """A TLS proxy without X-Forwarded-Proto: the refusal says to send it, or to list the page's origin."""
    advice = origin_advice(f"https://{NAME}", NAME, scheme="http", forwarded=False)
    assert "X-Forwarded-Proto" in advice and f"add 'https://{NAME}' to allowed_origins" in advice
