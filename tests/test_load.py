"""A class-sized crowd and more: 1,000 clients at once on loopback."""

from __future__ import annotations

import asyncio
import resource
from typing import Iterator

import pytest
import websockets

import wstutorial

CLIENTS = 1000


@pytest.fixture
def enough_file_descriptors() -> Iterator[None]:
    """Raise this process's open-file limit to the hard limit: each client costs two descriptors here."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 2 * CLIENTS + 200
    if hard != resource.RLIM_INFINITY and hard < wanted:
        raise AssertionError(f"the hard limit of open files is {hard}; this test needs {wanted} (ulimit -Hn)")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else wanted * 2, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_thousand_clients_get_hello_world_and_a_broadcast(enough_file_descriptors: None) -> None:
    """1,000 concurrent clients each get Hello World, then one broadcast reaches every one of them."""
    with wstutorial.start_server(port=0) as server:

        async def scenario() -> None:
            # Connect in waves so the listen backlog is not the thing being tested.
            gate = asyncio.Semaphore(100)

            async def join() -> websockets.ClientConnection:
                async with gate:
                    client = await websockets.connect(server.ws_url("/ws"), open_timeout=60)
                    assert await client.recv() == "Hello World"
                    return client

            async with asyncio.timeout(120):  # an upper bound for a loaded machine, not a measurement
                clients = await asyncio.gather(*(join() for _ in range(CLIENTS)))
                try:
                    assert len(await asyncio.to_thread(server.clients, "/ws")) == CLIENTS
                    sent = await asyncio.to_thread(server.broadcast, "/ws", "to all 1000")
                    assert sent == CLIENTS
                    received = await asyncio.gather(*(client.recv() for client in clients))
                    assert received == ["to all 1000"] * CLIENTS
                finally:
                    await asyncio.gather(*(client.close() for client in clients))

        asyncio.run(scenario())
        assert server.thread.is_alive()
        assert server.events.find("error", kind="error") is None
