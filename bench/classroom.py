"""The lecture hall: ``python -m bench classroom --students N [--workers W]`` (about a minute at 1,000).

A classroom server in a process of its own (with ``--workers``, its worker
processes and a redis-server on a free loopback port), ``N`` students in
processes of their own (``bench.students``, at most ``--per-process`` each)
that join ``/chat`` at once, and the teacher's page's connection
(``/teacher``) in this process. It measures:

- ``join_s``: from the first student's connection until the last one has its
  welcome;
- chat latency: ``--chats`` chat lines, each from another student, from the
  moment it is sent until each member has it (``chat_p50_ms``, ``chat_p99_ms``,
  all members' latencies pooled);
- board lag: with each chat line another student sends a check result; the
  time until the teacher's page has it (``board_lag_p50_ms``, ``board_lag_p99_ms``);
- memory per student (``kib_per_student``): the resident memory of the room's
  process and its workers, after the joins minus before, per student;
- the floor, side by side: ``bench broadcast``'s tutorial server in a
  background thread with ``N`` idle clients, running at the same time, one
  broadcast timed in each round beside one chat line, in alternating order
  (``broadcast_p99_ms``, ``broadcast_kib_per_client``).

The chat lines are sent one after the other (each waits until every member
has the previous one), from students taken in turn, so no student comes near
the room's rate limit: the rules stay as they are in class.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import queue
import secrets
import select
import subprocess
import sys
import threading
import time
from typing import Any

from . import wsclient
from .broadcast import ClientProcess, raise_file_limit
from .measure import ROOT, ServerProcess, percentile

__all__ = ["main", "measure_classroom"]

# An exercise the lesson knows (the board takes only those).
EXERCISE = "mini_chat"


class Piped:
    """A child process that answers one line per command (``bench.classroom_server``, ``bench.students``)."""

    def __init__(self, command: list[str], what: str) -> None:
        self.what = what
        self.process = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        # Its lines, read by a thread: a timeout per answer, however the pipe buffers them.
        self.lines: queue.Queue[str] = queue.Queue()
        self.early: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.strip())
        self.lines.put("")  # the process ended

    def line(self, prefix: str, timeout: float = 180.0) -> str:
        """The next line the process prints that starts with ``prefix`` (others wait for their own call)."""
        for kept in self.early:
            if kept.startswith(prefix):
                self.early.remove(kept)
                return kept[len(prefix) :].strip()
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                line = ""
            if line.startswith(prefix):
                return line[len(prefix) :].strip()
            if not line:
                raise RuntimeError(f"{self.what} printed no {prefix}... line within {timeout:g} s; see its error above")
            self.early.append(line)  # e.g. a chat line's ARRIVALS before a result's SENT

    def send(self, command: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()

    def close(self) -> None:
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Teacher:
    """The teacher's page's WebSocket, read without blocking: which tags arrived, and when."""

    def __init__(self, port: int, token: str) -> None:
        self.sock = wsclient.connect(port, f"/teacher?token={token}")
        self.reader = wsclient.FrameReader(self.sock)
        self.sock.setblocking(False)

    def wait_for(self, tag: bytes, timeout: float = 30.0) -> float:
        """The ``time.perf_counter()`` at which a message containing ``tag`` arrived."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            ready, _, _ = select.select([self.sock], [], [], 0.5)
            if not ready:
                continue
            data = self.sock.recv(1 << 20)
            if not data:
                raise RuntimeError("the classroom closed the teacher's page")
            if any(tag in payload for payload in self.reader.feed(data)):
                return time.perf_counter()
        raise RuntimeError(f"the teacher's page got no result {tag.decode()!r} within {timeout:g} s")

    def close(self) -> None:
        self.sock.close()


