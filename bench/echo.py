"""The echo comparison alone: ``python -m bench echo`` (about 30 seconds).

Run it before and after a change that touches receiving. One client sends
``hello`` to ``/echo`` of each server and waits for it, ``--messages`` times
per round; in each round every server is measured once, in alternating
order, and each server's figure is the median over the rounds. With
``--baseline DIR`` the tutorial's servers of another checkout (the code
before a change) run side by side with this one's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from typing import Any

from .measure import ServerProcess, baseline_kinds, echo_round
from .servers import KINDS

__all__ = ["main", "measure_echo"]

REFERENCE = "websockets"


def measure_echo(kinds: tuple[str, ...], rounds: int, messages: int, deflate: bool = False) -> dict[str, Any]:
    """Median round trip per server (µs) and each server's speed relative to ``websockets``, per round."""
    servers = {kind: ServerProcess(kind, env={"BENCH_DEFLATE": "1"} if deflate else None) for kind in kinds}
    try:
        per_round: list[dict[str, float]] = []
        for r in range(rounds):
            order = kinds if r % 2 == 0 else tuple(reversed(kinds))
            per_round.append({kind: echo_round(servers[kind], messages, deflate=deflate) for kind in order})
            print(f"  round {r + 1} of {rounds}", file=sys.stderr, flush=True)
    finally:
        for server in servers.values():
            server.close()
    return {
        "rounds": rounds,
        "messages": messages,
        "deflate": deflate,
        "rtt_us": {kind: statistics.median(r[kind] for r in per_round) * 1e6 for kind in kinds},
        "speed_vs_websockets": {kind: statistics.median(r[REFERENCE] / r[kind] for r in per_round) for kind in kinds}
        if REFERENCE in kinds
        else {},
        "per_round_us": [{kind: value * 1e6 for kind, value in r.items()} for r in per_round],
    }


def table(r: dict[str, Any]) -> str:
    kinds = list(r["rtt_us"])
    lines = [
        f"echo of 'hello'{' (compressed, permessage-deflate)' if r.get('deflate') else ''} on one connection, {r['messages']} round trips per server per round, {r['rounds']} rounds:",
        "| figure | " + " | ".join(kinds) + " |",
        "| --- |" + " --- |" * len(kinds),
        "| round trip, median of round medians (µs) | " + " | ".join(f"{r['rtt_us'][k]:.1f}" for k in kinds) + " |",
    ]
    if r["speed_vs_websockets"]:
        lines.append("| speed vs websockets (median per round) | " + " | ".join(f"{r['speed_vs_websockets'][k]:.2f}" for k in kinds) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench echo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=9, help="rounds (default 9)")
    parser.add_argument("--messages", type=int, default=3000, help="round trips per server per round (default 3000)")
    parser.add_argument("--kinds", default=",".join(KINDS), help=f"servers to compare (default {','.join(KINDS)})")
    parser.add_argument("--deflate", action="store_true", help="the client offers permessage-deflate and sends 'hello' compressed, as browsers do")
    parser.add_argument("--baseline", metavar="DIR", help="also run the tutorial's servers from the checkout DIR (the code before a change), side by side")
    parser.add_argument("--output", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    kinds = tuple(k.strip() for k in args.kinds.split(",") if k.strip())
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown or args.rounds < 1 or args.messages < 1:
        raise SystemExit(f"choose kinds from {','.join(KINDS)} (unknown: {unknown}); --rounds and --messages must be positive")
    result = measure_echo(baseline_kinds(kinds, args.baseline), args.rounds, args.messages, deflate=args.deflate)
    print(table(result))
    if args.output:
        with open(args.output, "w") as out:
            json.dump({"load": os.getloadavg(), "result": result}, out, indent=2)
    return 0
