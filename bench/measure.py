"""The measurements: each runs against server processes started by ``ServerProcess``.

Everything here runs in the measuring process, on blocking sockets, so the
client's own cost per message is small and the same for every server.
"""

from __future__ import annotations

import json
import os
import selectors
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from . import wsclient
from .servers import PUSH_PATH

__all__ = [
    "ServerProcess",
    "baseline_kinds",
    "echo_round",
    "stream_round",
    "connect_many",
    "broadcast_once",
    "slow_client",
    "lifecycle",
    "percentile",
]

ROOT = Path(__file__).resolve().parent.parent

# A kind ending in this runs the same server from another checkout (``--baseline DIR``,
# kept in BENCH_BASELINE): the code before a change, measured side by side with it.
BASELINE_SUFFIX = "-before"


def baseline_kinds(kinds: tuple[str, ...], baseline: str | None) -> tuple[str, ...]:
    """``kinds``, plus the tutorial's two servers from the ``baseline`` checkout (set in the environment) if given."""
    if baseline is None:
        return kinds
    root = Path(baseline).resolve()
    if not (root / "wstutorial" / "__init__.py").is_file() or not (root / "bench" / "servers.py").is_file():
        raise SystemExit(f"--baseline {baseline}: not a checkout of this project (no wstutorial/ or bench/servers.py there)")
    os.environ["BENCH_BASELINE"] = str(root)
    added = tuple(f"{kind}{BASELINE_SUFFIX}" for kind in ("thread", "standalone") if kind in kinds)
    return kinds[:2] + added + kinds[2:] if kinds[:2] == ("thread", "standalone") else kinds + added


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by nearest rank."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


class ServerProcess:
    """One server of ``bench.servers`` in its own process."""

    def __init__(self, kind: str, interval: float = 1e-6, env: dict[str, str] | None = None) -> None:
        self.kind = kind
        # "thread-before": the thread server of the baseline checkout, whose
        # bench.servers and wstutorial are imported from there (the current directory
        # comes first on sys.path).
        base = kind.removesuffix(BASELINE_SUFFIX)
        root = os.environ["BENCH_BASELINE"] if base != kind else ROOT
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.servers", base, "--interval", repr(interval)],
            cwd=root,
            env=dict(os.environ, **(env or {})),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        assert self.process.stdout is not None and self.process.stdin is not None
        line = self.process.stdout.readline()
        if not line.startswith("PORT "):
            self.close()
            raise RuntimeError(f"the {kind} server did not start (it printed {line!r}); see its error above")
        self.port = int(line.split()[1])
        self.websocket = base != "tcp"

    @property
    def pid(self) -> int:
        return self.process.pid

    def connect(self, path: str, rcvbuf: int | None = None, deflate: bool = False) -> socket.socket:
        return wsclient.connect(self.port, path, websocket=self.websocket, rcvbuf=rcvbuf, deflate=deflate)

    def broadcast(self, text: str) -> None:
        """Ask the server to broadcast ``text`` to its /echo clients (returns once asked)."""
        assert self.process.stdin is not None
        self.process.stdin.write(f"broadcast {text}\n")
        self.process.stdin.flush()

    def broadcast_reply(self) -> int:
        assert self.process.stdout is not None
        return int(self.process.stdout.readline().split()[1])

    def stats(self) -> dict[str, float]:
        """The server's memory and garbage-collector pauses since the last call (see ``bench.servers``)."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("stats\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line.startswith("stats "):
            raise RuntimeError(f"the {self.kind} server answered {line!r} to stats")
        return json.loads(line[6:])

    def settle(self) -> int:
        """Run a full collection in the server; how many objects its collector tracks (see ``bench.servers``)."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("settle\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line.startswith("settled "):
            raise RuntimeError(f"the {self.kind} server answered {line!r} to settle")
        return int(line.split()[1])

    def rss(self) -> int:
        """The server process's resident memory, in bytes."""
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError(f"no VmRSS for process {self.pid}")

    def close(self) -> None:
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


