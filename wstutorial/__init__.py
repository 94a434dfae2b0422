"""wstutorial: the WebSockets tutorial with Tornado, as an importable package.

    >>> import wstutorial
    >>> server = wstutorial.start_server(port=0)      # runs in a background thread
    >>> with wstutorial.connect_blocking(server.ws_url("/ws")) as client:
    ...     client.receive()
    'Hello World'
    >>> server.stop()
    1
"""

from typing import Any

from .address import InvalidAddress, ws_url
from .classroom.server import Classroom, start_classroom
from .client import (
    BlockingClient,
    Client,
    ConnectionClosed,
    ConnectionFailed,
    connect,
    connect_blocking,
)
from .clientstate import ClientState
from .events import Event, EventLog
from .reconnect import Backoff, ReconnectingClient, connect_reconnecting
from .server.handlers import (
    EchoHandler,
    HelloHandler,
    StreamingHandler,
    TutorialHandler,
)
from .server.jsonproto import JsonHandler
from .server.runner import (
    PortInUse,
    ServerError,
    ServerOptions,
    TutorialServer,
    running_servers,
    start_server,
    stop_all,
)
from .server.sensor import SensorHandler
from .widgets.batching import UpdateBatcher

__version__ = "0.1.0"

__all__ = [
    "Classroom",
    "start_classroom",
    "Backoff",
    "BlockingClient",
    "Client",
    "ClientState",
    "ConnectionClosed",
    "ConnectionFailed",
    "EchoHandler",
    "Event",
    "EventLog",
    "HelloHandler",
    "InvalidAddress",
    "JsonHandler",
    "PortInUse",
    "ReconnectingClient",
    "SensorHandler",
    "ServerError",
    "ServerOptions",
    "StreamingHandler",
    "TutorialHandler",
    "TutorialServer",
    "UpdateBatcher",
    "connect",
    "connect_blocking",
    "connect_reconnecting",
    "running_servers",
    "start_server",
    "stop_all",
    "ws_url",
]

# The panels need ipywidgets, which a script or a server does not: they are
# imported on first use (wstutorial.ClientPanel), never by "import wstutorial".
_WIDGETS = ("ServerConsole", "ClientPanel", "StreamView")


def __getattr__(name: str) -> Any:
    if name in _WIDGETS:
        from . import widgets

        return getattr(widgets, name)
    raise AttributeError(f"module 'wstutorial' has no attribute {name!r}")
