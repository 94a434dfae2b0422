"""The classroom chat in a notebook: host, port and your name; the room's lines; a box to say something.

UI only: the logic is :class:`~wstutorial.student.chat.ChatState`. Updates are
applied in batches on the kernel's loop (``UpdateBatcher``, about ten per
second) like the other panels, and every name and message is shown as text
(a disabled ``Textarea``), never as HTML.
"""

from __future__ import annotations

from typing import Any, Coroutine

import ipywidgets as widgets

from ..student.chat import ChatState
from .panels import StatePanel, text_area

__all__ = ["ChatPanel"]


class ChatPanel(StatePanel):
    """Join the classroom's chat room from a notebook.

    Args:
        host, port: the classroom server (the teacher's terminal prints them);
            ``port`` defaults to ``$WSTUTORIAL_PORT``, else 8888.
        name: your name in the room.
        max_lines: how many lines are shown (the newest).
        state: show this :class:`ChatState` (e.g. notebook 06's ``lesson.chat``,
            already in the room) instead of making one from the arguments above.
    """

    def __init__(
        self,
        host: str = "localhost",
        port: int | str | None = None,
        name: str = "",
        *,
        max_lines: int = 200,
        state: ChatState | None = None,
        **kwargs: Any,
    ) -> None:
        self.state = state if state is not None else ChatState(host, port, name, max_lines=max_lines)
        self.host_field = widgets.Text(str(self.state.host), description="host", style={"description_width": "3em"})
        self.port_field = widgets.Text(str(self.state.port), description="port", style={"description_width": "3em"})
        self.name_field = widgets.Text(
            self.state.name, description="name", placeholder="your name", style={"description_width": "3em"}
        )
        self.join_button = widgets.Button(description="Join", button_style="success")
        self.leave_button = widgets.Button(description="Leave", button_style="warning")
        self.members = widgets.Label()
        self.lines = text_area(rows=8)
        self.say_field = widgets.Text(placeholder="a message for everyone", layout=widgets.Layout(flex="1"))
        self.say_button = widgets.Button(description="Send")
        self.status = widgets.Label()
        self.join_button.on_click(lambda _: self._start(self._join()))
        self.leave_button.on_click(lambda _: self._start(self.state.leave()))
        self.say_button.on_click(lambda _: self._start(self._say()))
        self._start_updates()
        self.state.on_change(lambda state: self._batcher.put(None))
        super().__init__(
            [
                widgets.HBox([self.host_field, self.port_field, self.name_field]),
                widgets.HBox([self.join_button, self.leave_button, self.members]),
                self.lines,
                widgets.HBox([self.say_field, self.say_button]),
                self.status,
            ],
            **kwargs,
        )
        self.refresh()

    async def _join(self) -> None:
        self.state.host = self.host_field.value
        self.state.port = self.port_field.value
        self.state.name = self.name_field.value
        await self.state.join()

    async def _say(self) -> None:
        if self.say_field.value.strip() and await self.state.say(self.say_field.value):
            self.say_field.value = ""

    def refresh(self) -> None:
        """Show the state now (normally done in batches)."""
        self.lines.value = "\n".join(self.state.lines)
        self.members.value = f"in the room: {', '.join(self.state.members)}" if self.state.members else ""
        error = f" - {self.state.error}" if self.state.error and self.state.status != "failed" else ""
        self.status.value = self.state.summary + error
        joined = self.state.status == "open"
        self.join_button.disabled = joined
        self.leave_button.disabled = not joined
        for field in (self.host_field, self.port_field, self.name_field):
            field.disabled = joined

    def _disconnect(self) -> Coroutine[Any, Any, Any] | None:
        return self.state.leave() if self.state.status == "open" else None
