"""The hub (server/hub.py): who is connected, and sending to them."""

from __future__ import annotations

import pytest

import wstutorial


def test_broadcast_reaches_every_client_on_the_path(server: wstutorial.TutorialServer) -> None:
    """broadcast(path, message) is thread-safe and reaches all clients of that path."""
    clients = [wstutorial.connect_blocking(server.ws_url("/ws")) for _ in range(3)]
    for client in clients:
        assert client.receive() == "Hello World"
    assert server.broadcast("/ws", "to everyone") == 3
    assert [client.receive() for client in clients] == ["to everyone"] * 3
    assert len(server.clients("/ws")) == 3
    for client in clients:
        client.close()
    with pytest.raises(wstutorial.ServerError, match="stopped"):
        server.stop()
        server.broadcast("/ws", "too late")
