"""ServerOptions (a server's settings, checked once) and running code on the server's loop (call/run)."""

from __future__ import annotations

import threading

import pytest

import wstutorial
from wstutorial.server.app import make_app
from wstutorial.server.handlers import HelloHandler
from wstutorial.server.options import ServerOptions


def test_start_server_keywords_become_one_options_object() -> None:
    """start_server's keywords (as users write them) build the same ServerOptions the server keeps."""
    with wstutorial.start_server(port=0, interval=0.5, allowed_origins=["HTTP://Localhost:8889/"], ping_timeout=3) as server:
        assert server.options == ServerOptions(interval=0.5, allowed_origins=("http://localhost:8889",), ping_timeout=3)
        assert server.context.options is server.options and server.context.hub is server.hub


def test_options_object_instead_of_keywords() -> None:
    """options=ServerOptions(...) works; mixing it with keywords is refused rather than half applied."""
    options = ServerOptions(interval=0.25)
    with wstutorial.start_server(port=0, options=options) as server:
        assert server.stream.interval == 0.25
    with pytest.raises(TypeError, match="either as options=ServerOptions"):
        wstutorial.start_server(port=0, options=options, interval=1)


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"interval": 0}, ValueError, "interval must be a positive number of seconds, got 0"),
        ({"max_message_size": 0}, ValueError, "max_message_size must be a positive number of bytes, got 0"),
        ({"max_message_size": True}, ValueError, "max_message_size must be a positive number of bytes, got True"),
        ({"ping_interval": -1}, ValueError, "ping_interval must be a positive number of seconds or None, got -1"),
        ({"allowed_origins": ["*"]}, ValueError, "one by one"),
        ({"allowed_origins": "http://localhost:8889"}, TypeError, "a list of origins"),
        ({"handlers": {"ws": HelloHandler}}, ValueError, "a handler's path must start with '/', got 'ws'"),
        ({"handlers": {"/ws": print}}, TypeError, "the handler for '/ws' must be a WebSocketHandler subclass"),
    ],
)
def test_bad_options_are_named(changes: dict[str, object], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        ServerOptions(**changes)  # type: ignore[arg-type]


def test_bad_options_leave_the_running_server_alone() -> None:
    """A re-run cell with a typo raises before it stops the server already on that port."""
    with wstutorial.start_server(port=0) as server:
        with pytest.raises(ValueError, match="max_message_size"):
            wstutorial.start_server(port=server.port, max_message_size=0)
        assert server.running


def test_tornado_gets_the_limits() -> None:
    """max_message_size, ping_interval and ping_timeout reach Tornado's settings (ping_timeout no longer slips through)."""
    app = make_app(ServerOptions(max_message_size=10, ping_interval=4, ping_timeout=2, tornado_settings={"debug": False}))
    assert app.settings["websocket_max_message_size"] == 10
    assert (app.settings["websocket_ping_interval"], app.settings["websocket_ping_timeout"]) == (4, 2)
    assert app.settings["debug"] is False


def test_call_and_run_work_on_the_servers_loop(server: wstutorial.TutorialServer) -> None:
    """call(fn, *args) and run(coroutine) execute in the server's thread and return the result."""
    assert server.call(lambda a, b: (threading.current_thread(), a + b), 1, 2) == (server.thread, 3)

    async def names() -> list[str]:
        return server.hub.client_names()

    assert server.run(names()) == []
    server.stop()
    with pytest.raises(wstutorial.ServerError, match="is stopped"):
        server.call(len, [])
