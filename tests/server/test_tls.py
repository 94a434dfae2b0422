"""wss:// for real: a TLS server with a certificate authority made on this machine (notebook 08)."""

from __future__ import annotations

import asyncio
from typing import Iterator

import pytest
from websockets.sync.client import connect as websockets_connect

import wstutorial
from wstutorial.server.tls import LocalCA


@pytest.fixture(scope="module")
def ca() -> LocalCA:
    return LocalCA()


@pytest.fixture
def tls_server(ca: LocalCA) -> Iterator[wstutorial.TutorialServer]:
    running = wstutorial.start_server(port=0, ssl_context=ca.server_context())
    try:
        yield running
    finally:
        running.stop()


def test_wss_with_a_trusted_ca(ca: LocalCA, tls_server: wstutorial.TutorialServer) -> None:
    """The server's addresses are https:// and wss://; a client trusting the CA gets Hello World."""
    assert tls_server.url.startswith("https://127.0.0.1:")
    assert tls_server.ws_url("/ws").startswith("wss://127.0.0.1:")

    async def run() -> str | bytes:
        async with await wstutorial.connect(tls_server.ws_url("/ws"), ssl_context=ca.client_context()) as client:
            return await client.receive(timeout=5)

    assert asyncio.run(run()) == "Hello World"


def test_websockets_library_over_tls(ca: LocalCA, tls_server: wstutorial.TutorialServer) -> None:
    """An independent client (websockets) trusting the same CA talks to /echo over wss://."""
    with websockets_connect(tls_server.ws_url("/echo"), ssl=ca.client_context()) as client:
        client.send("secret")
        assert client.recv(timeout=5) == "secret"


def test_untrusted_certificate_is_explained(tls_server: wstutorial.TutorialServer) -> None:
    """Without the CA, the client refuses the certificate, and says what to pass."""
    with pytest.raises(wstutorial.ConnectionFailed, match="certificate is not trusted.*ssl_context="):
        asyncio.run(wstutorial.connect(tls_server.ws_url("/ws")))


def test_another_ca_is_not_trusted(tls_server: wstutorial.TutorialServer) -> None:
    """Trusting some other local CA is not enough: only the one that signed the certificate counts."""
    with pytest.raises(wstutorial.ConnectionFailed, match="certificate is not trusted"):
        asyncio.run(wstutorial.connect(tls_server.ws_url("/ws"), ssl_context=LocalCA().client_context()))


def test_plain_ws_to_a_tls_server_fails(tls_server: wstutorial.TutorialServer) -> None:
    """ws:// (no TLS) to a TLS server fails in the handshake with a sentence, not a hang."""
    with pytest.raises(wstutorial.ConnectionFailed, match="during the handshake"):
        asyncio.run(wstutorial.connect(tls_server.ws_url("/ws").replace("wss://", "ws://"), timeout=5))


def test_ca_certificate_can_be_saved(ca: LocalCA, tmp_path: pytest.TempPathFactory) -> None:
    """The CA's certificate is PEM, for curl --cacert or a browser's trust store."""
    path = ca.write_pem(tmp_path / "ca.pem")  # type: ignore[operator]
    assert path.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
