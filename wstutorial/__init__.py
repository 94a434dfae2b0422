"""wstutorial: the WebSockets tutorial with Tornado, as an importable package.

    >>> import wstutorial
    >>> server = wstutorial.start_server(port=0)      # runs in a background thread
    >>> with wstutorial.connect_blocking(server.ws_url("/ws")) as client:
    ...     client.receive()
    'Hello World'
    >>> server.stop()
    1

Every name is imported on first use (``lazy.py``): ``import wstutorial`` loads
neither the server nor the client until a script uses one of them, and the
panels (``ClientPanel``, ``ServerConsole``, ``StreamView``) load ipywidgets only then.
"""

from typing import TYPE_CHECKING

from .lazy import lazy_import

__version__ = "0.1.0"

_WHERE = {
    "Backoff": "reconnect",
    "BlockingClient": "client",
    "Classroom": "classroom.server",
    "Client": "client",
    "ClientPanel": "widgets.panels",
    "ClientState": "clientstate",
    "ConnectionClosed": "client",
    "ConnectionFailed": "client",
    "EchoHandler": "server.handlers",
    "Event": "events",
    "EventLog": "events",
    "HelloHandler": "server.handlers",
    "InvalidAddress": "address",
    "JsonHandler": "server.jsonproto",
    "PortInUse": "server.runner",
    "ReconnectingClient": "reconnect",
    "SensorHandler": "server.sensor",
    "ServerConsole": "widgets.panels",
    "ServerError": "server.runner",
    "ServerOptions": "server.options",
    "StreamView": "widgets.panels",
    "StreamingHandler": "server.handlers",
    "TutorialHandler": "server.handlers",
    "TutorialServer": "server.runner",
    "UpdateBatcher": "widgets.batching",
    "connect": "client",
    "connect_blocking": "client",
    "connect_reconnecting": "reconnect",
    "running_servers": "server.runner",
    "start_classroom": "classroom.server",
    "start_server": "server.runner",
    "stop_all": "server.runner",
    "ws_url": "address",
}

__all__ = [
    "Backoff",
    "BlockingClient",
    "Classroom",
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
    "start_classroom",
    "start_server",
    "stop_all",
    "ws_url",
]

if TYPE_CHECKING:
    from .address import InvalidAddress, ws_url
    from .classroom.server import Classroom, start_classroom
    from .client import BlockingClient, Client, ConnectionClosed, ConnectionFailed, connect, connect_blocking
    from .clientstate import ClientState
    from .events import Event, EventLog
    from .reconnect import Backoff, ReconnectingClient, connect_reconnecting
    from .server.handlers import EchoHandler, HelloHandler, StreamingHandler, TutorialHandler
    from .server.jsonproto import JsonHandler
    from .server.options import ServerOptions
    from .server.runner import PortInUse, ServerError, TutorialServer, running_servers, start_server, stop_all
    from .server.sensor import SensorHandler
    from .widgets.batching import UpdateBatcher

    # Not in __all__: `from wstutorial import *` must not load ipywidgets.
    from .widgets.panels import ClientPanel as ClientPanel
    from .widgets.panels import ServerConsole as ServerConsole
    from .widgets.panels import StreamView as StreamView
else:
    lazy_import(globals(), _WHERE)
