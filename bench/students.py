"""Many students of a classroom in a process of their own: ``python -m bench.students FIRST COUNT PORT [PORT ...]``.

Student ``FIRST`` to ``FIRST + COUNT - 1`` join ``/chat?name=Student<n>``,
spread over the given ports (a classroom's own, or its workers'), in batches
whose handshakes are all sent before their answers are read. Every student is
read all the time (pings answered). Once each has its ``welcome`` (or was
closed), the process prints ``JOINED <first> <last> <refused>``: the
``time.perf_counter()`` of the first connection and of the last welcome (on
Linux the monotonic clock, the same in every process), and how many students
the room closed before welcoming them. Then it answers commands on stdin:

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
import selectors
import socket
import sys
import time

from . import wsclient
from .clients import Crowd

__all__ = ["main", "student_name"]

# Handshakes sent before their answers are read (well under a listening socket's backlog).
BATCH = 100


def student_name(n: int) -> str:
    """The n-th student's name: letters and digits, within the room's name rules."""
    return f"Student{n:05d}"


class Students(Crowd):
    """The students' sockets, read all the time (``bench.clients.Crowd``); their welcomes noted, and a tag inside any message."""

    def __init__(self) -> None:
        super().__init__()
        self.by_number: dict[int, socket.socket] = {}
        self.unwelcomed: set[socket.socket] = set()
        self.last_welcome = 0.0

    def add_student(self, number: int, sock: socket.socket) -> None:
        sock.setblocking(False)
        self.add(sock)
        self.by_number[number] = sock
        # The welcome may have come with the handshake's response (the reader starts with those bytes).
        if not any(b'"welcome"' in p for p in self.readers[sock].feed(b"")):
            self.unwelcomed.add(sock)

    def forget(self, sock: socket.socket) -> None:
        super().forget(sock)
        self.unwelcomed.discard(sock)

    def received(self, sock: socket.socket, payloads: list[bytes]) -> None:
        if sock in self.unwelcomed and any(b'"welcome"' in p for p in payloads):
            self.unwelcomed.discard(sock)
            self.last_welcome = time.perf_counter()
        super().received(sock, payloads)

    def has_tag(self, payloads: list[bytes]) -> bool:
        """True if one of ``payloads`` contains the awaited tag (a chat line carries it inside its JSON)."""
        assert self.tag is not None
        return any(self.tag in payload for payload in payloads)

    def send(self, number: int, text: str) -> None:
        sock = self.by_number[number]
        frame = wsclient.client_frame(text.encode())
        # The clock before sending: read after sendall, another process may already have the
        # line (this one preempted in between) and a latency comes out below zero.
        sent = time.perf_counter()
        sock.setblocking(True)
        sock.sendall(frame)
        sock.setblocking(False)
        print(f"SENT {sent!r}", flush=True)

    def command(self, line: str) -> None:
        command, _, rest = line.partition(" ")
        if command == "chat":
            number, _, tag = rest.partition(" ")
            self.send(int(number), tag)
        elif command == "progress":
            number, exercise, tag = rest.split(" ", 2)
            result = {"type": "progress", "exercise": exercise, "passed": False, "reason": tag}
            self.send(int(number), json.dumps(result))
        else:  # expect, count
            super().command(line)


def join_all(first: int, count: int, ports: list[int], students: Students) -> float:
    """Join the students in batches, answering pings; returns when the first connected.

    A batch's welcomes are awaited before the next batch starts, so at most
    ``BATCH`` joins per process wait for the room at once: a room behind
    workers that gets every join at the same moment refuses those it cannot
    answer within its join timeout (1013), which measures the burst, not the
    room. A student the room closes before welcoming is counted in ``refused``.
    """
    started = time.perf_counter()
    number = first
    deadline = time.monotonic() + 120
    while number < first + count:
        batch = []
        for n in range(number, min(number + BATCH, first + count)):
            port = ports[n % len(ports)]
            sock = wsclient.open_socket(port)
            wsclient.send_handshake(sock, port, f"/chat?name={student_name(n)}")
            batch.append((n, port, sock))
        for n, port, sock in batch:
            wsclient.finish_handshake(sock, port, "/chat")
            students.add_student(n, sock)
        number += len(batch)
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
        refused = sum(students.closed_for.values())
        print(f"JOINED {started!r} {students.last_welcome!r} {refused}", flush=True)
        students.selector.register(sys.stdin, selectors.EVENT_READ)
        while students.read_ready(1.0):
            pass
    finally:
        students.close()


if __name__ == "__main__":
    main()
