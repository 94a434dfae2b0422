"""The classroom's server, on the teacher's machine: one room for a whole class.

``server`` (``start_classroom``, its handlers and the teacher's page),
``room`` (members, chat, presence), ``board`` (the progress board),
``gateway`` and ``worker`` (``--workers``: students on several processes,
the room in one, over Redis), ``wheels`` (the wheelhouse at ``/wheels/``).
The rules and message format both sides share are in ``wstutorial.chatrules``;
the student's side is ``wstutorial.student``, which never imports this package.
"""

from typing import TYPE_CHECKING

from ..lazy import lazy_import

__all__ = ["ChatRoom", "Classroom", "ProgressBoard", "start_classroom"]

if TYPE_CHECKING:
    from .board import ProgressBoard
    from .room import ChatRoom
    from .server import Classroom, start_classroom
else:
    lazy_import(
        globals(),
        {"ChatRoom": "room", "Classroom": "server", "ProgressBoard": "board", "start_classroom": "server"},
    )
