"""Idle connections and the garbage collector: ``python -m bench idle`` (about two minutes).

What an idle connection costs besides memory: every frame it receives (a
pong per ping interval) may leave objects that wait for the next frame long
enough to reach the collector's oldest generation, and with thousands of
connections the full collections these trigger pause the whole process
(a broadcast, a kernel's cells). For each server (the tutorial's in a
kernel-like process and standalone, and the `websockets` library), with the
same ping interval for all (``--ping-interval``, default 5 s, shorter than
either library's default so a minute shows what several would), it connects
``--clients`` idle clients (``bench.clients``, which answer pings), runs one
full collection, then counts the full collections and their longest pause
over ``--seconds``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

from .broadcast import ClientProcess, connect_crowds, raise_file_limit, settle_all
from .measure import ServerProcess, baseline_kinds

__all__ = ["main", "measure_idle", "IDLE_KINDS"]

IDLE_KINDS = ("thread", "standalone", "websockets")


def measure_idle(clients: int, seconds: float, ping_interval: float, kinds: tuple[str, ...] = IDLE_KINDS) -> dict[str, Any]:
    """Full collections per server while ``clients`` idle clients answer pings every ``ping_interval`` seconds."""
    env = {"BENCH_PING_INTERVAL": repr(ping_interval)}
    servers = {kind: ServerProcess(kind, env=env) for kind in kinds}
    crowds: dict[str, ClientProcess] = {}
    try:
        connect_crowds(servers, clients, crowds)
        settle_all(servers)
        print(f"  idle for {seconds:.0f} s, pinged every {ping_interval} s", file=sys.stderr, flush=True)
        time.sleep(seconds)
        stats = {kind: servers[kind].stats() for kind in kinds}
        still = {kind: crowds[kind].count() for kind in kinds}
    finally:
        for crowd in crowds.values():
            crowd.close()
        for server in servers.values():
            server.close()
    return {
        "clients": clients,
        "seconds": seconds,
        "ping_interval": ping_interval,
        "full_collections": {k: stats[k]["gc_full_collections"] for k in kinds},
        "longest_pause_ms": {k: stats[k]["gc_max_ms"] for k in kinds},
        "collector_ms": {k: stats[k]["gc_total_ms"] for k in kinds},
        "still_connected": still,
    }


def table(r: dict[str, Any]) -> str:
    kinds = list(r["full_collections"])
    return "\n".join(
        [
            f"{r['clients']:,} idle clients, pinged every {r['ping_interval']} s, for {r['seconds']:.0f} s:",
            "| figure | " + " | ".join(kinds) + " |",
            "| --- |" + " --- |" * len(kinds),
            "| full collections | " + " | ".join(str(r["full_collections"][k]) for k in kinds) + " |",
            "| longest collector pause (ms) | " + " | ".join(f"{r['longest_pause_ms'][k]:.0f}" for k in kinds) + " |",
            "| time in the collector (ms) | " + " | ".join(f"{r['collector_ms'][k]:.0f}" for k in kinds) + " |",
            "| clients still connected at the end | " + " | ".join(f"{r['still_connected'][k]:,}" for k in kinds) + " |",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench idle", description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=10000, help="idle clients per server (default 10000)")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to count (default 60)")
    parser.add_argument("--ping-interval", type=float, default=5.0, help="seconds between pings, the same for every server (default 5)")
    parser.add_argument("--baseline", metavar="DIR", help="also run the tutorial's servers from the checkout DIR (the code before a change), side by side")
    parser.add_argument("--output", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.seconds <= 0 or args.ping_interval <= 0:
        raise SystemExit(f"--clients, --seconds and --ping-interval must be positive (got {args.clients}, {args.seconds}, {args.ping_interval})")
    raise_file_limit(args.clients + 256)
    result = measure_idle(args.clients, args.seconds, args.ping_interval, baseline_kinds(IDLE_KINDS, args.baseline))
    print(table(result))
    if args.output:
        with open(args.output, "w") as out:
            json.dump({"load": os.getloadavg(), "result": result}, out, indent=2)
    return 0
