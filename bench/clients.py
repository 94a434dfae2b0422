"""Many idle WebSocket clients in a process of their own: ``python -m bench.clients PORT COUNT``.

A process holds at most its file limit of sockets (20,000 here), so the
broadcast comparison at 10,000 clients gives each server's clients their
own process. It connects ``COUNT`` clients to ``/echo``, prints ``READY``,
reads every client all the time (answering pings) and answers commands on stdin:

``count``         prints ``COUNT <n>``: how many clients are still connected
                  (one the server closes is dropped, and said so on stderr).
``expect <tag>``  prints ``ARMED``, waits until every client received a
                  frame containing <tag>, then prints ``ARRIVALS <json>``: the
                  ``time.perf_counter()`` of each arrival (on Linux the
                  monotonic clock, the same in every process).

End of stdin closes every client and ends the process.
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

__all__ = ["main"]


# Clients connect in batches: a batch's handshakes are all sent before their
# answers are read, so the server works on many at once (a batch stays well
# under the listening socket's backlog of 128).
BATCH = 100


class Crowd:
    """The clients, read all the time (so pings are answered while idle); arrivals of the awaited tag noted."""

    def __init__(self) -> None:
        self.selector = selectors.DefaultSelector()
        self.readers: dict[socket.socket, wsclient.FrameReader] = {}
        self.tag: bytes | None = None
        self.waiting: set[socket.socket] = set()
        self.arrivals: list[float] = []
        self.stdin_buffer = ""
        self.closed_for: dict[str, int] = {}  # clients the server closed, by close code and reason

    def add(self, sock: socket.socket) -> None:
        self.selector.register(sock, selectors.EVENT_READ)
        self.readers[sock] = wsclient.FrameReader(sock)

    def close(self) -> None:
        for sock in self.readers:
            sock.close()

    def run(self) -> None:
        """Read the clients and the commands on stdin until stdin ends."""
        self.selector.register(sys.stdin, selectors.EVENT_READ)
        while self.read_ready(1.0):
            pass

    def read_ready(self, timeout: float) -> bool:
        """Read what has arrived within ``timeout`` seconds (pings are answered); False once stdin has ended."""
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
                data = sock.recv(65536)
            except BlockingIOError:
                continue
            if not data:  # the server closed this client (e.g. a ping it answered too late)
                self.note_closed(self.readers[sock].close_reason or "no close frame")
                self.forget(sock)
                continue
            self.received(sock, self.readers[sock].feed(data))
        return True

    def note_closed(self, reason: str) -> None:
        """Say on stderr that the server closed clients: the first of each reason, then at 10, 100, 1000 of it."""
        count = self.closed_for[reason] = self.closed_for.get(reason, 0) + 1
        if count == 1 or count in (10, 100, 1000, 10000):
            print(
                f"  {count} client(s) closed by the server ({reason}); {len(self.readers) - 1} left",
                file=sys.stderr, flush=True,
            )

    def forget(self, sock: socket.socket) -> None:
        """A client the server closed: no longer read or waited for."""
        self.selector.unregister(sock)
        del self.readers[sock]
        self.waiting.discard(sock)
        sock.close()

    def received(self, sock: socket.socket, payloads: list[bytes]) -> None:
        """Note the arrival of the awaited tag; once every client has it, print ``ARRIVALS``."""
        if self.tag is not None and sock in self.waiting and self.has_tag(payloads):
            self.arrivals.append(time.perf_counter())
            self.waiting.discard(sock)
            if not self.waiting:
                print("ARRIVALS " + json.dumps(self.arrivals), flush=True)
                self.tag = None

    def has_tag(self, payloads: list[bytes]) -> bool:
        """True if one of ``payloads`` is the awaited tag (the broadcast sends it alone)."""
        return self.tag in payloads

    def command(self, line: str) -> None:
        command, _, text = line.partition(" ")
        if command == "count":
            print(f"COUNT {len(self.readers)}", flush=True)
        elif command == "expect":
            self.tag = text.encode()
            self.waiting = set(self.readers)
            self.arrivals = []
            print("ARMED", flush=True)


def connect_all(port: int, count: int, websocket: bool, crowd: Crowd, deflate: bool = False) -> None:
    """Connect ``count`` clients in batches, each joining ``crowd``, which answers pings between batches.

    The crowds of all servers connect at the same time; a client that waited
    for the others before reading would miss its server's pings and be closed.
    """
    join = wsclient.client_frame(b"join")  # tells the TCP floor this is an echo client
    done = 0
    while done < count:
        batch = [wsclient.open_socket(port) for _ in range(min(BATCH, count - done))]
        for sock in batch:
            if websocket:
                wsclient.send_handshake(sock, port, "/echo", deflate=deflate)
            else:
                sock.sendall(join)
        for sock in batch:
            if websocket:
                wsclient.finish_handshake(sock, port, "/echo")
            else:
                wsclient.recv_exact(sock, len(join))
            sock.setblocking(False)
            crowd.add(sock)
        crowd.read_ready(0)
        if (done + len(batch)) // 2000 > done // 2000:
            print(f"  {done + len(batch)} of {count} clients connected", file=sys.stderr, flush=True)
        done += len(batch)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.clients")
    parser.add_argument("port", type=int)
    parser.add_argument("count", type=int)
    parser.add_argument("--tcp", action="store_true", help="the server is the TCP floor (no handshake)")
    parser.add_argument("--deflate", action="store_true", help="offer permessage-deflate, as browsers do")
    args = parser.parse_args(argv)
    crowd = Crowd()
    try:
        connect_all(args.port, args.count, not args.tcp, crowd, deflate=args.deflate)
        print("READY", flush=True)
        crowd.run()
    finally:
        crowd.close()


if __name__ == "__main__":
    main()
