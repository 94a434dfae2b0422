"""Malformed upgrade requests are refused and leave nothing behind (issue 15, item 1).

Each bad request is sent on a raw socket exactly as written; afterwards the
server must still list, broadcast to and stop its good clients, which get
1001 (going away) on stop.
"""

from __future__ import annotations

import socket

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

import wstutorial

KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455's example key


def request(port: int, lines: list[str], *, version: str = "HTTP/1.1", method: str = "GET") -> bytes:
    head = f"{method} /ws {version}\r\n" + "".join(f"{line}\r\n" for line in lines) + "\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.encode("latin-1"))
        chunks = []
        while True:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            chunks.append(data)
            if b"\r\n\r\n" in b"".join(chunks) and version == "HTTP/1.1":
                break
    return b"".join(chunks)


def upgrade_headers(port: int, *, drop: str = "", **replace: str) -> list[str]:
    headers = {
        "Host": f"127.0.0.1:{port}",
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": KEY,
        "Sec-WebSocket-Version": "13",
    }
    headers.update({name.replace("_", "-"): value for name, value in replace.items()})
    return [f"{name}: {value}" for name, value in headers.items() if name != drop]


MALFORMED = {
    "missing key": lambda port: request(port, upgrade_headers(port, drop="Sec-WebSocket-Key")),
    "empty key": lambda port: request(port, upgrade_headers(port, Sec_WebSocket_Key="")),
    "key not base64": lambda port: request(port, upgrade_headers(port, Sec_WebSocket_Key="not a key!")),
    "key of 4 bytes": lambda port: request(port, upgrade_headers(port, Sec_WebSocket_Key="AAAAAA==")),
    "wrong version": lambda port: request(port, upgrade_headers(port, Sec_WebSocket_Version="8")),
    "missing version": lambda port: request(port, upgrade_headers(port, drop="Sec-WebSocket-Version")),
    "missing Host": lambda port: request(port, upgrade_headers(port, drop="Host")),
    "POST": lambda port: request(port, upgrade_headers(port), method="POST"),
    "HTTP/1.0": lambda port: request(port, upgrade_headers(port), version="HTTP/1.0"),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_handshake_is_refused_and_stop_closes_good_clients_with_1001(name: str) -> None:
    server = wstutorial.start_server(port=0)
    try:
        with connect(server.ws_url("/echo"), open_timeout=10) as good:
            for _ in range(3):
                reply = MALFORMED[name](server.port)
                status = reply.split(b" ", 2)[1] if reply.startswith(b"HTTP/") else b""
                assert status in (b"400", b"403", b"405", b"426"), (name, reply[:200])
            assert server.clients() == ["client-1"]
            assert server.broadcast("/echo", "still here") == 1
            assert good.recv(timeout=10) == "still here"
            assert server.stop() == 1
            with pytest.raises(ConnectionClosed):
                good.recv(timeout=10)
            assert good.close_code == 1001
    finally:
        server.stop()
