"""One server for a whole class: the chat room's rules, the room, its handlers, and a student's side.

``rules`` (names, limits, the message format) is shared; ``room`` and
``server`` run on the teacher's machine; ``student`` is what a student's
notebook uses and never imports the server. Names are imported on first use,
so ``import wstutorial.classroom.student`` does not load the server.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["ChatRoom", "ChatState", "Classroom", "NameRejected", "start_classroom", "validate_name"]

_WHERE = {
    "ChatRoom": "room",
    "ChatState": "student",
    "Classroom": "server",
    "NameRejected": "rules",
    "start_classroom": "server",
    "validate_name": "rules",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
