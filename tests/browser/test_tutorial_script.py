"""scripts/tutorial.sh as a student runs it: the last line opens notebook 00, with nothing in the way."""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest
from playwright.sync_api import Page, expect

from wstutorial.teaching.lab import FIRST_LAYOUT

from .conftest import ROOT
from .jupyterlab import free_port

ADDRESS = re.compile(r"^http://127\.0\.0\.1:(\d+)/lab/tree/00-setup-check\.ipynb\?token=([0-9a-f]{48})$")


class Script:
    """tutorial.sh running, its output lines collected as they come."""

    def __init__(self, home: Path) -> None:
        self.home = home
        env = dict(os.environ)
        env.update(
            WSTUTORIAL_SETUP="0",  # the test's .venv is ready; no network needed
            WSTUTORIAL_VENV=sys.prefix,
            WSTUTORIAL_LAB_PORT=str(free_port()),
            WSTUTORIAL_LAB_LOG=str(home / "jupyterlab.log"),
            WSTUTORIAL_LAB_WORKSPACES=str(home / "workspaces"),
            WSTUTORIAL_PORT=str(free_port()),
            JUPYTER_CONFIG_DIR=str(home / "config"),
            JUPYTER_DATA_DIR=str(home / "data"),
            JUPYTER_RUNTIME_DIR=str(home / "runtime"),
            IPYTHONDIR=str(home / "ipython"),
            PYTHONUNBUFFERED="1",
        )
        env.pop("JUPYTER_TOKEN", None)
        self.process = subprocess.Popen(
            ["bash", str(ROOT / "scripts" / "tutorial.sh"), "--no-browser"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for_address(self, timeout: float = 240.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            self.seen.append(line)
            if ADDRESS.match(line):
                return line
        raise AssertionError("tutorial.sh printed no address to open:\n" + "\n".join(self.seen))

    def printed_since(self) -> list[str]:
        later = []
        while not self.lines.empty():
            later.append(self.lines.get())
        return later

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # python -m wstutorial lab stops JupyterLab and its kernels
            self.process.wait(60)


def names_cut(page: Page, screenshot: Path) -> tuple[list[str], float]:
    """The notebooks' names the file browser cuts, and the sidebar's width in pixels."""
    names = page.locator(".jp-DirListing-itemText")
    expect(names.filter(has_text="05-").first).to_be_visible(timeout=30_000)
    cut = page.evaluate(
        """() => Array.from(document.querySelectorAll(".jp-DirListing-itemText"))
            .filter(item => item.textContent.endsWith(".ipynb") && item.scrollWidth > item.clientWidth + 1)
            .map(item => item.textContent)"""
    )
    width = page.evaluate("() => document.querySelector('#jp-left-stack').getBoundingClientRect().width")
    page.screenshot(path=str(screenshot))
    return cut, width


@pytest.fixture
def script(tmp_path: Path) -> Iterator[Script]:
    running = Script(tmp_path)
    try:
        yield running
    finally:
        running.stop()


@pytest.mark.timeout(600)
def test_last_line_opens_notebook_00_without_popups(page: Page, script: Script) -> None:
    """The last printed line is the address; it opens 00 (not the Launcher), no news question, names not cut."""
    address = script.wait_for_address()
    page.goto(address)
    current = page.locator(".jp-MainAreaWidget .lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel, "
                           "#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel")
    expect(current.first).to_have_text("00-setup-check.ipynb", timeout=120_000)
    expect(page.locator(".jp-Notebook .jp-Cell").first).to_be_visible(timeout=60_000)
    assert page.locator(".jp-Launcher").count() == 0, "the Launcher opened"
    # JupyterLab asks about news a few seconds after it starts, as a notification.
    page.wait_for_timeout(8000)
    assert page.get_by_text("Jupyter news").count() == 0, "JupyterLab asked about official Jupyter news"
    # The file browser shows the notebooks' full names: the first layout makes the sidebar wide enough.
    cut, width = names_cut(page, script.home / "lab.png")
    share = json.loads(FIRST_LAYOUT.read_text())["data"]["layout-restorer:data"]["relativeSizes"][0]
    wanted = share * page.evaluate("() => document.querySelector('#jp-main-split-panel').getBoundingClientRect().width")
    if cut and width < wanted - 20:
        # JupyterLab's restore of the sidebar width races its start-up (jupyterlab/jupyterlab#9904): once in
        # about twenty starts here, under load, it kept its default width. A second fresh start must apply it.
        (script.home / "again").mkdir()
        again = Script(script.home / "again")
        try:
            page.goto(again.wait_for_address())
            cut, width = names_cut(page, script.home / "lab-again.png")
        finally:
            again.stop()
    assert cut == [], f"the file browser cuts these names: {cut} (sidebar {width:.0f} px, the first layout asks {wanted:.0f})"
    later = script.printed_since()
    assert later == [], f"tutorial.sh printed after the address: {later}"
