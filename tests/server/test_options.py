"""ServerOptions (a server's settings, checked once) and running code on the server's loop (call/run)."""

from __future__ import annotations

import dataclasses
import threading

import pytest

import wstutorial
from wstutorial.classroom.server import CLASSROOM_MAX_MESSAGE_SIZE, start_classroom
from wstutorial.server.app import make_app
from wstutorial.server.handlers import HelloHandler
from wstutorial.server.options import DEFAULT_INTERVAL, ServerOptions


def test_start_server_keywords_become_one_options_object() -> None:
    """start_server's keywords (as users write them) build the same ServerOptions the server keeps."""
    with wstutorial.start_server(port=0, interval=0.5, allowed_origins=["HTTP://Localhost:8889/"], ping_timeout=3) as server:
        assert server.options == ServerOptions(interval=0.5, allowed_origins=("http://localhost:8889",), ping_timeout=3)
        assert server.context.options is server.options and server.context.hub is server.hub


def test_options_object_and_keywords_on_top() -> None:
    """options=ServerOptions(...) is the starting point; keywords change single settings of it."""
    options = ServerOptions(interval=0.25, max_message_size=100)
    with wstutorial.start_server(port=0, options=options) as server:
        assert server.stream.interval == 0.25
    with wstutorial.start_server(port=0, options=options, interval=1) as server:
        assert server.options == ServerOptions(interval=1, max_message_size=100)


def test_a_name_that_is_no_setting_is_refused_with_the_closest_one() -> None:
    """A typo no longer becomes a Tornado setting in silence: the error names the setting meant, and where Tornado's go."""
    with pytest.raises(TypeError, match=r"start_server\(\) has no setting 'intervall' \(did you mean 'interval'\?\).*tornado_settings="):
        wstutorial.start_server(port=0, intervall=1)
    with pytest.raises(TypeError, match=r"start_server\(\) has no setting 'debug'; the settings are interval, "):
        wstutorial.start_server(port=0, debug=True)


def test_every_setting_is_a_keyword_with_its_help() -> None:
    """Each field is a keyword of start_server (check_host too) and has a line in its docstring and ServerOptions'."""
    names = [field.name for field in dataclasses.fields(ServerOptions)]
    for name in names:
        assert f"        {name}: {ServerOptions.help(name)[:40]}" in (wstutorial.start_server.__doc__ or "")
        assert f"        {name}: " in (ServerOptions.__doc__ or "")
    with wstutorial.start_server(port=0, check_host=False) as server:
        assert server.hub.check_host is False


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"interval": 0}, ValueError, "interval must be a positive number of seconds, got 0"),
        ({"interval": float("inf")}, ValueError, "interval must be a positive number of seconds, got inf"),
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


def test_a_classroom_takes_the_same_settings_from_its_own_defaults() -> None:
    """start_classroom: start_server's settings and checks, starting from CLASSROOM_OPTIONS (no interval of its own)."""
    with start_classroom(port=0, allowed_origins=["http://localhost:8889"]) as classroom:
        options = classroom.server.options
    assert (options.interval, options.max_message_size) == (DEFAULT_INTERVAL, CLASSROOM_MAX_MESSAGE_SIZE)
    assert options.allowed_origins == ("http://localhost:8889",) and "/chat" in options.handlers
    with pytest.raises(TypeError, match=r"start_classroom\(\) has no setting 'max_mesage_size' \(did you mean 'max_message_size'\?\)"):
        start_classroom(port=0, max_mesage_size=10)
