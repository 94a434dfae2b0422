"""A real nginx (Debian's) in front of the server, with the repository's configuration (notebook 08)."""

from __future__ import annotations

import asyncio
import json
from typing import Iterator

import pytest
from websockets.sync.client import connect as websockets_connect

import wstutorial
from helpers import child_processes
from wstutorial.server.tls import LocalCA
from wstutorial.server.whoami import WhoAmIHandler
from wstutorial.services.nginxproxy import NginxProxy, check_config, render_config, start_nginx


@pytest.fixture
def backend() -> Iterator[wstutorial.TutorialServer]:
    """The server behind the proxy: loopback only, believing the proxy's X- headers."""
    running = wstutorial.start_server(port=0, handlers={"/whoami": WhoAmIHandler}, xheaders=True)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def proxy(backend: wstutorial.TutorialServer) -> Iterator[NginxProxy]:
    running = start_nginx(backend.port)
    try:
        yield running
    finally:
        running.stop()


def receive_one(url: str, **options: object) -> str | bytes:
    async def run() -> str | bytes:
        async with await wstutorial.connect(url, **options) as client:  # type: ignore[arg-type]
            return await client.receive(timeout=5)

    return asyncio.run(run())


def test_configuration_passes_nginx_t() -> None:
    """nginx -t accepts deploy/nginx/wstutorial.conf as filled in."""
    assert "test is successful" in check_config()


def test_configuration_passes_on_the_upgrade() -> None:
    """The configuration sends Upgrade/Connection on with HTTP/1.1, the Host, X-Real-IP, X-Forwarded-*, a read timeout."""
    text = render_config("/tmp/x", "127.0.0.1:1", "127.0.0.1:2", read_timeout="90s")
    for line in (
        "proxy_http_version 1.1;",
        "proxy_set_header Upgrade $http_upgrade;",
        "proxy_set_header Connection $connection_upgrade;",
        "proxy_set_header Host $http_host;",
        "proxy_set_header X-Real-IP $remote_addr;",
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
        "proxy_read_timeout 90s;",
        "least_conn;",
        "server 127.0.0.1:2;",
    ):
        assert line in text
    with pytest.raises(ValueError, match="read_timeout"):
        render_config("/tmp/x", "127.0.0.1:1", "127.0.0.1:2", read_timeout="1 hour")


def test_websocket_through_nginx(proxy: NginxProxy, backend: wstutorial.TutorialServer) -> None:
    """A browser-like client (Origin = the proxy's page) reaches /ws through nginx; nginx logs a 101."""
    assert receive_one(proxy.ws_url("/ws"), origin=proxy.url.rstrip("/")) == "Hello World"
    assert proxy.wait_for_log('"GET /ws HTTP/1.1" 101').startswith("127.0.0.1 - - [")


def test_websockets_library_through_nginx(proxy: NginxProxy) -> None:
    """An independent client (websockets) echoes through nginx."""
    with websockets_connect(proxy.ws_url("/echo")) as client:
        client.send("through the proxy")
        assert client.recv(timeout=5) == "through the proxy"


def test_server_believes_nginx_not_the_client(proxy: NginxProxy) -> None:
    """Behind nginx, a forged X-Forwarded-For is kept as a claim; the address Tornado uses is nginx's X-Real-IP."""
    seen = json.loads(receive_one(proxy.ws_url("/whoami"), headers={"X-Forwarded-For": "6.6.6.6"}))
    assert seen["remote_ip"] == "127.0.0.1"
    assert seen["headers"]["X-Forwarded-For"] == "6.6.6.6, 127.0.0.1"
    assert seen["protocol"] == "http"
    assert seen["host"] == f"127.0.0.1:{proxy.port}"


def test_xheaders_without_a_proxy_believe_anyone(backend: wstutorial.TutorialServer) -> None:
    """Why xheaders need a proxy in front: reached directly, the server believes any client's claim."""
    seen = json.loads(receive_one(backend.ws_url("/whoami"), headers={"X-Forwarded-For": "6.6.6.6", "X-Forwarded-Proto": "https"}))
    assert (seen["remote_ip"], seen["protocol"]) == ("6.6.6.6", "https")