def echo_round(server: ServerProcess, messages: int, payload: bytes = b"hello", deflate: bool = False) -> float:
    """Median round trip (seconds) of ``messages`` small echoes on one connection (``deflate``: compressed, as browsers send)."""
    sock = server.connect("/echo", deflate=deflate)
    frame = wsclient.client_frame(payload, compressed=deflate and wsclient.agreed_deflate(sock))
    if server.websocket:
        reader = wsclient.FrameReader(sock)
        receive = reader.next_message
    else:
        def receive() -> bytes:
            return wsclient.recv_exact(sock, len(frame))
    times = []
    clock = time.perf_counter
    try:
        for _ in range(max(20, messages // 10)):  # warm up
            sock.sendall(frame)
            receive()
        for _ in range(messages):
            start = clock()
            sock.sendall(frame)
            receive()
            times.append(clock() - start)
    finally:
        sock.close()
    return statistics.median(times)


def stream_round(server: ServerProcess, seconds: float, warmup: float = 0.2) -> dict[str, float]:
    """Messages per second one client receives from the server's push route."""
    sock = server.connect(PUSH_PATH[server.kind.removesuffix(BASELINE_SUFFIX)])
    if not server.websocket:
        sock.sendall(b"PUSH")
    reader = wsclient.FrameReader(sock)
    try:
        end_warmup = time.perf_counter() + warmup
        last = None
        while time.perf_counter() < end_warmup:
            _, tail = reader.count(sock.recv(1 << 20))
            last = tail or last
        first_n = _number(last)
        frames, start = 0, time.perf_counter()
        end = start + seconds
        while True:
            now = time.perf_counter()
            if now >= end:
                break
            got, tail = reader.count(sock.recv(1 << 20))
            frames += got
            last = tail or last
        elapsed = time.perf_counter() - start
    finally:
        sock.close()
    last_n = _number(last)
    produced = last_n - first_n if first_n >= 0 and last_n >= 0 else frames
    return {"rate": frames / elapsed, "dropped": max(0, produced - frames) / max(1, produced)}


def _number(payload: bytes | None) -> int:
    if not payload or not payload.startswith(b"message: "):
        return -1
    return int(payload[9:])


def connect_many(server: ServerProcess, count: int) -> list[socket.socket]:
    """``count`` idle clients on /echo (the broadcast target)."""
    sockets = []
    for _ in range(count):
        sock = server.connect("/echo")
        if not server.websocket:
            sock.sendall(wsclient.client_frame(b"join"))  # tells the floor this is an echo client
            wsclient.recv_exact(sock, len(wsclient.client_frame(b"join")))
        sock.setblocking(False)
        sockets.append(sock)
    return sockets


def broadcast_once(server: ServerProcess, sockets: list[socket.socket], tag: str, timeout: float = 30.0) -> list[float]:
    """Seconds from asking for one broadcast until it reached each client."""
    wanted = tag.encode()
    selector = selectors.DefaultSelector()
    readers = {}
    for sock in sockets:
        selector.register(sock, selectors.EVENT_READ)
        readers[sock] = wsclient.FrameReader(sock)
    latencies: list[float] = []
    start = time.perf_counter()
    server.broadcast(tag)
    try:
        while len(latencies) < len(sockets):
            events = selector.select(timeout)
            if not events:
                raise TimeoutError(f"{server.kind}: {len(latencies)} of {len(sockets)} clients got the broadcast")
            for key, _ in events:
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                try:
                    data = sock.recv(65536)
                except BlockingIOError:
                    continue
                if wanted in readers[sock].feed(data):
                    latencies.append(time.perf_counter() - start)
                    selector.unregister(sock)
    finally:
        selector.close()
    server.broadcast_reply()
    return latencies


def slow_client(server: ServerProcess, seconds: float, readers: int = 3) -> dict[str, float]:
    """One client that reads nothing for ``seconds`` while others read the stream.

    Returns the server's memory growth and the readers' rate with the slow
    client and without it (the mean of before and after).
    """
    baseline = min(3.0, max(0.5, seconds / 3))
    path = PUSH_PATH[server.kind.removesuffix(BASELINE_SUFFIX)]
    fast = [server.connect(path) for _ in range(readers)]
    for sock in fast:
        sock.setblocking(False)
    frame_readers = {sock: wsclient.FrameReader(sock) for sock in fast}
    selector = selectors.DefaultSelector()
    for sock in fast:
        selector.register(sock, selectors.EVENT_READ)

    def read_for(duration: float, sample: list[int] | None = None) -> float:
        frames, start, next_sample = 0, time.perf_counter(), 0.0
        while (now := time.perf_counter()) - start < duration:
            if sample is not None and now >= next_sample:
                sample.append(server.rss())
                next_sample = now + 0.25
            for key, _ in selector.select(0.1):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                try:
                    got, _ = frame_readers[sock].count(sock.recv(1 << 20))
                except BlockingIOError:
                    continue
                frames += got
        return frames / (time.perf_counter() - start) / readers

    try:
        read_for(0.3)  # warm up
        rate_before = read_for(baseline)
        rss_before = server.rss()
        # A small receive buffer: the kernel holds little for it, the server the rest.
        slow = server.connect(path, rcvbuf=4096)
        samples: list[int] = []
        try:
            rate_during = read_for(seconds, samples)
            closed_by_server = _was_closed(slow)
        finally:
            slow.close()
        # The readers' rate drifts with the machine's load: compare with before and after.
        rate_after = read_for(baseline)
    finally:
        selector.close()
        for sock in fast:
            sock.close()
    return {
        "rss_growth_mb": (max(samples) - rss_before) / 1e6,
        "rss_before_mb": rss_before / 1e6,
        "rate_without_slow": (rate_before + rate_after) / 2,
        "rate_before": rate_before,
        "rate_after": rate_after,
        "rate_with_slow": rate_during,
        "rate_ratio": rate_during / ((rate_before + rate_after) / 2) if rate_before + rate_after else 0.0,
        "slow_closed_by_server": closed_by_server,
    }


def _was_closed(sock: socket.socket, limit: float = 5.0) -> bool:
    """Read what waits for the slow client: did the server close it (close frame or EOF)?"""
    reader = wsclient.FrameReader()  # no pongs: the slow client still answers nothing
    sock.settimeout(0.2)
    end = time.perf_counter() + limit
    while time.perf_counter() < end:
        try:
            data = sock.recv(1 << 20)
        except (TimeoutError, BlockingIOError):
            return False
        except OSError:
            return True
        if not data:
            return True
        reader.feed(data)
        if reader.closed:
            return True
    return False


LIFECYCLE_SCRIPT = r"""
import json, sys, time, wstutorial
cycles = int(sys.argv[1])
start_times, stop_times, stop_client_times = [], [], []
wstutorial.start_server(port=0).stop()  # first use: imports and lazy set-up
for i in range(cycles):
    t0 = time.perf_counter(); server = wstutorial.start_server(port=0); t1 = time.perf_counter()
    if i % 2:
        client = wstutorial.connect_blocking(server.ws_url("/ws")); client.receive()
    t2 = time.perf_counter(); server.stop(); t3 = time.perf_counter()
    start_times.append(t1 - t0)
    (stop_client_times if i % 2 else stop_times).append(t3 - t2)
    if i % 2:
        client.close()
print(json.dumps({"start": start_times, "stop": stop_times, "stop_with_client": stop_client_times}))
"""


def lifecycle(cycles: int) -> dict[str, list[float]]:
    """``start_server`` and ``stop`` times, in a fresh process (as a kernel would call them)."""
    result = subprocess.run(
        [sys.executable, "-c", LIFECYCLE_SCRIPT, str(cycles)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    if result.returncode != 0:
        raise RuntimeError(f"the start/stop measurement failed: {result.stderr[-2000:]}")
    return json.loads(result.stdout)
