"""A student's side of the classroom: what a student's notebook runs, never the room's server.

``chat`` (``ChatState``: joining the teacher's room, the chat, sending check
results), ``lesson`` (notebook 06: one ``NAME``, the teacher's room or a
private one), ``progress`` (the self-check results kept on the student's
computer until the room hears them). It speaks ``wstutorial.chatrules``'s
format and imports nothing of ``wstutorial.classroom`` (the teacher's server),
except to start a room of one's own when working alone.
"""

from typing import TYPE_CHECKING

from ..lazy import lazy_import

__all__ = ["ChatState", "Lesson"]

if TYPE_CHECKING:
    from .chat import ChatState
    from .lesson import Lesson
else:
    lazy_import(globals(), {"ChatState": "chat", "Lesson": "lesson"})
