"""What several test modules share (fixtures stay in conftest.py).

``free_port``, ``wait_until`` (let an event loop run until a condition
holds, bounded), ``rss_bytes`` and ``open_fds`` (this process's memory and
file descriptors), and clients that misbehave on purpose, for the
reliability and security tests:

``RawClient`` speaks WebSocket through the ``websockets`` library's sans-I/O
protocol over a plain blocking socket, so a test decides exactly what goes on
the wire and when (or whether) anything is read: it can send text that is not
UTF-8, never answer pings, stop reading, or vanish with a TCP reset.
``raw_http_get`` sends a request line exactly as written, without the
normalisation (``..`` removal) real HTTP clients do.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

from websockets.client import ClientProtocol
from websockets.extensions.permessage_deflate import enable_client_permessage_deflate
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.protocol import State
from websockets.uri import parse_uri

from wstutorial.address import free_port, listening_sockets

__all__ = [
    "ROOT",
    "free_port", "stop_process", "wait_until", "poll_until", "rss_bytes", "open_fds", "child_processes", "RawClient",
    "MASK", "frame", "close_frame", "plain_http_server", "raw_clients", "tracked_objects_made_by", "raw_http_get", "listening_addresses", "next_json",
    "results_by_name", "FakeClock",
    "Running",
]

# The checkout: the folder that holds tests/, wstutorial/, notebooks/ and static/.
ROOT = Path(__file__).resolve().parent.parent


def stop_process(process: subprocess.Popen[Any], timeout: float = 30.0) -> None:
    """Ask ``process`` to stop (SIGTERM: it may stop its own children), and kill it after ``timeout`` s."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def results_by_name(board: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """A board message's rows (a list, as the teacher's page gets it) as ``{name: {exercise: {"passed", "reason"}}}``."""
    return {
        row["name"]: {result["exercise"]: {"passed": result["passed"], "reason": result["reason"]} for result in row["results"]}
        for row in board["students"]
    }


async def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the running loop work (batches, reads) until ``condition()`` holds; fail after ``timeout`` s.

    For state that lives on the test's own loop; events of a server use
    ``server.events.wait_for(...)`` instead.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"condition not reached within {timeout} s"
        await asyncio.sleep(0.01)


def poll_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Check ``condition()`` from a plain (non-async) test until it holds; fail after ``timeout`` s.

    For state with no event to wait for (e.g. the hub's count of connections,
    read with ``server.call``).
    """
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"condition not reached within {timeout} s"
        time.sleep(0.02)


def next_json(websocket: Any, kind: str, *, containing: str = "", timeout: float = 15.0) -> dict[str, Any]:
    """The next JSON message of type ``kind`` (whose ``text`` contains ``containing``) from a ``websockets`` sync client, skipping others.

    Fails (``TimeoutError``) after ``timeout`` seconds in all.
    """

    deadline = time.monotonic() + timeout
    while True:
        message = json.loads(websocket.recv(timeout=max(0.01, deadline - time.monotonic())))
        if message.get("type") == kind and containing in str(message.get("text", "")):
            return message


def rss_bytes() -> int:
    """Resident memory of this process (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def child_processes(name: str) -> list[int]:
    """The pids of this process's running children called ``name`` (Linux: read from /proc)."""
    me = os.getpid()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                text = stat.read()
        except OSError:
            continue  # ended meanwhile
        # "pid (comm) state ppid ...": comm may hold spaces, so split after its closing parenthesis.
        comm = text[text.index("(") + 1 : text.rindex(")")]
        state, ppid = text[text.rindex(")") + 2 :].split()[:2]
        if comm == name and int(ppid) == me and state != "Z":
            found.append(int(entry))
    return found


def open_fds() -> int:
    """How many file descriptors this process has open (Linux)."""
    return len(os.listdir("/proc/self/fd"))


