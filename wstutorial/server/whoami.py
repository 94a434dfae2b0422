"""``/whoami``: what the server believes about a connection (notebook 08, behind a proxy).

Sends one JSON message with the client's address and scheme as Tornado sees
them (``remote_ip``, ``protocol``; with ``xheaders=True`` taken from the
proxy's ``X-Real-Ip`` / ``X-Forwarded-For`` / ``X-Forwarded-Proto``), the
Host and Origin of the handshake, and the forwarding headers as they arrived.
"""

from __future__ import annotations

import json
from typing import Any

from ..events import EventKind
from .handlers import TutorialHandler

__all__ = ["WhoAmIHandler", "FORWARDING_HEADERS"]

FORWARDING_HEADERS = ("X-Real-Ip", "X-Forwarded-For", "X-Forwarded-Proto")


class WhoAmIHandler(TutorialHandler):
    def open(self, *args: Any, **kwargs: Any) -> None:
        request = self.request
        seen = {
            "remote_ip": request.remote_ip,
            "protocol": request.protocol,
            "host": request.host,
            "origin": request.headers.get("Origin"),
            "headers": {name: request.headers.get(name) for name in FORWARDING_HEADERS if name in request.headers},
        }
        self.record(f"new connection from {request.remote_ip} over {request.protocol}", kind=EventKind.OPEN)
        self.write_message(json.dumps(seen))
