"""Record a page's alert() dialogs so a test can wait for one by its text."""

from __future__ import annotations

import time

from playwright.sync_api import Dialog, Page

__all__ = ["Dialogs"]


class Dialogs:
    """Accepts every dialog of a page and keeps their messages in order."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.messages: list[str] = []
        page.on("dialog", self._on_dialog)

    def _on_dialog(self, dialog: Dialog) -> None:
        self.messages.append(dialog.message)
        dialog.accept()

    def wait_for(self, message: str, timeout: float = 20.0) -> None:
        """Wait until a dialog said exactly ``message``; fail naming what was seen."""
        deadline = time.monotonic() + timeout
        while message not in self.messages:
            if time.monotonic() > deadline:
                raise AssertionError(f"no dialog {message!r} within {timeout} s; dialogs seen: {self.messages!r}")
            # wait_for_timeout lets Playwright deliver events (the dialogs) meanwhile.
            self.page.wait_for_timeout(50)
