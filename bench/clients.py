"""Many idle WebSocket clients in a process of their own: ``python -m bench.clients PORT COUNT``.

A process holds at most its file limit of sockets (20,000 here), so the
broadcast comparison at 10,000 clients gives each server's clients their
own process. It connects ``COUNT`` clients to ``/echo``, prints ``READY``,
reads every client all the time (answering pings) and answers commands on stdin:

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


def connect_all(port: int, count: int, websocket: bool) -> list[socket.socket]:
    sockets: list[socket.socket] = []
    join = wsclient.client_frame(b"join")  # tells the TCP floor this is an echo client
    while len(sockets) < count:
        batch = [wsclient.open_socket(port) for _ in range(min(BATCH, count - len(sockets)))]
        for sock in batch:
            if websocket:
                wsclient.send_handshake(sock, port, "/echo")
            else:
                sock.sendall(join)
        for sock in batch:
            if websocket:
                wsclient.finish_handshake(sock, port, "/echo")
            else:
                wsclient.recv_exact(sock, len(join))
            sock.setblocking(False)
        before = len(sockets)
        sockets += batch
        if len(sockets) // 2000 > before // 2000:
            print(f"  {len(sockets)} of {count} clients connected", file=sys.stderr, flush=True)
    return sockets


class Crowd:
    """The clients, read all the time (so pings are answered while idle); arrivals of the awaited tag noted."""

    def __init__(self, sockets: list[socket.socket]) -> None:
        self.selector = selectors.DefaultSelector()
        self.readers = {}
        for sock in sockets:
            self.selector.register(sock, selectors.EVENT_READ)
            self.readers[sock] = wsclient.FrameReader(sock)
        self.selector.register(sys.stdin, selectors.EVENT_READ)
        self.tag: bytes | None = None
        self.waiting: set[socket.socket] = set()
        self.arrivals: list[float] = []

    def run(self) -> None:
        stdin_buffer = ""
        while True:
            for key, _ in self.selector.select(1.0):
                if key.fileobj is sys.stdin:
                    data = os.read(sys.stdin.fileno(), 65536).decode()
                    if not data:
                        return
                    stdin_buffer += data
                    while "\n" in stdin_buffer:
                        line, stdin_buffer = stdin_buffer.split("\n", 1)
                        self.command(line)
                    continue
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                try:
                    data = sock.recv(65536)
                except BlockingIOError:
                    continue
                if not data:
                    raise ConnectionError("the server closed a client's connection")
                payloads = self.readers[sock].feed(data)
                if self.tag is not None and sock in self.waiting and self.tag in payloads:
                    self.arrivals.append(time.perf_counter())
                    self.waiting.discard(sock)
                    if not self.waiting:
                        print("ARRIVALS " + json.dumps(self.arrivals), flush=True)
                        self.tag = None

    def command(self, line: str) -> None:
        command, _, text = line.partition(" ")
        if command == "expect":
            self.tag = text.encode()
            self.waiting = set(self.readers)
            self.arrivals = []
            print("ARMED", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.clients")
    parser.add_argument("port", type=int)
    parser.add_argument("count", type=int)
    parser.add_argument("--tcp", action="store_true", help="the server is the TCP floor (no handshake)")
    args = parser.parse_args(argv)
    sockets = connect_all(args.port, args.count, websocket=not args.tcp)
    print("READY", flush=True)
    try:
        Crowd(sockets).run()
    finally:
        for sock in sockets:
            sock.close()


if __name__ == "__main__":
    main()
