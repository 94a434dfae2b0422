"""How long a broadcast takes to reach every client: one process vs several (notebook 09).

The clients run here, on the notebook's event loop; the workers are separate
processes. One round: publish a message on Redis, wait until every client
has it; the time of a round is from the publish to the last arrival.
Clients are spread round robin over the workers, as a load balancer would.
"""

from __future__ import annotations

import asyncio
import dataclasses
import statistics
import time
from typing import Iterable, Sequence

from ..client import Client, connect
from ..server.cluster import Cluster, start_cluster

__all__ = ["BroadcastTiming", "time_broadcasts", "compare_processes", "format_table"]


@dataclasses.dataclass(frozen=True)
class BroadcastTiming:
    """The result of :func:`time_broadcasts`; times in milliseconds."""

    workers: int
    clients: int
    rounds: int
    median_ms: float
    slowest_ms: float

    def __str__(self) -> str:
        processes = "process" if self.workers == 1 else "processes"
        return (
            f"{self.workers} {processes}, {self.clients} clients: median {self.median_ms:.1f} ms, "
            f"slowest {self.slowest_ms:.1f} ms over {self.rounds} broadcasts"
        )


async def time_broadcasts(cluster: Cluster, clients: int = 40, rounds: int = 10, path: str = "/updates") -> BroadcastTiming:
    """Connect ``clients`` clients over the cluster's workers, then time ``rounds`` broadcasts."""
    if clients < 1 or rounds < 1:
        raise ValueError(f"clients and rounds must be at least 1, got clients={clients!r}, rounds={rounds!r}")
    connections: list[Client] = []
    try:
        for number in range(clients):
            connections.append(await connect(cluster.ws_url(path, number)))
        times: list[float] = []
        for round_number in range(rounds):
            text = f"broadcast {round_number}"
            start = time.perf_counter()
            reached = cluster.broadcast(path, text)
            if reached != len(cluster.workers):
                raise RuntimeError(f"the broadcast reached {reached} of {len(cluster.workers)} workers")
            received = await asyncio.gather(*(connection.receive(timeout=10) for connection in connections))
            times.append((time.perf_counter() - start) * 1000)
            wrong = [message for message in received if message != text]
            if wrong:
                raise RuntimeError(f"a client received {wrong[0]!r} instead of {text!r}")
    finally:
        await asyncio.gather(*(connection.close() for connection in connections), return_exceptions=True)
    return BroadcastTiming(len(cluster.workers), clients, rounds, statistics.median(times), max(times))


async def compare_processes(
    redis_url: str, worker_counts: Iterable[int] = (1, 4), clients: int = 40, rounds: int = 10
) -> list[BroadcastTiming]:
    """The same broadcasts to the same number of clients, on 1, then 4 (...) processes."""
    results = []
    for workers in worker_counts:
        cluster = await asyncio.to_thread(start_cluster, workers, redis_url, channel=f"wstutorial:timing:{workers}")
        try:
            results.append(await time_broadcasts(cluster, clients, rounds))
        finally:
            await asyncio.to_thread(cluster.stop)
    return results


def format_table(timings: Sequence[BroadcastTiming]) -> str:
    """A plain-text table of the timings, one row per run."""
    lines = [
        f"{'processes':>9}  {'clients':>7}  {'broadcasts':>10}  {'median':>10}  {'slowest':>10}",
    ]
    for timing in timings:
        lines.append(
            f"{timing.workers:>9}  {timing.clients:>7}  {timing.rounds:>10}  "
            f"{timing.median_ms:>7.1f} ms  {timing.slowest_ms:>7.1f} ms"
        )
    return "\n".join(lines)