def raw_upgrade(port: int, host: str, **headers: str) -> bytes:
    """What comes back for a WebSocket handshake that says ``Host: host`` (b"" when the connection is closed unanswered)."""
    import socket

    from wstutorial.teaching.handshake import new_key

    extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    request = (
        f"GET /ws HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {new_key()}\r\nSec-WebSocket-Version: 13\r\nOrigin: http://{host}\r\n{extra}\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request.encode())
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    return answer


def test_a_rebinding_page_gets_no_answer_from_nginx(proxy: NginxProxy, backend: wstutorial.TutorialServer) -> None:
    """A DNS-rebinding page's handshake (Host: evil.example) through nginx: closed unanswered (444), nothing reaches Tornado."""
    mark = backend.events.next_seq
    assert raw_upgrade(proxy.port, f"evil.example:{proxy.port}") == b""
    assert raw_upgrade(proxy.port, f"127.0.0.1:{proxy.port}").startswith(b"HTTP/1.1 101")
    assert proxy.wait_for_log('"GET /ws HTTP/1.1" 444')
    assert not [event for event in backend.events.snapshot(after=mark) if "evil.example" in event.text]


def test_proxy_headers_do_not_exempt_from_the_host_check(backend: wstutorial.TutorialServer) -> None:
    """With xheaders on, the Host a proxy passes is still checked: a foreign name behind any proxy header gets 403."""
    for header, value in [("X-Forwarded-For", "192.0.2.7"), ("X-Real-IP", "192.0.2.7"), ("Forwarded", "for=192.0.2.7")]:
        assert raw_upgrade(backend.port, f"evil.example:{backend.port}", **{header: value}).startswith(b"HTTP/1.1 403"), header
    backend.events.wait_for("request for Host 'evil.example", timeout=5)


def test_server_names_are_checked() -> None:
    """render_config takes host names only: nothing that could end the directive."""
    assert "server_name classroom.example.org;" in render_config("/tmp/x", "127.0.0.1:1", "127.0.0.1:2", server_names=["classroom.example.org"])
    for bad in (["a; return 200"], [], ["a b"]):
        with pytest.raises(ValueError, match="server_names"):
            render_config("/tmp/x", "127.0.0.1:1", "127.0.0.1:2", server_names=bad)


def test_read_timeout_closes_a_quiet_connection() -> None:
    """nginx closes a proxied WebSocket on which the server sent nothing for proxy_read_timeout; pings keep it open."""
    quiet = wstutorial.start_server(port=0, ping_interval=None)
    # Pings four times per read timeout, each answered within its interval: margins a loaded machine
    # keeps (at 0.2 s a pong through nginx came too late at load 15, and the server closed the connection).
    pinging = wstutorial.start_server(port=0, ping_interval=0.5)
    # replace=False: two at once (a second start_nginx would otherwise stop the first).
    proxies = [start_nginx(quiet.port, read_timeout="2s", replace=False), start_nginx(pinging.port, read_timeout="2s", replace=False)]

    async def run() -> tuple[int | None, bool]:
        to_quiet = await wstutorial.connect(proxies[0].ws_url("/echo"))
        to_pinging = await wstutorial.connect(proxies[1].ws_url("/echo"))
        try:
            with pytest.raises(wstutorial.ConnectionClosed):
                await to_quiet.receive(timeout=10)
            with pytest.raises(TimeoutError):
                await to_pinging.receive(timeout=3)  # well past the timeout: still open
            await to_pinging.send("still there")
            assert await to_pinging.receive(timeout=5) == "still there"
            return to_quiet.close_code, to_pinging.closed
        finally:
            await to_pinging.close()

    try:
        code, closed = asyncio.run(run())
    finally:
        for proxy in proxies:
            proxy.stop()
        quiet.stop()
        pinging.stop()
    assert code != 1000 and not closed


def test_nginx_terminates_tls(backend: wstutorial.TutorialServer) -> None:
    """wss:// to nginx (certificate from a local CA), ws:// to Tornado; X-Forwarded-Proto tells Tornado it was https."""
    ca = LocalCA()
    proxy = start_nginx(backend.port, certificate=ca.issue())
    try:
        assert proxy.ws_url("/whoami").startswith("wss://")
        seen = json.loads(receive_one(proxy.ws_url("/whoami"), ssl_context=ca.client_context()))
    finally:
        proxy.stop()
    assert (seen["protocol"], seen["headers"]["X-Forwarded-Proto"]) == ("https", "https")


def test_starting_again_replaces_the_nginx_before(backend: wstutorial.TutorialServer) -> None:
    """A re-run cell: the second start_nginx stops the first (its port refuses), one nginx runs, the repr says so."""
    first = start_nginx(backend.port)
    second = start_nginx(backend.port)
    try:
        assert child_processes("nginx") == [second.process.pid]
        assert not first.running and not first.folder.exists()
        with pytest.raises(wstutorial.ConnectionFailed, match="nothing is listening"):
            receive_one(first.ws_url("/ws"))
        assert receive_one(second.ws_url("/ws")) == "Hello World"
        assert repr(second) == (
            f"<NginxProxy 127.0.0.1:{second.port} running (replaced the nginx on 127.0.0.1:{first.port}, which is stopped)>"
        )
    finally:
        second.stop()
    assert child_processes("nginx") == []


def test_stop_frees_the_port(backend: wstutorial.TutorialServer) -> None:
    """stop() ends nginx and removes its folder."""
    proxy = start_nginx(backend.port)
    folder = proxy.folder
    proxy.stop()
    assert not proxy.running and not folder.exists()
    with pytest.raises(wstutorial.ConnectionFailed, match="nothing is listening"):
        receive_one(proxy.ws_url("/ws"))


def test_several_backends_are_listed() -> None:
    """One server line per backend (notebook 09's four processes)."""
    text = render_config("/tmp/x", "127.0.0.1:1", ["127.0.0.1:2", "127.0.0.1:3"])
    assert "server 127.0.0.1:2;" in text and "server 127.0.0.1:3;" in text
    with pytest.raises(ValueError, match="at least one server"):
        render_config("/tmp/x", "127.0.0.1:1", [])
