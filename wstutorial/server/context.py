"""What the handlers of one server share: ``ServerContext``, one typed object.

Every ``TutorialHandler`` gets it in ``initialize`` (``self.context``), so
handlers reach the hub, the stream and the options by attribute, not by
string keys into ``application.settings``.
"""

from __future__ import annotations

import dataclasses

import tornado.web

from ..events import EventLog
from .hub import Hub
from .limits import ReceiveBudget
from .options import ServerOptions
from .streaming import Stream

__all__ = ["ServerContext", "TutorialApp"]


@dataclasses.dataclass(frozen=True)
class ServerContext:
    """One server's shared parts: connections and sending (``hub``), part 2's ``stream``, its ``options``."""

    hub: Hub
    stream: Stream
    options: ServerOptions
    # Bytes of partly received messages, all connections together (options.max_partial_bytes).
    receive_budget: ReceiveBudget | None = None

    @property
    def events(self) -> EventLog:
        return self.hub.events


class TutorialApp(tornado.web.Application):
    """The tutorial's Tornado application, with its handlers' ``context`` (built by ``make_app``)."""

    context: ServerContext
