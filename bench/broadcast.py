"""The broadcast comparison alone: ``python -m bench broadcast`` (about a minute).

Run it before and after a change that touches sending. For each number of
clients (default 1,000, then 10,000) it starts a fresh process for each
server, measures its memory, connects the idle clients (in a process of
their own per server, so no process needs more than its file limit of
sockets), measures its memory again (memory per connection), has each
server run one full garbage collection (so all start the timed part from
the same collector state), then asks each
server for ``--broadcasts`` broadcasts, in alternating order, and takes the
time from the request until each client has the message. It prints p50 and
p99 per server, their ratios to the ``websockets`` library's ``broadcast()``
and the servers' garbage-collector pauses during the broadcasts.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from typing import Any

from .measure import ROOT, ServerProcess, baseline_kinds, percentile

__all__ = ["main", "measure_broadcast", "connect_crowds", "settle_all", "BROADCAST_KINDS"]

# Who is compared: the tutorial's server in a kernel-like process (thread),
# the same application as `python -m wstutorial serve` runs it (standalone),
# plain Tornado, the `websockets` library, and the TCP floor.
BROADCAST_KINDS = ("thread", "standalone", "tornado", "websockets", "tcp")
REFERENCE = "websockets"


class ClientProcess:
    """``count`` idle clients of one server, in a process of their own (``bench.clients``)."""

    def __init__(self, server: ServerProcess, count: int, deflate: bool = False) -> None:
        command = [sys.executable, "-m", "bench.clients", str(server.port), str(count)]
        if not server.websocket:
            command.append("--tcp")
        elif deflate:
            command.append("--deflate")
        self.kind = server.kind
        self.process = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)

    def wait_ready(self) -> None:
        """Wait until every client is connected."""
        line = self._line()
        if line != "READY":
            self.close()
            raise RuntimeError(f"the clients of {self.kind} did not connect (printed {line!r}); see the error above")

    def _line(self) -> str:
        assert self.process.stdout is not None
        return self.process.stdout.readline().strip()

    def arm(self, tag: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(f"expect {tag}\n")
        self.process.stdin.flush()
        line = self._line()
        if line != "ARMED":
            raise RuntimeError(f"clients answered {line!r} instead of ARMED")

    def count(self) -> int:
        """How many of the clients are still connected."""
        assert self.process.stdin is not None
        self.process.stdin.write("count\n")
        self.process.stdin.flush()
        line = self._line()
        if not line.startswith("COUNT "):
            raise RuntimeError(f"clients answered {line!r} instead of COUNT")
        return int(line.split()[1])

    def arrivals(self) -> list[float]:
        line = self._line()
        if not line.startswith("ARRIVALS "):
            raise RuntimeError(f"clients answered {line!r} instead of ARRIVALS")
        return json.loads(line[9:])

    def close(self) -> None:
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def connect_crowds(servers: dict[str, ServerProcess], clients: int, crowds: dict[str, ClientProcess], deflate: bool = False) -> None:
    """Connect ``clients`` idle clients to each server, into ``crowds`` (the caller closes them).

    The crowds of all servers connect at the same time (each answers its
    pings while it connects), so connecting takes both cores.
    """
    print(f"  {clients} clients connect to each of {', '.join(servers)}", file=sys.stderr, flush=True)
    for kind, server in servers.items():
        crowds[kind] = ClientProcess(server, clients, deflate)
    for crowd in crowds.values():
        crowd.wait_ready()


def settle_all(servers: dict[str, ServerProcess]) -> dict[str, int]:
    """One full collection in each server, its pause forgotten; how many objects each one's collector tracks."""
    tracked = {kind: server.settle() for kind, server in servers.items()}
    for server in servers.values():
        server.stats()  # the collector's pauses count from here on
    return tracked


def _orders(kinds: tuple[str, ...], rounds: int) -> list[tuple[str, ...]]:
    return [kinds if r % 2 == 0 else tuple(reversed(kinds)) for r in range(rounds)]


