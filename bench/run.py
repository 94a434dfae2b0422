"""Run every measurement, print a table, write the figures as JSON.

    python -m bench            # the full run (a few minutes; the slow client alone takes 30 s)
    python -m bench --quick    # a quick look (about a minute)

Servers run in their own processes and are measured side by side: in each
round every server is measured once, in alternating order, and the figures
are medians over rounds. Comparisons are ratios within a round, so load from
other programs on the machine affects both sides alike.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import statistics
import sys
from pathlib import Path
from typing import Any, Callable

from . import measure
from .servers import KINDS

__all__ = ["main", "build_parser", "TARGETS"]

RESULTS = Path(__file__).resolve().parent / "results"

# name: (where in the results, how to compare, target, what it means)
TARGETS: list[tuple[str, str, str, float]] = [
    ("echo: background thread vs standalone (speed)", "echo.thread_vs_standalone", ">=", 0.95),
    ("echo: standalone vs websockets (speed)", "echo.standalone_vs_websockets", ">=", 1.0),
    ("stream: messages/s to one client", "stream.rate.thread", ">=", 100_000),
    ("broadcast to N clients: p99 (ms)", "broadcast.p99_ms.thread", "<=", 100),
    ("start_server median (ms)", "lifecycle.start_ms_median", "<=", 50),
    ("stop median (ms)", "lifecycle.stop_ms_median", "<=", 100),
    ("notebook view: widget messages/s on IOPub", "notebook.widget_msgs_per_s", "<", 1000),
    ("notebook view: trivial cell median (ms)", "notebook.cell_ms_median", "<=", 50),
    ("slow client: server memory growth (MB)", "slow_client.rss_growth_mb", "<=", 50),
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes for a quick look (about a minute)")
    parser.add_argument("--rounds", type=int, help="rounds per comparison (default 7; quick 3)")
    parser.add_argument("--echo-messages", type=int, help="round trips per server per round (default 3000; quick 500)")
    parser.add_argument("--stream-seconds", type=float, help="seconds of stream per server per round (default 2; quick 0.5)")
    parser.add_argument("--clients", type=int, help="clients of the broadcast (default 1000; quick 200)")
    parser.add_argument("--broadcasts", type=int, help="broadcasts per server (default 20; quick 5)")
    parser.add_argument("--slow-seconds", type=float, help="how long the slow client reads nothing (default 30; quick 5)")
    parser.add_argument("--cycles", type=int, help="start/stop cycles (default 40; quick 10)")
    parser.add_argument("--notebook-rate", type=float, default=10_000, help="messages/s streamed into the notebook view (default 10000)")
    parser.add_argument("--notebook-seconds", type=float, help="seconds of the notebook view under load (default 10; quick 3)")
    parser.add_argument("--kernel-tick", type=float, default=0.01, help="the busy main loop of the thread server wakes every this many seconds (default 0.01)")
    parser.add_argument("--kernel-work", type=float, default=0.0002, help="... and works this many seconds each time, holding the GIL (default 0.0002)")
    parser.add_argument("--output", type=Path, help="the JSON file to write (default bench/results/bench-<time>.json)")
    return parser


def _defaults(args: argparse.Namespace) -> None:
    full = dict(rounds=7, echo_messages=3000, stream_seconds=2.0, clients=1000, broadcasts=20, slow_seconds=30.0, cycles=40, notebook_seconds=10.0)
    quick = dict(rounds=3, echo_messages=500, stream_seconds=0.5, clients=200, broadcasts=5, slow_seconds=5.0, cycles=10, notebook_seconds=3.0)
    for name, value in (quick if args.quick else full).items():
        if getattr(args, name) is None:
            setattr(args, name, value)


def _orders(rounds: int) -> list[tuple[str, ...]]:
    """Alternate the servers' order round by round, so a drift in load hits all alike."""
    return [KINDS if r % 2 == 0 else tuple(reversed(KINDS)) for r in range(rounds)]


def _progress(text: str) -> None:
    print(f"  {text}", file=sys.stderr, flush=True)


