"""Many students of a classroom in a process of their own: ``python -m bench.students FIRST COUNT PORT [PORT ...]``.

Student ``FIRST`` to ``FIRST + COUNT - 1`` join ``/chat?name=Student<n>``,
spread over the given ports (a classroom's own, or its workers'), in batches
whose handshakes are all sent before their answers are read. Every student is
read all the time (pings answered). Once each has its ``welcome``, the
process prints ``JOINED <first> <last>``: the ``time.perf_counter()`` of the
first connection and of the last welcome (on Linux the monotonic clock, the
same in every process). Then it answers commands on stdin:

``chat <n> <tag>``      student n sends the chat line <tag>; prints ``SENT <time>``
``progress <n> <exercise> <tag>``  student n sends a check result whose reason
                        is <tag> (for the teacher's board); prints ``SENT <time>``
``expect <tag>``        prints ``ARMED``; once every student received a frame
                        containing <tag>, prints ``ARRIVALS <json>`` (their times)
``count``               prints ``COUNT <n>``: students still connected

End of stdin closes every student and ends the process.
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import socket
import sys
import time

from . import wsclient

__all__ = ["main", "student_name"]

# Handshakes sent before their answers are read (well under a listening socket's backlog).
BATCH = 100


def student_name(n: int) -> str:
    """The n-th student's name: letters and digits, within the room's name rules."""
    return f"Student{n:05d}"


class Students:
    """The students' sockets, read all the time; the arrivals of an awaited tag noted."""

    def __init__(self) -> None:
        self.selector = selectors.DefaultSelector()
        self.readers: dict[socket.socket, wsclient.FrameReader] = {}
        self.by_number: dict[int, socket.socket] = {}
        self.unwelcomed: set[socket.socket] = set()
        self.last_welcome = 0.0
        self.tag: bytes | None = None
        self.waiting: set[socket.socket] = set()
        self.arrivals: list[float] = []
        self.stdin_buffer = ""

    def add(self, number: int, sock: socket.socket) -> None:
        sock.setblocking(False)
        self.selector.register(sock, selectors.EVENT_READ)
        self.readers[sock] = wsclient.FrameReader(sock)
        self.by_number[number] = sock
        # The welcome may have come with the handshake's response (the reader starts with those bytes).
        if not any(b'"welcome"' in p for p in self.readers[sock].feed(b"")):
            self.unwelcomed.add(sock)

    def close(self) -> None:
        for sock in self.readers:
            sock.close()

    def read_ready(self, timeout: float) -> bool:
        """Read what arrived within ``timeout`` seconds; False once stdin has ended."""
        for key, _ in self.selector.select(timeout):
            if key.fileobj is sys.stdin:
                data = os.read(sys.stdin.fileno(), 65536).decode()
                if not data:
                    return False
                self.stdin_buffer += data
                while "\n" in self.stdin_buffer:
                    line, self.stdin_buffer = self.stdin_buffer.split("\n", 1)
                    self.command(line)
                continue
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            try:
                data = sock.recv(262144)
            except BlockingIOError:
                continue
            if not data:
                self.selector.unregister(sock)
                del self.readers[sock]
                self.waiting.discard(sock)
                self.unwelcomed.discard(sock)
                sock.close()
                print(f"  a student was closed by the server; {len(self.readers)} left", file=sys.stderr, flush=True)
                continue
            payloads = self.readers[sock].feed(data)
            if sock in self.unwelcomed and any(b'"welcome"' in p for p in payloads):
                self.unwelcomed.discard(sock)
                self.last_welcome = time.perf_counter()
            if self.tag is not None and sock in self.waiting and any(self.tag in p for p in payloads):
                self.arrivals.append(time.perf_counter())
                self.waiting.discard(sock)
                if not self.waiting:
                    print("ARRIVALS " + json.dumps(self.arrivals), flush=True)
                    self.tag = None
        return True

    def send(self, number: int, text: str) -> None:
        sock = self.by_number[number]
        sock.setblocking(True)
        sock.sendall(wsclient.client_frame(text.encode()))
        sock.setblocking(False)
        print(f"SENT {time.perf_counter()!r}", flush=True)

    def command(self, line: str) -> None:
        command, _, rest = line.partition(" ")
        if command == "chat":
            number, _, tag = rest.partition(" ")
            self.send(int(number), tag)
        elif command == "progress":
            number, exercise, tag = rest.split(" ", 2)
            result = {"type": "progress", "exercise": exercise, "passed": False, "reason": tag}
            self.send(int(number), json.dumps(result))
        elif command == "expect":
            self.tag = rest.encode()
            self.waiting = set(self.readers)
            self.arrivals = []
            print("ARMED", flush=True)
        elif command == "count":
            print(f"COUNT {len(self.readers)}", flush=True)


def join_all(first: int, count: int, ports: list[int], students: Students) -> float:
    """Join the students in batches, answering pings between batches; returns when the first connected."""
    started = time.perf_counter()
    number = first
    while number < first + count:
        batch = []
        for n in range(number, min(number + BATCH, first + count)):
            port = ports[n % len(ports)]
            sock = wsclient.open_socket(port)
            wsclient.send_handshake(sock, port, f"/chat?name={student_name(n)}")
            batch.append((n, port, sock))
        for n, port, sock in batch:
            wsclient.finish_handshake(sock, port, "/chat")
            students.add(n, sock)
        number += len(batch)
        students.read_ready(0)
    deadline = time.monotonic() + 120
    while students.unwelcomed and time.monotonic() < deadline:
        students.read_ready(0.05)
    if students.unwelcomed:
        raise SystemExit(f"{len(students.unwelcomed)} of {count} students got no welcome within 120 s")
    return started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.students")
    parser.add_argument("first", type=int)
    parser.add_argument("count", type=int)
    parser.add_argument("ports", type=int, nargs="+")
    args = parser.parse_args(argv)
    students = Students()
    try:
        started = join_all(args.first, args.count, args.ports, students)
        print(f"JOINED {started!r} {students.last_welcome!r}", flush=True)
        students.selector.register(sys.stdin, selectors.EVENT_READ)
        while students.read_ready(1.0):
            pass
    finally:
        students.close()


if __name__ == "__main__":
    main()
