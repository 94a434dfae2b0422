"""Receive sides without I/O, side by side in one process: ``python -m bench receivers`` (a few seconds).

Why ``wstutorial/receiver.py`` is written here rather than taken from a
library: the same client frames are fed to our ``Receiver`` (with Tornado's
C unmasking, as the server runs it), the ``websockets`` library's sans-I/O
``Protocol`` (server side, already open) and, if it can be imported (it is
not a dependency: ``--wsproto DIR`` adds a folder where
``pip install --target DIR wsproto`` put it), ``wsproto``'s ``Connection``.
Each figure is the median of ``--rounds`` rounds. Besides the time per
frame: the objects an idle connection leaves for the garbage collector
after each frame (what made full collections at 10,000 connections, see
``bench/idle.py``), and the memory one idle receive side holds.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import struct
import sys
import time
import tracemalloc
from typing import Callable

__all__ = ["main"]

MASK = b"\x37\xfa\x21\x3d"
Feed = Callable[[bytes], int]


def _frame(opcode: int, payload: bytes) -> bytes:
    from tornado.util import _websocket_mask

    size = len(payload)
    head = bytes([0x80 | opcode]) + (bytes([0x80 | size]) if size < 126 else bytes([0x80 | 126]) + struct.pack("!H", size))
    return head + MASK + _websocket_mask(MASK, payload)


def _ours() -> Feed:
    from tornado.util import _websocket_mask

    from wstutorial.receiver import Receiver

    receiver = Receiver(unmask=_websocket_mask)

    def feed(data: bytes) -> int:
        receiver.receive_data(data)
        count = 0
        while receiver.next_event() is not None:
            count += 1
        return count

    return feed


def _websockets() -> Feed:
    from websockets.protocol import OPEN, SERVER, Protocol

    protocol = Protocol(SERVER, state=OPEN, max_size=2**20)

    def feed(data: bytes) -> int:
        protocol.receive_data(data)
        count = len(protocol.events_received())
        protocol.data_to_send()  # the pongs it made
        return count

    return feed


def _wsproto() -> Feed:
    from wsproto import Connection, ConnectionType

    connection = Connection(ConnectionType.SERVER)

    def feed(data: bytes) -> int:
        connection.receive_data(data)
        return sum(1 for _ in connection.events())

    return feed


def _per_frame_us(make: Callable[[], Feed], data: bytes, frames: int, repeat: int) -> float:
    feed = make()
    for _ in range(100):
        assert feed(data) == frames
    start = time.perf_counter()
    for _ in range(repeat):
        feed(data)
    return (time.perf_counter() - start) / repeat / frames * 1e6


def _left_for_the_collector(make: Callable[[], Feed], data: bytes, connections: int = 1000) -> float:
    """Tracked objects made by one frame to each of ``connections`` idle receivers that are still alive afterwards."""
    feeds = [make() for _ in range(connections)]
    for feed in feeds:
        feed(data)
    gc.collect()
    gc.disable()
    try:
        for feed in feeds:
            feed(data)
        return len(gc.get_objects(generation=0)) / connections
    finally:
        gc.enable()


def _bytes_per_idle_receiver(make: Callable[[], Feed], data: bytes, connections: int = 1000) -> float:
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        feeds = [make() for _ in range(connections)]
        for feed in feeds:
            feed(data)
        return (tracemalloc.get_traced_memory()[0] - start) / connections
    finally:
        tracemalloc.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench receivers", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds (default 5)")
    parser.add_argument("--repeat", type=int, default=5000, help="feeds per case per round (default 5000)")
    parser.add_argument("--wsproto", metavar="DIR", help="a folder with wsproto in it (pip install --target DIR wsproto)")
    args = parser.parse_args(argv)
    if args.wsproto:
        sys.path.append(args.wsproto)
    makers: dict[str, Callable[[], Feed]] = {"wstutorial Receiver": _ours, "websockets Protocol": _websockets}
    try:
        import wsproto  # noqa: F401

        makers["wsproto Connection"] = _wsproto
    except ImportError:
        print("wsproto not found (not a dependency): give --wsproto DIR to compare it too", file=sys.stderr)
    cases = {
        "one 5-byte text frame": (_frame(0x1, b"hello"), 1),
        "an empty ping": (_frame(0x9, b""), 1),
        "one 120-byte text frame": (_frame(0x1, b"x" * 120), 1),
        "ten 5-byte text frames in one read": (_frame(0x1, b"hello") * 10, 10),
        "one 4 KiB binary frame": (_frame(0x2, os.urandom(4096)), 1),
    }
    print(f"load average {os.getloadavg()[0]:.2f}; median of {args.rounds} rounds", file=sys.stderr)
    print("| per frame (µs) | " + " | ".join(makers) + " |")
    print("| --- |" + " --- |" * len(makers))
    for name, (data, frames) in cases.items():
        figures = [statistics.median(_per_frame_us(make, data, frames, args.repeat) for _ in range(args.rounds)) for make in makers.values()]
        print(f"| {name} | " + " | ".join(f"{figure:.2f}" for figure in figures) + " |")
    ping = _frame(0x9, b"")
    print("| objects left for the collector per idle connection and frame | " + " | ".join(f"{_left_for_the_collector(m, ping):.1f}" for m in makers.values()) + " |")
    print("| bytes held by one idle receive side | " + " | ".join(f"{_bytes_per_idle_receiver(m, ping):,.0f}" for m in makers.values()) + " |")
    return 0
