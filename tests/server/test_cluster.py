"""Several server processes broadcasting through a real Redis (notebook 09)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Iterator

import pytest
import redis
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as websockets_connect

import wstutorial
from helpers import Running, free_port, poll_until
from wstutorial.events import EventKind
from wstutorial.server.cluster import Cluster, start_cluster
from wstutorial.services import ServiceError
from wstutorial.services.redisserver import RedisServer, start_redis


@pytest.fixture(scope="module")
def cluster(redis_server: RedisServer) -> Iterator[Cluster]:
    running = start_cluster(workers=4, redis_url=redis_server.url, channel="test:cluster")
    try:
        yield running
    finally:
        running.stop()


def test_broadcast_reaches_every_client_of_every_process(cluster: Cluster) -> None:
    """Two clients per worker, four workers: one publish reaches all eight, each worker sends to its own two."""
    ports = {worker.port for worker in cluster.workers}
    assert len(ports) == 4 and all(worker.process.pid for worker in cluster.workers)

    async def run() -> list[str | bytes]:
        clients = [await wstutorial.connect(cluster.ws_url("/updates", number)) for number in range(8)]
        try:
            assert cluster.broadcast("/updates", "to everyone") == 4
            return await asyncio.gather(*(client.receive(timeout=10) for client in clients))
        finally:
            await asyncio.gather(*(client.close() for client in clients))

    assert asyncio.run(run()) == ["to everyone"] * 8


def test_each_worker_sends_only_to_its_own_clients(cluster: Cluster) -> None:
    """Each worker's relay sends to the clients connected to that process (an independent client: websockets)."""
    # The test before closed its clients from their side: a worker may not have seen every close yet
    # (it counted 2 clients here once, in one run out of five). Each worker's events come in order,
    # but one worker's may come later than the others' (a total over all workers passed with one
    # worker's events still on their way, and that worker then sent to a client of the test before).
    # So, per worker: every broadcast relayed (the same count everywhere) and each open has its close.
    def every_earlier_client_gone() -> bool:
        opened: Counter[str] = Counter()
        closed: Counter[str] = Counter()
        relayed: Counter[str] = Counter()
        for event in cluster.events.snapshot():
            worker = event.client.split(" client")[0]
            if event.path == "/updates" and event.kind == EventKind.OPEN:
                opened[worker] += 1
            elif event.path == "/updates" and event.kind == EventKind.CLOSE:
                closed[worker] += 1
            elif event.text.startswith("broadcast from Redis"):
                relayed[worker] += 1
        workers = [f"worker {number}" for number in range(1, len(cluster.workers) + 1)]
        return opened == closed and len({relayed[worker] for worker in workers}) == 1

    poll_until(every_earlier_client_gone)
    after = cluster.events.next_seq
    with websockets_connect(cluster.workers[2].ws_url("/updates")) as client:
        cluster.events.wait_for("new connection", after=after, timeout=10)
        assert cluster.broadcast("/updates", "only one listens") == 4
        assert client.recv(timeout=10) == "only one listens"
        texts = []
        seen = after
        for _ in cluster.workers:  # one relay event per worker, in whatever order they come
            event = cluster.events.wait_for("broadcast from Redis", after=seen, timeout=10)
            texts.append((event.client, event.text))
            seen = event.seq + 1
    sent = sorted(texts)
    assert [client for client, _ in sent] == ["worker 1", "worker 2", "worker 3", "worker 4"]
    assert sent[2][1] == "broadcast from Redis sent to 1 clients on /updates", sent
    assert all(text.endswith("sent to 0 clients on /updates") for client, text in sent if client != "worker 3"), sent


def test_stop_closes_clients_with_going_away(redis_server: RedisServer) -> None:
    """Stopping the cluster ends every worker process; their clients get 1001."""
    small = start_cluster(workers=2, redis_url=redis_server.url, channel="test:stop")
    processes = [worker.process for worker in small.workers]
    with websockets_connect(small.ws_url("/updates", 1)) as client:
        small.events.wait_for("new connection", timeout=10)
        assert small.stop() == 1  # clients closed, all workers together
        with pytest.raises(ConnectionClosed):
            client.recv(timeout=10)
        assert client.close_code == 1001
    assert all(process.poll() is not None for process in processes)
    assert small.stop() == 0
    with pytest.raises(ServiceError, match="the cluster is stopped"):
        small.broadcast("/updates", "anyone?")


def test_worker_that_cannot_reach_redis_says_so() -> None:
    """A Redis URL nobody answers at stops start_cluster with a sentence naming it."""
    port = free_port()
    with pytest.raises(ServiceError, match=rf"cannot reach Redis at redis://127.0.0.1:{port}/0"):
        start_cluster(workers=1, redis_url=f"redis://127.0.0.1:{port}/0")