def measure_broadcast(
    clients: int, broadcasts: int, kinds: tuple[str, ...] = BROADCAST_KINDS, env: dict[str, str] | None = None, deflate: bool = False
) -> dict[str, Any]:
    """Broadcast latencies, memory per connection and collector pauses, side by side (``deflate``: the clients offer permessage-deflate)."""
    if deflate:
        env = dict(env or {}, BENCH_DEFLATE="1")
    servers = {kind: ServerProcess(kind, env=env) for kind in kinds}
    crowds: dict[str, ClientProcess] = {}
    try:
        time.sleep(0.5)  # let each server settle before its memory is read
        idle = {kind: servers[kind].stats()["rss"] for kind in kinds}
        tracked_idle = {kind: servers[kind].settle() for kind in kinds}
        connect_crowds(servers, clients, crowds, deflate)
        time.sleep(0.5)
        connected = {kind: servers[kind].stats() for kind in kinds}
        # Every server starts the broadcasts from the same collector state: one
        # full collection now. Otherwise whether a full collection falls in the
        # timed part depends on where connecting 10,000 clients left the
        # collector's count; the objects each received frame leaves for the
        # collector are counted by tests/test_tornado_internals.py.
        tracked = settle_all(servers)
        latencies: dict[str, list[float]] = {kind: [] for kind in kinds}
        per_broadcast_p99: dict[str, list[float]] = {kind: [] for kind in kinds}
        for b, order in enumerate(_orders(kinds, broadcasts)):
            for kind in order:
                tag = f"broadcast {b}"
                crowds[kind].arm(tag)
                start = time.perf_counter()
                servers[kind].broadcast(tag)
                arrivals = crowds[kind].arrivals()
                servers[kind].broadcast_reply()
                these = [t - start for t in arrivals]
                latencies[kind] += these
                per_broadcast_p99[kind].append(percentile(these, 99))
        after = {kind: servers[kind].stats() for kind in kinds}
    finally:
        for crowd in crowds.values():
            crowd.close()
        for server in servers.values():
            server.close()
    result: dict[str, Any] = {
        "clients": clients,
        "broadcasts": broadcasts,
        "deflate": deflate,
        "p50_ms": {k: percentile(v, 50) * 1e3 for k, v in latencies.items()},
        "p99_ms": {k: percentile(v, 99) * 1e3 for k, v in latencies.items()},
        "max_ms": {k: max(v) * 1e3 for k, v in latencies.items()},
        "memory_per_connection_kb": {k: (connected[k]["rss"] - idle[k]) / clients / 1024 for k in kinds},
        "tracked_objects_per_connection": {k: (tracked[k] - tracked_idle[k]) / clients for k in kinds},
        "gc_during_broadcasts": {k: {key: after[k][key] for key in ("gc_collections", "gc_full_collections", "gc_max_ms", "gc_total_ms")} for k in kinds},
    }
    if REFERENCE in kinds:
        result["vs_websockets"] = {
            k: {
                "p50": result["p50_ms"][k] / result["p50_ms"][REFERENCE],
                "p99": result["p99_ms"][k] / result["p99_ms"][REFERENCE],
                "memory": result["memory_per_connection_kb"][k] / result["memory_per_connection_kb"][REFERENCE],
                # the median over broadcasts of each broadcast's p99 ratio: steadier than one p99
                "p99_per_broadcast_median": statistics.median(
                    a / b for a, b in zip(per_broadcast_p99[k], per_broadcast_p99[REFERENCE], strict=True)
                ),
            }
            for k in kinds
        }
    return result


def table(results: list[dict[str, Any]]) -> str:
    lines = []
    for r in results:
        kinds = list(r["p50_ms"])
        lines += [
            f"broadcast to {r['clients']:,} idle clients{' offering permessage-deflate' if r.get('deflate') else ''}, {r['broadcasts']} broadcasts each:",
            "| figure | " + " | ".join(kinds) + " |",
            "| --- |" + " --- |" * len(kinds),
            "| p50 (ms) | " + " | ".join(f"{r['p50_ms'][k]:.2f}" for k in kinds) + " |",
            "| p99 (ms) | " + " | ".join(f"{r['p99_ms'][k]:.2f}" for k in kinds) + " |",
            "| max (ms) | " + " | ".join(f"{r['max_ms'][k]:.2f}" for k in kinds) + " |",
            "| memory per idle connection (KiB) | " + " | ".join(f"{r['memory_per_connection_kb'][k]:.1f}" for k in kinds) + " |",
            "| objects the collector tracks per connection | " + " | ".join(f"{r['tracked_objects_per_connection'][k]:.0f}" for k in kinds) + " |",
            "| collector pauses during broadcasts: count (full) | "
            + " | ".join(f"{r['gc_during_broadcasts'][k]['gc_collections']} ({r['gc_during_broadcasts'][k]['gc_full_collections']})" for k in kinds)
            + " |",
            "| longest collector pause (ms) | " + " | ".join(f"{r['gc_during_broadcasts'][k]['gc_max_ms']:.2f}" for k in kinds) + " |",
        ]
        if "vs_websockets" in r:
            v = r["vs_websockets"]
            lines += [
                "| p50 / websockets' | " + " | ".join(f"{v[k]['p50']:.2f}" for k in kinds) + " |",
                "| p99 / websockets' | " + " | ".join(f"{v[k]['p99']:.2f}" for k in kinds) + " |",
                "| memory / websockets' | " + " | ".join(f"{v[k]['memory']:.2f}" for k in kinds) + " |",
            ]
        lines.append("")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench broadcast", description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1000, 10000], help="numbers of idle clients (default: 1000 10000)")
    parser.add_argument("--broadcasts", type=int, default=20, help="broadcasts per server (default 20)")
    parser.add_argument("--kinds", default=",".join(BROADCAST_KINDS), help=f"servers to compare (default {','.join(BROADCAST_KINDS)})")
    parser.add_argument("--deflate", action="store_true", help="the clients offer permessage-deflate, as browsers do (memory per connection with compression on)")
    parser.add_argument("--baseline", metavar="DIR", help="also run the tutorial's servers from the checkout DIR (e.g. the code before a change: git archive COMMIT | tar -x -C DIR), side by side")
    parser.add_argument("--output", help="also write the figures to this JSON file")
    return parser


def raise_file_limit(wanted: int) -> None:
    """Raise this process's (and so its children's) open-file limit: each server holds one socket per client."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        raise SystemExit(f"the open-file limit is {soft}, below the {wanted} this run needs; lower --clients or raise the hard limit (ulimit -Hn)")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    kinds = tuple(k.strip() for k in args.kinds.split(",") if k.strip())
    unknown = sorted(set(kinds) - set(BROADCAST_KINDS))
    if unknown:
        raise SystemExit(f"unknown server kinds {unknown}; choose from {','.join(BROADCAST_KINDS)}")
    kinds = baseline_kinds(kinds, args.baseline)
    raise_file_limit(max(args.clients) + 256)
    results = []
    for count in args.clients:
        print(f"broadcast: {count} clients per server, {args.broadcasts} broadcasts", file=sys.stderr, flush=True)
        results.append(measure_broadcast(count, args.broadcasts, kinds, deflate=args.deflate))
    print(table(results))
    if args.output:
        with open(args.output, "w") as out:
            json.dump({"load": os.getloadavg(), "results": results}, out, indent=2)
    return 0
