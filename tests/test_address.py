"""Checking host, port and path as people type them."""

from __future__ import annotations

import socket

import pytest
from tornado.netutil import bind_sockets

from wstutorial.address import (
    InvalidAddress,
    free_port,
    is_loopback,
    nearby_free_port,
    parse_host,
    parse_path,
    parse_port,
    port_is_free,
    ws_url,
)


@pytest.mark.parametrize("value, expected", [("8888", 8888), (" 80 ", 80), (0, 0), (65535, 65535)])
def test_parse_port_accepts_numbers(value: object, expected: int) -> None:
    """Digits, with or without spaces, from 0 to 65535."""
    assert parse_port(value) == expected


@pytest.mark.parametrize("value", ["abc", "", "-1", "70000", "8888.5", True, None])
def test_parse_port_names_the_bad_value(value: object) -> None:
    """A bad port is refused with a message that quotes it."""
    with pytest.raises(InvalidAddress, match="port must") as raised:
        parse_port(value)
    assert str(value).strip() in str(raised.value)


def test_parse_host_and_path() -> None:
    """Empty hosts, hosts with a scheme and paths without '/' are refused."""
    assert parse_host(" localhost ") == "localhost"
    with pytest.raises(InvalidAddress, match="host is empty"):
        parse_host("  ")
    with pytest.raises(InvalidAddress, match="ws://localhost"):
        parse_host("ws://localhost")
    assert parse_path("/ws") == "/ws"
    with pytest.raises(InvalidAddress, match="must start with '/'"):
        parse_path("ws")


def test_ws_url_from_the_three_fields() -> None:
    """host, port and uri make the URL, as on the original page."""
    assert ws_url("localhost", "8888", "/ws") == "ws://localhost:8888/ws"
    assert ws_url("::1", 8888, "/echo") == "ws://[::1]:8888/echo"
    with pytest.raises(InvalidAddress, match="from 1 to 65535"):
        ws_url("localhost", 0, "/ws")


def test_is_loopback() -> None:
    """localhost, 127.x and ::1 only reach this machine."""
    assert is_loopback("localhost") and is_loopback("127.0.0.2") and is_loopback("[::1]")
    assert not is_loopback("0.0.0.0") and not is_loopback("example.org")


@pytest.mark.parametrize(
    "host, port, uri, named",
    [
        ("", "8888", "/ws", "host is empty"),
        ("localhost", "abc", "/ws", "'abc'"),
        ("localhost", "70000", "/ws", "70000"),
        ("localhost", "-1", "/ws", "'-1'"),
        ("localhost", "0", "/ws", "from 1 to 65535"),
        ("localhost", "8888", "ws", "'ws'"),
        ("http://localhost", "8888", "/ws", "'http://localhost'"),
    ],
)
def test_ws_url_refuses_bad_fields_with_a_sentence(host: str, port: str, uri: str, named: str) -> None:
    """Each bad field of the panel gives InvalidAddress naming the value."""
    with pytest.raises(InvalidAddress) as raised:
        ws_url(host, port, uri)
    assert named in str(raised.value)


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_free_port_and_port_is_free_on_ipv4_and_ipv6(host: str) -> None:
    """The one port helper: a free port binds; one that a socket listens on is not free, on IPv6 as on IPv4."""
    port = free_port(host)
    assert port_is_free(port, host)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as held:
        held.bind((host, port))
        held.listen()
        assert not port_is_free(port, host)
        assert nearby_free_port(port, host) != port


def test_a_port_with_connections_in_time_wait_is_free_as_for_tornado() -> None:
    """A server's old connections (TIME_WAIT after the server closed first) do not keep its port in use for bind_sockets."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = listener.accept()
        accepted.close()  # the server's side closes first: its end waits in TIME_WAIT
        client.close()
    assert port_is_free(port)
    bind_sockets(port, "127.0.0.1")[0].close()  # and Tornado agrees
