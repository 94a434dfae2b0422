"""Timing broadcasts to every client (notebook 09): real worker processes, a real redis-server, real clients."""

from __future__ import annotations

import asyncio
from typing import Iterator

import pytest

from helpers import child_processes
from wstutorial.server.cluster import Cluster, start_cluster
from wstutorial.services.redisserver import RedisServer
from wstutorial.teaching.broadcast_timing import BroadcastTiming, compare_processes, format_table, time_broadcasts


@pytest.fixture(scope="module")
def cluster(redis_server: RedisServer) -> Iterator[Cluster]:
    """Two worker processes broadcasting through the module's redis-server."""
    running = start_cluster(workers=2, redis_url=redis_server.url, channel="test:broadcast-timing")
    try:
        yield running
    finally:
        running.stop()


def test_timing_table_from_a_run(cluster: Cluster) -> None:
    """time_broadcasts times real broadcasts; the table has one row per run."""
    timing = asyncio.run(time_broadcasts(cluster, clients=8, rounds=3))
    assert (timing.workers, timing.clients, timing.rounds) == (2, 8, 3)
    assert 0 < timing.median_ms <= timing.slowest_ms
    lines = format_table([timing]).splitlines()
    assert lines[0].split() == ["processes", "clients", "broadcasts", "median", "slowest"]
    assert lines[1].split()[:3] == ["2", "8", "3"]


@pytest.mark.parametrize(("clients", "rounds"), [(0, 3), (3, 0), (-1, -1)])
def test_no_clients_or_no_rounds_is_refused_with_the_values(cluster: Cluster, clients: int, rounds: int) -> None:
    """Fewer than one client or round: a ValueError naming both values, before any client connects."""
    with pytest.raises(ValueError, match=f"^clients and rounds must be at least 1, got clients={clients}, rounds={rounds}$"):
        asyncio.run(time_broadcasts(cluster, clients=clients, rounds=rounds))


def test_compare_processes_runs_each_worker_count_in_turn_and_stops_it(redis_server: RedisServer) -> None:
    """One timing per worker count, in the order given, and no worker process is left running after."""
    before = child_processes("python")
    timings = asyncio.run(compare_processes(redis_server.url, worker_counts=(2, 1), clients=3, rounds=2))
    assert [(timing.workers, timing.clients, timing.rounds) for timing in timings] == [(2, 3, 2), (1, 3, 2)]
    assert child_processes("python") == before


def test_the_result_reads_as_a_sentence_and_as_table_rows() -> None:
    """str() says 'process' for one and 'processes' for more; format_table right-aligns one row per timing, in ms."""
    one = BroadcastTiming(workers=1, clients=40, rounds=10, median_ms=2.345, slowest_ms=12.0)
    four = BroadcastTiming(workers=4, clients=40, rounds=10, median_ms=1.25, slowest_ms=103.46)
    assert str(one) == "1 process, 40 clients: median 2.3 ms, slowest 12.0 ms over 10 broadcasts"
    assert str(four) == "4 processes, 40 clients: median 1.2 ms, slowest 103.5 ms over 10 broadcasts"
    assert format_table([one, four]).splitlines() == [
        "processes  clients  broadcasts      median     slowest",
        "        1       40          10      2.3 ms     12.0 ms",
        "        4       40          10      1.2 ms    103.5 ms",
    ]
    assert format_table([]) == "processes  clients  broadcasts      median     slowest"
