"""Every JSON message type the package sends or reads, named once.

Three small protocols carry JSON objects with a ``"type"`` (or, from the
teacher's page, an ``"action"``):

- the classroom's, on ``/chat``, ``/readings`` and ``/teacher``
  (:class:`MessageType`; the shapes are in ``chatrules.py`` and ``classroom/server.py``);
- the teacher page's requests on ``/teacher`` (:class:`TeacherAction`);
- ``/json``, the protocol of notebook 07 (:class:`JsonType`; ``server/jsonproto.py``).

Each is a ``StrEnum``: a member is the very string on the wire
(``json.dumps({"type": MessageType.CHAT})`` is ``{"type": "chat"}``) and
compares equal to it; printed, it shows as that string. The pages (``static/chat.js``, ``teacher.js``,
``reconnect.js``) are plain JavaScript with the strings written out, as a
student writes them; ``tests/test_messages.py`` checks that they use only
the types listed here (:data:`PAGE_PROTOCOLS`).
"""

from __future__ import annotations

import enum

__all__ = ["MessageType", "TeacherAction", "JsonType", "PAGE_PROTOCOLS"]


class _WireName(enum.StrEnum):
    """A name as it is on the wire: ``repr()`` too is the string, so a printed message or ``fields`` reads as its JSON."""

    def __repr__(self) -> str:
        return repr(self.value)


class MessageType(_WireName):
    """The ``"type"`` of the classroom's messages (``/chat``, ``/readings``, ``/teacher``)."""

    # A student sends these (chatrules.parse_incoming, parse_progress, parse_progress_batch).
    CHAT = "chat"
    READING = "reading"
    PROGRESS = "progress"  # also the receipt to the student and the new result to the teacher
    PROGRESS_BATCH = "progress_batch"  # also its receipt
    # The room sends these to students.
    WELCOME = "welcome"
    PRESENCE = "presence"
    STREAM = "stream"  # to the teacher as well
    NOTICE = "notice"  # to one student (or the teacher) only
    # The room sends these to the teacher's page.
    ROOM = "room"
    BOARD = "board"
    STUDENT = "student"
    ACTIVITY = "activity"
    CURRENT = "current"
    MEMBERS = "members"
    CONNECTIONS = "connections"


class TeacherAction(_WireName):
    """The ``"action"`` of what the teacher's page sends on ``/teacher``."""

    START_STREAM = "start_stream"
    STOP_STREAM = "stop_stream"
    CURRENT = "current"
    RELEASE = "release"


class JsonType(_WireName):
    """The ``"type"`` of ``/json``'s messages (notebook 07), the server's own; a subclass adds more."""

    ECHO = "echo"  # both ways
    PING = "ping"
    PONG = "pong"
    COUNT = "count"  # both ways
    DONE = "done"
    ERROR = "error"


# Which protocols each page speaks (the page's file in static/ -> its enums).
PAGE_PROTOCOLS: dict[str, tuple[type[enum.StrEnum], ...]] = {
    "chat.js": (MessageType,),
    "teacher.js": (MessageType, TeacherAction),
    "reconnect.js": (JsonType,),
}
