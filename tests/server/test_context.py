"""ServerContext: the one typed object every handler of a server gets (``self.context``): its hub, stream, options and events."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from websockets.sync.client import connect as websockets_connect

import wstutorial
from wstutorial.events import EventLog
from wstutorial.server.app import make_app
from wstutorial.server.context import ServerContext, TutorialApp
from wstutorial.server.handlers import TutorialHandler
from wstutorial.server.options import ServerOptions

# The contexts the handlers below were given, in the order they opened.
seen: list[ServerContext] = []


class ContextReport(TutorialHandler):
    """Sends what it reaches through ``self.context``: its server's interval and whether the stream is the hub's."""

    def open(self, *args: Any, **kwargs: Any) -> None:
        seen.append(self.context)
        context = self.context
        self.hub.send(self, json.dumps({"interval": context.options.interval, "stream_uses_hub": context.stream.hub is context.hub}))


def test_each_handler_gets_its_own_servers_context() -> None:
    """Two servers with different settings: a handler of one's own reaches its server's options, hub and stream, not the other's."""
    seen.clear()
    with (
        wstutorial.start_server(port=0, interval=0.5, handlers={"/context": ContextReport}) as one,
        wstutorial.start_server(port=0, interval=2, handlers={"/context": ContextReport}) as two,
    ):
        for server, interval in ((one, 0.5), (two, 2)):
            with websockets_connect(server.ws_url("/context"), open_timeout=10) as client:
                assert json.loads(client.recv(timeout=10)) == {"interval": interval, "stream_uses_hub": True}
        assert seen[0] is one.context and seen[1] is two.context
        assert one.context.hub is one.hub and one.context.stream is one.stream and one.context.hub is not two.context.hub


def test_the_context_holds_the_event_log_it_was_given() -> None:
    """make_app builds a TutorialApp whose context records into the given log (``context.events``) and holds the receive budget of its options."""
    log = EventLog()
    app = make_app(ServerOptions(max_partial_bytes=4096), events=log)
    assert isinstance(app, TutorialApp)
    assert app.context.events is log
    assert app.context.receive_budget is not None and app.context.receive_budget.limit == 4096  # options.max_partial_bytes
    with wstutorial.start_server(port=0, events=log) as server:
        assert server.context.events is log


def test_the_context_cannot_be_changed() -> None:
    """Frozen: a handler cannot swap its server's hub (or options) for everyone."""
    context = make_app().context
    with pytest.raises(dataclasses.FrozenInstanceError):
        context.options = ServerOptions(interval=9)  # type: ignore[misc]
    assert context.options == ServerOptions()
