"""Checking host, port and path as people type them, and building URLs.

Shared by the command line, the Python client and the notebook panel, so a
bad value gets the same sentence everywhere.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
import urllib.parse

from .errors import Explained

__all__ = [
    "listening_in_this_process",
    "listening_sockets",
    "DEFAULT_PORT",
    "PORT_VARIABLE",
    "default_port",
    "nearby_free_port",
    "port_is_free",
    "free_port",
    "InvalidAddress",
    "LOOPBACK_NAMES",
    "is_loopback",
    "lan_addresses",
    "parse_host",
    "parse_path",
    "parse_port",
    "check_ws_url",
    "ws_url",
]

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


class InvalidAddress(Explained, ValueError):
    """A host, port or path that cannot be used; the message says why and what to do."""


def parse_port(value: object, *, allow_zero: bool = True) -> int:
    """Return ``value`` as a port number, or raise :class:`InvalidAddress`.

    Accepts ints and strings of digits (surrounding spaces are ignored).
    """
    text = str(value).strip()
    lowest = 0 if allow_zero else 1
    if isinstance(value, bool) or not text.isdigit():
        raise InvalidAddress(
            f"port must be a whole number from {lowest} to 65535, got {text!r}"
            + (" (use 0 to pick a free port)" if allow_zero else "")
        )
    port = int(text)
    if not lowest <= port <= 65535:
        raise InvalidAddress(f"port must be from {lowest} to 65535, got {port}")
    return port


def parse_host(value: object) -> str:
    """Return a cleaned host name or address, or raise :class:`InvalidAddress`."""
    host = str(value).strip()
    if not host:
        raise InvalidAddress("host is empty: type a host name such as 'localhost' or an address such as '127.0.0.1'")
    if any(ch in host for ch in "/?#@ \t"):
        raise InvalidAddress(f"host must be a name or address only, got {host!r} (no scheme, path or spaces)")
    return host


def parse_path(value: object) -> str:
    """Return a URL path that starts with ``/``, or raise :class:`InvalidAddress`."""
    path = str(value).strip()
    if not path.startswith("/"):
        raise InvalidAddress(f"uri must start with '/', got {path!r} (for example '/ws')")
    if any(ch.isspace() for ch in path):
        raise InvalidAddress(f"uri must not contain spaces, got {path!r}")
    return path


def ws_url(host: object, port: object, path: object = "/ws", *, secure: bool = False) -> str:
    """Build ``ws://host:port/path`` from the three fields of the tutorial's page."""
    host_text = parse_host(host)
    if ":" in host_text and not host_text.startswith("["):
        host_text = f"[{host_text}]"  # an IPv6 address needs brackets in a URL
    scheme = "wss" if secure else "ws"
    return f"{scheme}://{host_text}:{parse_port(port, allow_zero=False)}{parse_path(path)}"


def check_ws_url(url: object) -> str:
    """Return ``url`` if it is a usable ``ws://host:port/path`` address, or raise :class:`InvalidAddress`.

    Host, port and path get the same checks, and sentences, as the three
    fields of :func:`ws_url`.
    """
    text = url.strip() if isinstance(url, str) else ""
    if not text.startswith(("ws://", "wss://")):
        raise InvalidAddress(
            f"a WebSocket URL starts with ws:// or wss://, got {url!r} (for example 'ws://localhost:8888/ws')"
        )
    parts = urllib.parse.urlsplit(text)
    host, colon, port = parts.netloc.rpartition(":")
    if not colon or parts.netloc.endswith("]"):  # no port given, or a bare [IPv6] address
        host, port = parts.netloc, ""
    parse_host(host.strip("[]"))
    if colon and not parts.netloc.endswith("]"):
        parse_port(port, allow_zero=False)
    if parts.path:
        parse_path(parts.path)
    return text


