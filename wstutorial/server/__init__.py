"""The tutorial's server: the Tornado application, its handlers, and the runner that puts it in a background thread.

``app`` builds the application, ``handlers`` / ``streaming`` / ``sensor`` are
its WebSocket handlers, ``hub`` keeps the connections and sends to them,
``frames`` builds a frame once for many clients, ``options`` holds a
server's settings (``ServerOptions``), ``context`` what its handlers share,
``runner`` runs it all in a thread (``start_server``).
"""

from typing import TYPE_CHECKING

from ..lazy import lazy_import

__all__ = [
    "EchoHandler",
    "HelloHandler",
    "JsonHandler",
    "PortInUse",
    "SensorHandler",
    "ServerError",
    "ServerOptions",
    "StreamingHandler",
    "TutorialHandler",
    "TutorialServer",
    "make_app",
    "running_servers",
    "start_server",
    "static_dir",
    "stop_all",
]

if TYPE_CHECKING:
    from .app import make_app, static_dir
    from .handlers import EchoHandler, HelloHandler, StreamingHandler, TutorialHandler
    from .jsonproto import JsonHandler
    from .options import ServerOptions
    from .runner import PortInUse, ServerError, TutorialServer, running_servers, start_server, stop_all
    from .sensor import SensorHandler
else:
    lazy_import(
        globals(),
        {
            "EchoHandler": "handlers",
            "HelloHandler": "handlers",
            "JsonHandler": "jsonproto",
            "PortInUse": "runner",
            "SensorHandler": "sensor",
            "ServerError": "runner",
            "ServerOptions": "options",
            "StreamingHandler": "handlers",
            "TutorialHandler": "handlers",
            "TutorialServer": "runner",
            "make_app": "app",
            "running_servers": "runner",
            "start_server": "runner",
            "static_dir": "app",
            "stop_all": "runner",
        },
    )