def run_echo(servers: dict[str, measure.ServerProcess], args: argparse.Namespace) -> dict[str, Any]:
    rounds: list[dict[str, float]] = []
    for order in _orders(args.rounds):
        rounds.append({kind: measure.echo_round(servers[kind], args.echo_messages) for kind in order})
    rtt = {kind: statistics.median(r[kind] for r in rounds) * 1e6 for kind in KINDS}

    def ratio(slow: str, fast: str) -> float:  # speed of `fast` relative to `slow`, per round
        return statistics.median(r[slow] / r[fast] for r in rounds)

    return {
        "rtt_us": rtt,
        "thread_vs_standalone": ratio("standalone", "thread"),
        "standalone_vs_websockets": ratio("websockets", "standalone"),
        "standalone_vs_tornado": ratio("tornado", "standalone"),
        "tcp_floor_vs_standalone": ratio("standalone", "tcp"),
        "rounds": rounds,
    }


def run_stream(servers: dict[str, measure.ServerProcess], args: argparse.Namespace) -> dict[str, Any]:
    rounds: list[dict[str, dict[str, float]]] = []
    for order in _orders(args.rounds):
        rounds.append({kind: measure.stream_round(servers[kind], args.stream_seconds) for kind in order})
    return {
        "rate": {kind: statistics.median(r[kind]["rate"] for r in rounds) for kind in KINDS},
        "dropped": {kind: statistics.median(r[kind]["dropped"] for r in rounds) for kind in KINDS},
        "thread_vs_tornado": statistics.median(r["thread"]["rate"] / r["tornado"]["rate"] for r in rounds),
        "thread_vs_websockets": statistics.median(r["thread"]["rate"] / r["websockets"]["rate"] for r in rounds),
        "thread_vs_tcp_floor": statistics.median(r["thread"]["rate"] / r["tcp"]["rate"] for r in rounds),
        "rounds": rounds,
    }


def run_broadcast(servers: dict[str, measure.ServerProcess], args: argparse.Namespace) -> dict[str, Any]:
    clients = {kind: measure.connect_many(servers[kind], args.clients) for kind in KINDS}
    latencies: dict[str, list[float]] = {kind: [] for kind in KINDS}
    try:
        for b, order in enumerate(_orders(args.broadcasts)):
            for kind in order:
                latencies[kind] += measure.broadcast_once(servers[kind], clients[kind], f"broadcast {b}")
    finally:
        for sockets in clients.values():
            for sock in sockets:
                sock.close()
    return {
        "clients": args.clients,
        "broadcasts": args.broadcasts,
        "p50_ms": {kind: measure.percentile(v, 50) * 1e3 for kind, v in latencies.items()},
        "p99_ms": {kind: measure.percentile(v, 99) * 1e3 for kind, v in latencies.items()},
    }


def run_lifecycle(args: argparse.Namespace) -> dict[str, Any]:
    times = measure.lifecycle(args.cycles)
    return {
        "start_ms_median": statistics.median(times["start"]) * 1e3,
        "stop_ms_median": statistics.median(times["stop"]) * 1e3,
        "stop_with_client_ms_median": statistics.median(times["stop_with_client"]) * 1e3,
        "start_ms_max": max(times["start"]) * 1e3,
        "stop_ms_max": max(times["stop"] + times["stop_with_client"]) * 1e3,
    }


def lookup(results: dict[str, Any], path: str) -> Any:
    value: Any = results
    for part in path.split("."):
        value = value[part]
    return value


def check_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    compare: dict[str, Callable[[float, float], bool]] = {
        ">=": lambda a, b: a >= b,
        "<=": lambda a, b: a <= b,
        "<": lambda a, b: a < b,
    }
    rows = []
    for name, path, op, target in TARGETS:
        value = float(lookup(results, path))
        rows.append({"name": name, "figure": path, "value": value, "target": f"{op} {target:g}", "met": compare[op](value, target)})
    return rows


def _fmt(value: float) -> str:
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}"