def is_loopback(host: str) -> bool:
    """True for names and addresses that only this machine can reach."""
    host = host.strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def lan_addresses() -> list[str]:
    """This machine's non-loopback IPv4 addresses, as students on the network would type them.

    Asks the local resolver, then the routing table; sends nothing on the network.
    """
    found: list[str] = []
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        infos = []
    candidates = [str(info[4][0]) for info in infos]
    # Many machines map their own name to 127.0.x.1 only. "Connecting" a UDP
    # socket sends no packet but makes the kernel pick the address it would
    # send from: the one the network knows this machine by.
    for probe in ("10.254.254.254", "192.168.254.254", "172.31.254.254"):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            try:
                udp.connect((probe, 9))
                candidates.append(str(udp.getsockname()[0]))
            except OSError:
                continue  # no route there
    for address in candidates:
        if not is_loopback(address) and address != "0.0.0.0" and address not in found:
            found.append(address)
    return found


DEFAULT_PORT = 8888
PORT_VARIABLE = "WSTUTORIAL_PORT"


def _probe(host: str) -> socket.socket:
    """An unbound TCP socket for ``host`` (IPv6 for an IPv6 address), set up as Tornado's ``bind_sockets`` does.

    ``SO_REUSEADDR`` on POSIX only, as Tornado: there it lets a server bind
    a port whose old connections are still in TIME_WAIT, so those do not
    count as in use; on Windows it would let two servers share a port.
    """
    probe = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    if os.name != "nt":
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    return probe


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (the system's pick), e.g. for a program started next.

    Another program may take it in between: a server you start yourself
    should use ``port=0`` and read its ``.port`` instead.
    """
    with _probe(host) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when nothing listens on ``port`` (a server could bind it now)."""
    with _probe(host) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
        return True


def nearby_free_port(port: int | None = None, host: str = "127.0.0.1", tries: int = 20) -> int:
    """``port`` (default: :func:`default_port`) if it is free, else the first free one after it.

    What ``start_server()`` does when another notebook's server holds the
    default port, for a program a notebook starts itself (say, with
    ``run_program``). Falls back to the system's pick after ``tries`` ports.
    """
    wanted = default_port() if port is None else parse_port(port)
    for candidate in range(wanted, min(wanted + tries + 1, 65536)):
        if candidate and port_is_free(candidate, host):
            return candidate
    return free_port(host)


def default_port() -> int:
    """The port ``start_server()`` uses when none is given: $WSTUTORIAL_PORT, else 8888.

    Tests and a class with several tutorials on one machine set the variable
    so that the notebooks' ``start_server()`` cells need no change.
    """
    value = os.environ.get(PORT_VARIABLE)
    if value is None or not value.strip():
        return DEFAULT_PORT
    try:
        return parse_port(value)
    except InvalidAddress as error:
        raise InvalidAddress(f"${PORT_VARIABLE}: {error}") from None


def listening_sockets(port: int) -> list[tuple[str, str]]:
    """``(address, inode)`` of each socket listening on ``port`` on this machine (Linux; ``[]`` elsewhere).

    Read from the kernel's socket tables, ``/proc/net/tcp`` and ``tcp6``.
    """
    return _listening_sockets_linux(port) if sys.platform.startswith("linux") else []


def _listening_sockets_linux(port: int) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for table, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        try:
            with open(table) as rows:
                lines = rows.readlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            address_hex, port_hex = fields[1].split(":")
            if len(fields) <= 9 or fields[3] != "0A" or int(port_hex, 16) != port:  # 0A: LISTEN
                continue
            raw = bytes.fromhex(address_hex)
            # The kernel prints each 32-bit word in host (little-endian) order.
            raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            found.append((socket.inet_ntop(family, raw), fields[9]))
    return found


def listening_in_this_process(port: int) -> bool:
    """True when this very process has a socket listening on ``port`` (Linux; False where it cannot tell)."""
    return _listening_in_this_process_linux(port) if sys.platform.startswith("linux") else False


def _listening_in_this_process_linux(port: int) -> bool:
    """Looks for a listening socket's inode among this process's open files."""
    inodes = {inode for _, inode in _listening_sockets_linux(port)}
    if not inodes:
        return False
    wanted = {f"socket:[{inode}]" for inode in inodes}
    try:
        fds = os.listdir("/proc/self/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"/proc/self/fd/{fd}") in wanted:
                return True
        except OSError:
            continue  # closed meanwhile (the listing's own descriptor is one)
    return False
