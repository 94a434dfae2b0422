"""Who is connected: the lists the teacher's page shows, from this process and from the workers.

Shared by the classroom's handlers (``server.py``) and, with ``--workers``, the
room's gateway (``gateway.py``), which receives each worker's report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from tornado.web import HTTPError
from tornado.websocket import WebSocketHandler

from ..chatrules import NameRejected, validate_name
from ..messages import MessageType

if TYPE_CHECKING:
    from .room import ChatRoom

__all__ = [
    "CONNECTIONS_DELAY",
    "MAX_LISTED",
    "WATCHED_PATHS",
    "WORKER_PATHS",
    "RemoteConnections",
    "connection_label",
    "connection_name",
    "connections_message",
]

# The paths whose connections the teacher's page lists (what the students use in 02, 04 and 06).
WATCHED_PATHS = ("/ws", "/streaming", "/chat")
# The paths a worker process reports to the teacher's page (its /chat students are the room's members).
WORKER_PATHS = ("/ws", "/streaming")
# A page listing hundreds of addresses helps nobody: beyond this, the page says how many more.
MAX_LISTED = 100
# Connections come and go in bursts (a class pressing Run All): one update per burst.
CONNECTIONS_DELAY = 0.25

def connection_name(handler: WebSocketHandler) -> str:
    """The name a connection gave: its chat name, else a valid ``?name=`` from its address, else ''."""
    name = getattr(handler, "member_name", None)
    if name:
        return str(name)
    try:
        raw = handler.get_argument("name", "")  # notebook 06 adds ?name=NAME to /ws and /streaming
    except HTTPError:
        # Not UTF-8: TutorialHandler.prepare refuses it, but a handler of the
        # student's own may skip that, and the teacher's page must go on.
        return ""
    if raw:
        try:
            return validate_name(raw)
        except NameRejected:
            pass  # shown by number: a bad name is never displayed
    return ""


def connection_label(handler: WebSocketHandler) -> str:
    """How the teacher's page names one connection: the name it gave (:func:`connection_name`), else its number and address."""
    return connection_name(handler) or f"{getattr(handler, 'client_name', '?')} from {handler.request.remote_ip}"


class RemoteConnections:
    """Who is connected on ``/ws`` and ``/streaming`` of each worker process (``--workers``), as it reports it. Server loop only.

    A worker's link sends its labels (at most :data:`MAX_LISTED` a path) and
    counts after each change (:mod:`.gateway`); the teacher's page adds them
    to the room's process's own.
    """

    def __init__(self) -> None:
        self.labels: dict[str, dict[str, list[str]]] = {}  # worker -> path -> labels
        self.counts: dict[str, dict[str, int]] = {}  # worker -> path -> how many (also those not listed)
        self._listeners: list[Callable[[], None]] = []

    def update(self, worker: str, labels: dict[str, list[str]], counts: dict[str, int]) -> None:
        self.labels[worker] = {path: [str(label) for label in labels.get(path, ())][:MAX_LISTED] for path in WORKER_PATHS}
        self.counts[worker] = {path: int(counts.get(path, len(self.labels[worker][path]))) for path in WORKER_PATHS}
        self._changed()

    def drop(self, worker: str) -> None:
        """A worker is gone: so are its connections."""
        if self.labels.pop(worker, None) is not None:
            self.counts.pop(worker, None)
            self._changed()

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener()`` after each change; returns the function that unsubscribes."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def _changed(self) -> None:
        for listener in list(self._listeners):
            listener()


def connections_message(hub: Any, room: ChatRoom | None = None, remote: RemoteConnections | None = None) -> dict[str, Any]:
    """``{"type": "connections", "paths": {path: [labels]}, "more": {path: n}}`` for :data:`WATCHED_PATHS`. Server loop only.

    With ``room``, ``/chat`` lists the room's members: with ``--workers``
    they include the students whose sockets are on worker processes; with
    ``remote``, ``/ws`` and ``/streaming`` include the workers' connections.
    """
    paths: dict[str, list[str]] = {}
    more: dict[str, int] = {}
    for path in WATCHED_PATHS:
        if path == "/chat" and room is not None:
            labels = room.names
            total = len(labels)
        else:
            labels = [connection_label(handler) for handler in hub.open_handlers(path)]
            total = len(labels)
            if remote is not None:
                for worker, listed in remote.labels.items():
                    labels.extend(listed.get(path, ()))
                    total += remote.counts[worker].get(path, 0)
            labels.sort(key=str.casefold)
        paths[path] = labels[:MAX_LISTED]
        if total > len(paths[path]):
            more[path] = total - len(paths[path])
    return {"type": MessageType.CONNECTIONS, "paths": paths, "more": more}
