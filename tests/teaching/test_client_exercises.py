"""What the origin check reads from a failed connection (its mistakes are in tests/wrong_answers.py)."""

from __future__ import annotations

import asyncio

import wstutorial


def test_connection_failed_carries_the_http_status() -> None:
    """A 403 and a 404 keep their status; nothing listening has none."""
    with wstutorial.start_server(port=0) as server:
        statuses = []
        for url, origin in ((server.ws_url("/ws"), "http://evil.example"), (server.ws_url("/nowhere"), None)):
            try:
                asyncio.run(wstutorial.connect(url, origin=origin))
            except wstutorial.ConnectionFailed as error:
                statuses.append(error.status)
    try:
        asyncio.run(wstutorial.connect("ws://127.0.0.1:1/ws"))
    except wstutorial.ConnectionFailed as error:
        statuses.append(error.status)
    assert statuses == [403, 404, None]