@pytest.mark.parametrize("workers", [0, 33, 2.5])
def test_bad_worker_count(workers: object) -> None:
    """workers must be 1 to 32."""
    with pytest.raises(ValueError, match=f"got {workers!r}"):
        start_cluster(workers=workers)  # type: ignore[arg-type]


def test_serve_with_workers_on_the_command_line() -> None:
    """`serve --workers 2` prints each process's address; a publish reaches a client; Ctrl-C closes it with 1001."""
    import re

    from wstutorial.server.relay import publish

    with Running("serve", "--workers", "2", "--port", "0") as serving:
        updates = re.findall(r"ws://127\.0\.0\.1:\d+/updates", serving.text)
        redis_url = re.search(r"through Redis at (redis://\S+)", serving.text)
        assert len(set(updates)) == 2 and redis_url, serving.text
        with websockets_connect(updates[1]) as client:
            assert publish(redis_url.group(1), "/updates", "from the command line") == 2
            assert client.recv(timeout=10) == "from the command line"
            code, printed = serving.interrupt()
            with pytest.raises(ConnectionClosed):
                client.recv(timeout=10)
            assert client.close_code == 1001
    assert code == 0, printed
    assert "Stopped: 1 WebSocket client(s) closed with 1001" in printed


def test_serve_refuses_a_bad_worker_count() -> None:
    """--workers 0 is one line and exit code 2."""
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "wstutorial", "serve", "--workers", "0"], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert "workers must be a whole number from 1 to 32, got '0'" in result.stderr


def test_relay_survives_a_redis_restart() -> None:
    """Redis stops and comes back on the same port: the workers subscribe again and later broadcasts arrive."""
    first = start_redis(reuse=False)  # its own, to stop and start again
    port = first.port
    cluster = start_cluster(workers=2, redis_url=first.url, channel="test:restart")
    try:
        with websockets_connect(cluster.ws_url("/updates", 0)) as client:
            cluster.events.wait_for("new connection", timeout=10)
            after = cluster.events.next_seq
            first.stop()
            cluster.events.wait_for("relay lost Redis", after=after, timeout=10)
            second = start_redis(port=port, reuse=False)
            try:
                # Published before the workers are back, a broadcast reaches nobody (pub/sub keeps nothing):
                # wait until Redis counts both workers as subscribers again.
                counter = redis.Redis.from_url(second.url)
                deadline = time.monotonic() + 10
                while dict(counter.pubsub_numsub("test:restart")).get(b"test:restart") != 2:
                    assert time.monotonic() < deadline, "the workers did not subscribe again within 10 s"
                    time.sleep(0.05)
                counter.close()
                assert cluster.broadcast("/updates", "after the restart") == 2
                assert client.recv(timeout=10) == "after the restart"
            finally:
                cluster.stop()
                second.stop()
    finally:
        cluster.stop()
        first.stop()


def test_a_worker_that_dies_is_reported(redis_server: RedisServer) -> None:
    """A worker process killed from outside shows as an error event naming it."""
    small = start_cluster(workers=1, redis_url=redis_server.url, channel="test:die")
    try:
        small.workers[0].process.kill()
        assert small.events.wait_for("worker 1 exited unexpectedly", timeout=10).kind == "error"
    finally:
        small.stop()


def test_nginx_spreads_connections_over_the_workers(cluster: Cluster) -> None:
    """A real load balancer: nginx (least_conn) in front of four workers puts two of eight connections on each."""
    from wstutorial.services.nginxproxy import start_nginx

    balancer = start_nginx([worker.port for worker in cluster.workers])
    after = cluster.events.next_seq

    async def run() -> list[str | bytes]:
        clients = [await wstutorial.connect(balancer.ws_url("/updates")) for _ in range(8)]
        try:
            seen = after
            for _ in clients:  # one "new connection" per client, from whichever worker got it
                seen = cluster.events.wait_for("new connection", after=seen, timeout=10).seq + 1
            assert cluster.broadcast("/updates", "through nginx") == 4
            return await asyncio.gather(*(client.receive(timeout=10) for client in clients))
        finally:
            await asyncio.gather(*(client.close() for client in clients))

    try:
        assert asyncio.run(run()) == ["through nginx"] * 8
    finally:
        balancer.stop()
    opened = [event.client.split(" client")[0] for event in cluster.events.snapshot(after) if event.text == "new connection"]
    assert sorted(opened) == ["worker 1", "worker 1", "worker 2", "worker 2", "worker 3", "worker 3", "worker 4", "worker 4"]


def test_starting_again_on_a_channel_replaces_the_cluster(redis_server: RedisServer) -> None:
    """Re-running the cell that starts a cluster stops the old processes instead of adding more."""
    first = start_cluster(workers=1, redis_url=redis_server.url, channel="test:again")
    old = first.workers[0].process
    second = start_cluster(workers=1, redis_url=redis_server.url, channel="test:again")
    try:
        assert old.poll() is not None and not first.workers
        assert second.running
    finally:
        second.stop()