def table(results: dict[str, Any]) -> str:
    """The figures as a Markdown table (as in the README's Performance section)."""
    echo, stream, broadcast = results["echo"], results["stream"], results["broadcast"]
    lines = [
        "| figure | thread (start_server) | standalone | plain Tornado | websockets | TCP floor |",
        "| --- | --- | --- | --- | --- | --- |",
        "| echo round trip, median (µs) | " + " | ".join(_fmt(echo["rtt_us"][k]) for k in KINDS) + " |",
        "| stream to one client (messages/s) | " + " | ".join(_fmt(stream["rate"][k]) for k in KINDS) + " |",
        "| stream: share of messages dropped | " + " | ".join(f"{stream['dropped'][k]:.1%}" for k in KINDS) + " |",
        f"| broadcast to {broadcast['clients']} clients, p50 (ms) | " + " | ".join(_fmt(broadcast["p50_ms"][k]) for k in KINDS) + " |",
        f"| broadcast to {broadcast['clients']} clients, p99 (ms) | " + " | ".join(_fmt(broadcast["p99_ms"][k]) for k in KINDS) + " |",
        "",
        "| target | measured | target | met |",
        "| --- | --- | --- | --- |",
    ]
    for row in results["targets"]:
        lines.append(f"| {row['name']} | {_fmt(row['value'])} | {row['target']} | {'yes' if row['met'] else 'NO'} |")
    slow, life, nb = results["slow_client"], results["lifecycle"], results["notebook"]
    lines += [
        "",
        "| other figures | measured |",
        "| --- | --- |",
        f"| echo: standalone vs plain Tornado (speed) | {_fmt(echo['standalone_vs_tornado'])} |",
        f"| echo: TCP floor vs standalone (speed) | {_fmt(echo['tcp_floor_vs_standalone'])} |",
        f"| stream: thread vs plain Tornado / websockets / TCP floor | {_fmt(stream['thread_vs_tornado'])} / {_fmt(stream['thread_vs_websockets'])} / {_fmt(stream['thread_vs_tcp_floor'])} |",
        f"| stop with one client connected, median (ms) | {_fmt(life['stop_with_client_ms_median'])} |",
        f"| slow client ({results['options']['slow_seconds']:g} s): other clients' rate with / without it (before and after) | {_fmt(slow['rate_with_slow'])} / {_fmt(slow['rate_without_slow'])} messages/s ({slow['rate_ratio']:.2f}) |",
        f"| slow client: closed by the server's ping timeout during the test | {'yes' if slow['slow_closed_by_server'] else 'no'} |",
        f"| notebook view: messages/s received by the view (asked {nb['rate_asked']:g}) | {_fmt(nb['view_msgs_per_s'])} |",
        f"| notebook view: all IOPub messages/s | {_fmt(nb['iopub_msgs_per_s'])} |",
        f"| notebook view: trivial cell, idle kernel / max under load (ms) | {_fmt(nb['cell_ms_idle_median'])} / {_fmt(nb['cell_ms_max'])} |",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _defaults(args)
    # 5 servers x N broadcast clients, all in this process.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = len(KINDS) * args.clients + 256
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
    results: dict[str, Any] = {
        "options": {key: (str(value) if isinstance(value, Path) else value) for key, value in vars(args).items()},
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_before": os.getloadavg(),
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        },
    }
    import tornado
    import websockets

    results["machine"].update(tornado=tornado.version, websockets=websockets.__version__)
    print("starting the servers ...", file=sys.stderr, flush=True)
    kernel = {"BENCH_KERNEL_TICK": repr(args.kernel_tick), "BENCH_KERNEL_WORK": repr(args.kernel_work)}
    servers = {kind: measure.ServerProcess(kind, env=kernel) for kind in KINDS}
    try:
        _progress(f"echo: {args.rounds} rounds of {args.echo_messages} round trips per server")
        results["echo"] = run_echo(servers, args)
        _progress(f"stream: {args.rounds} rounds of {args.stream_seconds:g} s per server")
        results["stream"] = run_stream(servers, args)
        _progress(f"broadcast: {args.broadcasts} broadcasts to {args.clients} clients per server")
        results["broadcast"] = run_broadcast(servers, args)
        _progress(f"slow client: reads nothing for {args.slow_seconds:g} s")
        results["slow_client"] = measure.slow_client(servers["thread"], args.slow_seconds)
    finally:
        for server in servers.values():
            server.close()
    _progress(f"start/stop: {args.cycles} cycles")
    results["lifecycle"] = run_lifecycle(args)
    _progress(f"notebook view: {args.notebook_rate:g} messages/s for {args.notebook_seconds:g} s in a real kernel")
    from .notebook import measure_notebook_view

    results["notebook"] = measure_notebook_view(args.notebook_rate, args.notebook_seconds, cells=max(10, int(args.notebook_seconds * 5)))
    results["machine"]["load_after"] = os.getloadavg()
    results["targets"] = check_targets(results)
    output = args.output or RESULTS / f"bench-{datetime.datetime.now():%Y%m%d-%H%M%S}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    print(f"\nfigures written to {output}")
    return 0
