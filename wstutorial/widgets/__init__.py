"""The notebook's panels (ipywidgets) and the batching that keeps them fast.

``batching`` needs no ipywidgets; ``panels`` and ``chatpanel`` do, and are
imported on first use (``from wstutorial.widgets import ClientPanel``), so
``import wstutorial`` works without JupyterLab installed.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["ChatPanel", "ClientPanel", "ProgramView", "ServerConsole", "StreamView", "UpdateBatcher"]

_WHERE = {
    "ChatPanel": "chatpanel",
    "ClientPanel": "panels",
    "ProgramView": "programview",
    "ServerConsole": "panels",
    "StreamView": "panels",
    "UpdateBatcher": "batching",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
