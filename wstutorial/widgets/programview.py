"""A program's printed lines, live, with a Stop button: the terminal of a program started from a notebook."""

from __future__ import annotations

import collections
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from .batching import UpdateBatcher
from .panels import WIDGET_NOTE, text_area

if TYPE_CHECKING:  # the widgets sit below the teaching layer: only the type is needed here
    from ..teaching.programs import Program

__all__ = ["ProgramView"]


class ProgramView(widgets.VBox):
    """Shows what a :class:`~wstutorial.teaching.programs.Program` prints, as it prints it.

    Lines come from the program's reader thread and are applied on the
    kernel's loop about ten times per second (``UpdateBatcher``); the newest
    ``max_lines`` are shown. The status line says whether it runs, and why
    it ended if it failed.
    """

    def __init__(self, program: Program, max_lines: int = 200, **kwargs: Any) -> None:
        if not callable(getattr(program, "follow", None)):
            raise TypeError(
                f"ProgramView shows a program started with run_program(...), got {type(program).__name__}"
            )
        self.program = program
        self.lines: collections.deque[str] = collections.deque(maxlen=max_lines)
        self.output = text_area(rows=8)
        self.status = widgets.Label()
        self.stop_button = widgets.Button(description="Stop", tooltip=f"stop {program.name}")
        self.stop_button.on_click(lambda _: self.program.stop())
        self._batcher: UpdateBatcher[str | None] = UpdateBatcher(self._apply, maxlen=max_lines + 1)
        super().__init__([widgets.HBox([self.stop_button, self.status]), self.output], **kwargs)
        backlog, self._unsubscribe = program.follow(self._batcher.put)
        self.lines.extend(backlog)
        self._render()

    def _apply(self, batch: list[str | None], dropped: int) -> None:
        for line in batch:
            if line is not None:  # None: the program ended (the status says so)
                self.lines.append(line)
        self._render()

    def _render(self) -> None:
        self.output.value = "\n".join(self.lines)
        program = self.program
        if program.running:
            self.status.value = f"{program.name} is running"
        elif program.problem:
            self.status.value = program.problem
        elif program.returncode is None:
            self.status.value = f"{program.name} has not started"
        else:
            self.status.value = f"{program.name} has stopped"
        self.stop_button.disabled = not program.running

    def __repr__(self) -> str:
        # What a notebook stores as the cell's plain text: say what it is, not its children.
        return f"ProgramView: what {self.program.name} prints {WIDGET_NOTE}"

    @property
    def text(self) -> str:
        """The lines shown, as one string."""
        return self.output.value

    def flush(self) -> None:
        """Show what is queued now (the kernel's loop does this by itself ~10 times per second)."""
        self._batcher.flush()

    def close(self) -> None:
        if hasattr(self, "_unsubscribe"):
            self._unsubscribe()
            self._batcher.close()
        super().close()
