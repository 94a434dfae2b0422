"""start_redis (notebook 09): a real redis-server on a loopback port, reused by a re-run cell, keeping nothing on disk."""

from __future__ import annotations

import socket

import pytest
import redis

from helpers import child_processes, free_port
from wstutorial.services import ServiceError
from wstutorial.services.redisserver import RedisServer, start_redis


def test_redis_server_answers_and_stops(redis_server: RedisServer) -> None:
    """start_redis runs a real redis-server on a loopback port; stop frees the port."""
    assert redis.Redis.from_url(redis_server.url).ping()
    extra = start_redis(reuse=False)  # a second one, beside the module's
    assert extra.url.startswith("redis://127.0.0.1:")
    extra.stop()
    extra.stop()  # twice is fine
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((extra.host, extra.port), timeout=2).close()


def test_starting_again_reuses_the_running_redis(redis_server: RedisServer) -> None:
    """A re-run cell: start_redis() again returns the running Redis (same URL, one redis-server), the repr says so."""
    assert start_redis() is redis_server
    assert child_processes("redis-server") == [redis_server.process.pid]
    assert redis.Redis.from_url(redis_server.url).ping()
    assert repr(redis_server) == (
        f"<RedisServer 127.0.0.1:{redis_server.port} running (reused: an earlier start_redis() in this process started it)>"
    )


def test_after_stop_the_next_start_is_a_new_redis() -> None:
    """Once the Redis of a port was stopped, start_redis(port) starts another one there instead of returning the stopped one."""
    port = free_port()
    first = start_redis(port=port)
    try:
        assert start_redis(port=port) is first
        first.stop()
        second = start_redis(port=port)
        try:
            assert second is not first and second.running and second.port == port
            assert "reused" not in repr(second)
            assert redis.Redis.from_url(second.url).ping()
        finally:
            second.stop()
    finally:
        first.stop()


def test_it_keeps_nothing_on_disk() -> None:
    """No snapshots and no append-only file (as redis-server reports its settings); the folder with its log goes on stop."""
    server = start_redis(reuse=False)
    try:
        client = redis.Redis.from_url(server.url, decode_responses=True)
        try:
            assert client.config_get("save") == {"save": ""}
            assert client.config_get("appendonly") == {"appendonly": "no"}
            assert client.config_get("bind") == {"bind": "127.0.0.1"}
        finally:
            client.close()
        assert server.log.is_file() and server.log.parent == server.folder
    finally:
        server.stop()
    assert not server.folder.exists() and not server.running
    assert repr(server) == f"<RedisServer 127.0.0.1:{server.port} stopped>"


@pytest.mark.parametrize("listening", [False, True], ids=["bound", "listening"])
def test_a_port_another_program_holds_is_refused_before_starting(listening: bool) -> None:
    """A port another program holds (bound, or listening: a connection would succeed): refused, naming it; no redis-server starts."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        if listening:
            holder.listen()
        port = holder.getsockname()[1]
        before = child_processes("redis-server")
        with pytest.raises(ServiceError) as refused:
            start_redis(port=port, reuse=False)
        assert child_processes("redis-server") == before
    assert str(refused.value) == f"port {port} of 127.0.0.1 is taken by another program: give start_redis another port, or none"
