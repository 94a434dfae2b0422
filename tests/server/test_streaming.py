"""The part-2 stream (server/streaming.py): one counter for every listener, running only while someone listens."""

from __future__ import annotations

from websockets.sync.client import connect

import wstutorial


def test_stream_runs_only_while_someone_listens(server: wstutorial.TutorialServer) -> None:
    """The sending task starts with the first client and stops with the last."""
    assert not server.call(lambda: server.stream.running)
    with connect(server.ws_url("/streaming")) as websocket:
        assert str(websocket.recv(timeout=10)).startswith("message: ")
        assert server.call(lambda: server.stream.running)
    server.events.wait_for("stream stopped")
    assert not server.call(lambda: server.stream.running)