class RawClient:
    """A WebSocket client on a plain socket; nothing happens unless the test asks."""

    def __init__(
        self,
        url: str,
        *,
        origin: str | None = None,
        headers: dict[str, str] | None = None,
        receive_buffer: int | None = None,
        timeout: float = 10.0,
        compression: bool = False,
    ) -> None:
        uri = parse_uri(url)
        # compression: offer permessage-deflate as the websockets library does by default.
        extensions = enable_client_permessage_deflate(None) if compression else None
        self.protocol = ClientProtocol(uri, origin=origin, max_size=None, extensions=extensions)  # type: ignore[arg-type]
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if receive_buffer is not None:
            # Before connect, so the window the server sees is small from the start.
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.settimeout(timeout)
        self.sock.connect((uri.host, uri.port))
        request = self.protocol.connect()
        for name, value in (headers or {}).items():
            request.headers[name] = value
        self.protocol.send_request(request)
        self.flush()
        self.frames: list[Frame] = []
        while self.protocol.state is State.CONNECTING:
            self.feed()
        self.response: Response | None = None
        for event in self.protocol.events_received():
            if isinstance(event, Response):
                self.response = event
            else:
                self.frames.append(event)
        if self.protocol.handshake_exc is not None:
            self.sock.close()
            raise self.protocol.handshake_exc

    def flush(self) -> None:
        """Send whatever the protocol has queued (requests, frames, pongs)."""
        for data in self.protocol.data_to_send():
            if data:
                self.sock.sendall(data)

    def feed(self) -> bool:
        """Read once from the socket into the protocol (answering pings); False at EOF."""
        data = self.sock.recv(65536)
        if data:
            self.protocol.receive_data(data)
        else:
            self.protocol.receive_eof()
        self.flush()
        return bool(data)

    def send_text_bytes(self, data: bytes) -> None:
        """Send ``data`` in a text frame exactly as given, valid UTF-8 or not."""
        self.protocol.send_text(data)
        self.flush()

    def send_binary(self, data: bytes) -> None:
        self.protocol.send_binary(data)
        self.flush()

    def receive(self) -> Frame:
        """The next data frame (text or binary), reading as needed."""
        while True:
            while self.frames:
                frame = self.frames.pop(0)
                if frame.opcode in (Opcode.TEXT, Opcode.BINARY):
                    return frame
            if self.protocol.state is State.CLOSED:
                raise ConnectionError(f"closed with {self.protocol.close_code}")
            if not self.feed() and not self._collect():
                raise ConnectionError(f"closed with {self.protocol.close_code}")
            self._collect()

    def _collect(self) -> bool:
        events = self.protocol.events_received()
        self.frames.extend(event for event in events if isinstance(event, Frame))
        return bool(events)

    def wait_closed(self) -> int | None:
        """Read until the server closes; return the close code it sent (None: no close frame)."""
        while self.protocol.state is not State.CLOSED:
            try:
                if not self.feed():
                    break
            except (ConnectionResetError, socket.timeout):
                break
        self._collect()
        return self.protocol.close_rcvd.code if self.protocol.close_rcvd is not None else None

    def reset(self) -> None:
        """Vanish with a TCP reset (SO_LINGER 0, then close), as a killed client does."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> "RawClient":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


# A client's frames carry a mask (RFC 6455 section 5.3); this one is any four bytes.
MASK = b"\x37\xfa\x21\x3d"


def frame(opcode: int, payload: bytes = b"", *, fin: bool = True, rsv: int = 0, masked: bool = True) -> bytes:
    """One client frame exactly as given: any opcode, any RSV bits, masked or not."""
    head = bytes([(0x80 if fin else 0) | rsv | opcode])
    mask_bit = 0x80 if masked else 0
    size = len(payload)
    if size < 126:
        head += bytes([mask_bit | size])
    elif size < 1 << 16:
        head += bytes([mask_bit | 126]) + struct.pack("!H", size)
    else:
        head += bytes([mask_bit | 127]) + struct.pack("!Q", size)
    if not masked:
        return head + payload
    return head + MASK + bytes(b ^ MASK[i % 4] for i, b in enumerate(payload))


def close_frame(payload: bytes) -> bytes:
    return frame(0x8, payload)


@contextlib.contextmanager
def plain_http_server(body: bytes) -> Iterator[int]:
    """Another program's web server on a free loopback port (yielded): ``body`` at every path, no WebSocket."""

    class AnyPage(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), AnyPage)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def raw_clients(server: Any, count: int) -> list[socket.socket]:
    """``count`` WebSocket clients on ``/echo`` as bare sockets: they parse nothing (so allocate nothing) in this process."""
    sockets = [socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(count)]
    for sock in sockets:
        sock.sendall(
            f"GET /echo HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
    for sock in sockets:
        assert sock.recv(4096).startswith(b"HTTP/1.1 101")
    return sockets


def tracked_objects_made_by(function: Any) -> Any:
    """Run ``function``; return its result and how many objects the collector tracks that it left."""
    import gc

    gc.disable()  # so that no collection resets the count during the call
    try:
        before = gc.get_count()[0]
        result = function()
        return result, gc.get_count()[0] - before
    finally:
        gc.enable()


def raw_http_get(port: int, target: str, *, host: str = "127.0.0.1", timeout: float = 10.0) -> tuple[int, bytes]:
    """Send ``GET <target>`` exactly as written; return (status, body)."""
    with socket.create_connection((host, port), timeout) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode("latin-1"))
        chunks = []
        while True:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
    reply = b"".join(chunks)
    head, _, body = reply.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
    return status, body


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a socket in LISTEN state on ``port`` (the kernel's tables, as the package reads them)."""
    return {address for address, _ in listening_sockets(port)}


class FakeClock:
    """A clock the test moves by hand: no sleeping, no timing."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Running:
    """``python -m wstutorial COMMAND ARGS...`` (serve, classroom) running until interrupted; its lines, read as printed."""

    def __init__(self, command: str, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "wstutorial", command, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ, PYTHONUNBUFFERED="1"),
        )
        self.lines: list[str] = []
        assert self.process.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                raise AssertionError(f"{command} ended early: {self.lines} {self.process.stderr.read()}")  # type: ignore[union-attr]
            self.lines.append(line.rstrip("\n"))
            if "Press Ctrl-C" in line:
                return
        raise AssertionError(f"{command} did not start: {self.lines}")

    def wait_for_line(self, text: str, timeout: float = 30) -> str:
        """Read the printed events until a line contains ``text`` (the server prints each as it happens)."""
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            self.lines.append(line.rstrip("\n"))
            if text in line:
                return line
        raise AssertionError(f"no line with {text!r}: {self.lines[-5:]}")

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def __enter__(self) -> "Running":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        """Kill it if the test did not interrupt it: a failed test leaves no server running."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()

    def interrupt(self) -> tuple[int, str]:
        """Ctrl-C; returns the exit code and everything printed (also the lines read so far)."""
        self.process.send_signal(signal.SIGINT)
        out, err = self.process.communicate(timeout=30)
        return self.process.returncode, "\n".join(self.lines) + "\n" + out + err