def measure_classroom(students: int, workers: int = 0, chats: int = 30, per_process: int = 1000) -> dict[str, Any]:
    """Join ``students`` students, then time chat lines and check results beside the broadcast floor; the figures as a dict.

    The floor (``bench broadcast``'s background-thread server with as many idle
    clients) runs at the same time: each round times one chat line and one
    floor broadcast, in alternating order, so a busy machine slows both alike.
    """
    floor = ServerProcess("thread")
    server = Piped([sys.executable, "-m", "bench.classroom_server", "--workers", str(workers)], "the classroom")
    crowds: list[tuple[range, Piped]] = []
    floor_crowd: ClientProcess | None = None
    teacher: Teacher | None = None
    try:
        ports = [int(p) for p in server.line("PORTS ").split()]
        token = server.line("TOKEN ")
        student_ports = ports[1:] or ports[:1]  # with workers, the students are the workers'
        time.sleep(0.5)
        server.send("stats")
        before = json.loads(server.line("stats "))
        floor_idle = floor.stats()["rss"]
        size = math.ceil(students / math.ceil(students / per_process))
        for first in range(0, students, size):
            numbers = range(first, min(first + size, students))
            command = [sys.executable, "-m", "bench.students", str(first), str(len(numbers)), *map(str, student_ports)]
            crowds.append((numbers, Piped(command, f"students {first}-{numbers[-1]}")))
        print(f"  {students} students join ({len(crowds)} processes, {workers} workers)", file=sys.stderr, flush=True)
        joined = [crowd.line("JOINED ").split() for _, crowd in crowds]
        join_s = max(float(last) for _, last, _ in joined) - min(float(first) for first, _, _ in joined)
        refused = sum(int(n) for _, _, n in joined)
        time.sleep(1.0)  # the last presence messages
        server.send("stats")
        after = json.loads(server.line("stats "))
        grown = after["rss"] + sum(after["worker_rss"]) - before["rss"] - sum(before["worker_rss"])
        print(f"  the floor: bench broadcast's background-thread server with {students} idle clients", file=sys.stderr, flush=True)
        floor_crowd = ClientProcess(floor, students)
        floor_crowd.wait_ready()
        time.sleep(0.5)
        floor_grown = floor.stats()["rss"] - floor_idle
        floor.settle()
        floor.stats()
        teacher = Teacher(ports[0], token)

        def crowd_of(number: int) -> Piped:
            return next(crowd for numbers, crowd in crowds if number in numbers)

        def chat_round(k: int) -> None:
            chatter, reporter = (2 * k) % students, (2 * k + 1) % students
            tag, result = f"chat-{run}-{k}", f"result-{run}-{k}"
            for _, crowd in crowds:
                crowd.send(f"expect {tag}")
                crowd.line("ARMED")
            crowd_of(chatter).send(f"chat {chatter} {tag}")
            sent = float(crowd_of(chatter).line("SENT "))
            crowd_of(reporter).send(f"progress {reporter} {EXERCISE} {result}")
            reported = float(crowd_of(reporter).line("SENT "))
            board_lags.append(teacher.wait_for(result.encode()) - reported)
            for _, crowd in crowds:
                chat_latencies.extend(arrival - sent for arrival in json.loads(crowd.line("ARRIVALS ")))

        def floor_round(k: int) -> None:
            assert floor_crowd is not None
            tag = f"floor-{run}-{k}"
            floor_crowd.arm(tag)
            start = time.perf_counter()
            floor.broadcast(tag)
            arrivals = floor_crowd.arrivals()
            floor.broadcast_reply()
            floor_latencies.extend(t - start for t in arrivals)

        chat_latencies: list[float] = []
        board_lags: list[float] = []
        floor_latencies: list[float] = []
        run = secrets.token_hex(3)
        for k in range(chats):
            for measure in (chat_round, floor_round) if k % 2 == 0 else (floor_round, chat_round):
                measure(k)
        server.send("stats")
        during = json.loads(server.line("stats "))
    finally:
        if teacher is not None:
            teacher.close()
        for _, crowd in crowds:
            crowd.close()
        if floor_crowd is not None:
            floor_crowd.close()
        server.close()
        floor.close()
    return {
        "students": students,
        "workers": workers,
        "chats": chats,
        "join_s": join_s,
        "refused": refused,
        "chat_p50_ms": percentile(chat_latencies, 50) * 1e3,
        "chat_p99_ms": percentile(chat_latencies, 99) * 1e3,
        "board_lag_p50_ms": percentile(board_lags, 50) * 1e3,
        "board_lag_p99_ms": percentile(board_lags, 99) * 1e3,
        "kib_per_student": grown / students / 1024,
        "room_gc_during_chats": {key: during[key] for key in ("gc_collections", "gc_full_collections", "gc_max_ms")},
        "broadcast_p50_ms": percentile(floor_latencies, 50) * 1e3,
        "broadcast_p99_ms": percentile(floor_latencies, 99) * 1e3,
        "broadcast_kib_per_client": floor_grown / students / 1024,
        "load": os.getloadavg(),
    }


def table(r: dict[str, Any]) -> str:
    """The figures as a Markdown table, with the goals of one process (issue 26)."""
    chat_vs_floor = r["chat_p99_ms"] / r["broadcast_p99_ms"]
    memory_vs_floor = r["kib_per_student"] / r["broadcast_kib_per_client"]
    one_process = r["workers"] == 0
    rows = [
        ("students joined in (s)", f"{r['join_s']:.2f}", "<= 10 at 1,000" if one_process else ""),
        ("students refused while joining", f"{r.get('refused', 0):,}", "0"),
        ("chat latency p50 / p99 (ms)", f"{r['chat_p50_ms']:.1f} / {r['chat_p99_ms']:.1f}", ""),
        ("broadcast floor p99 (ms)", f"{r['broadcast_p99_ms']:.1f}", ""),
        ("chat p99 / broadcast p99", f"{chat_vs_floor:.2f}", "<= 1.5" if one_process else ""),
        ("board lag p50 / p99 (ms)", f"{r['board_lag_p50_ms']:.1f} / {r['board_lag_p99_ms']:.1f}", "p99 <= 1000" if one_process else ""),
        ("memory per student / per broadcast client (KiB)", f"{r['kib_per_student']:.1f} / {r['broadcast_kib_per_client']:.1f}", ""),
        ("memory per student / per broadcast client", f"{memory_vs_floor:.2f}", "<= 2" if one_process else ""),
    ]
    lines = [
        f"classroom: {r['students']:,} students, {r['workers']} workers, {r['chats']} chat lines and results "
        f"(load average {r['load'][0]:.1f})",
        "| figure | measured | goal |",
        "| --- | --- | --- |",
    ]
    lines += [f"| {name} | {value} | {goal} |" for name, value, goal in rows]
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench classroom", description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=1000, help="students who join (default 1000)")
    parser.add_argument("--workers", type=int, default=0, help="worker processes, with a redis-server (default 0: one process)")
    parser.add_argument("--chats", type=int, default=30, help="chat lines (and as many check results) to time (default 30)")
    parser.add_argument("--per-process", type=int, default=1000, help="students per client process (default 1000)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.students < 2:
        raise SystemExit(f"--students must be at least 2 (one chats while another sends a result), got {args.students}")
    raise_file_limit(args.students + 256)
    result = measure_classroom(args.students, args.workers, args.chats, args.per_process)
    print(json.dumps(result) if args.json else table(result))
    return 0
