"""The notebook's panels (ipywidgets) and the batching that keeps them fast.

``batching`` needs no ipywidgets; ``panels``, ``chatpanel`` and
``programview`` do, and are imported on first use (``from wstutorial.widgets
import ClientPanel``), so ``import wstutorial`` works without JupyterLab installed.
"""

from typing import TYPE_CHECKING

from ..lazy import lazy_import

__all__ = ["ChatPanel", "ClientPanel", "ProgramView", "ServerConsole", "StreamView", "UpdateBatcher"]

if TYPE_CHECKING:
    from .batching import UpdateBatcher
    from .chatpanel import ChatPanel
    from .panels import ClientPanel, ServerConsole, StreamView
    from .programview import ProgramView
else:
    lazy_import(
        globals(),
        {
            "ChatPanel": "chatpanel",
            "ClientPanel": "panels",
            "ProgramView": "programview",
            "ServerConsole": "panels",
            "StreamView": "panels",
            "UpdateBatcher": "batching",
        },
    )
