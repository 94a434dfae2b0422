"""Numbers of the WebSocket protocol (RFC 6455) shared by the client, the server and the teaching code."""

from __future__ import annotations

__all__ = ["DEFAULT_MAX_MESSAGE_SIZE"]

# Tornado's default is 10 MiB; a tutorial's messages are small, and a class of
# students sharing one server should not be able to make it buffer much.
DEFAULT_MAX_MESSAGE_SIZE = 1024 * 1024
