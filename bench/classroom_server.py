"""The classroom under test, in its own process: ``python -m bench.classroom_server [--workers W]``.

It runs ``start_classroom()`` as ``python -m wstutorial classroom`` does (the
server in its background thread; with ``--workers``, worker processes and a
redis-server on a free loopback port), prints ``PORTS <room> [<worker> ...]``
and ``TOKEN <teacher token>`` once it listens, then answers commands on stdin:
``stats`` answers ``stats <json>``: the resident memory of the room's process
and of each worker (bytes), and the room process's collector pauses since the
last ``stats``; ``settle`` runs a full collection in the room's process and
answers ``settled <n>``. End of stdin stops the classroom and ends the process.
"""

from __future__ import annotations

import argparse
import gc
import inspect
import json
import secrets
import sys
import tempfile
from typing import Any

from .servers import _on_gc, _rss_bytes, _stats

__all__ = ["main"]


def _rss_of(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:  # the benchmark runs on Linux
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def start(workers: int, data_dir: str) -> Any:
    """The classroom, its board kept in a folder of this run's own (never the teacher's)."""
    from wstutorial.classroom import start_classroom

    options: dict[str, Any] = {"host": "127.0.0.1", "port": 0, "teacher_token": secrets.token_urlsafe(16), "quiet": True}
    if workers:
        options["workers"] = workers
    if "data_dir" in inspect.signature(start_classroom).parameters:
        options["data_dir"] = data_dir
    return start_classroom(**options)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.classroom_server")
    parser.add_argument("--workers", type=int, default=0)
    args = parser.parse_args(argv)
    gc.callbacks.append(_on_gc)
    with tempfile.TemporaryDirectory(prefix="bench-classroom-") as data_dir:
        classroom = start(args.workers, data_dir)
        try:
            ports = [classroom.port] + [worker.port for worker in classroom.workers]
            print("PORTS " + " ".join(map(str, ports)), flush=True)
            print(f"TOKEN {classroom.teacher_token}", flush=True)
            for line in sys.stdin:
                command = line.strip()
                if command == "stats":
                    stats = json.loads(_stats())
                    stats["rss"] = _rss_bytes()
                    stats["worker_rss"] = [_rss_of(worker.process.pid) for worker in classroom.workers]
                    print(f"stats {json.dumps(stats)}", flush=True)
                elif command == "settle":
                    gc.collect()
                    print(f"settled {len(gc.get_objects())}", flush=True)
        finally:
            classroom.stop()


if __name__ == "__main__":
    main()
