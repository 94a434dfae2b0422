"""A real JupyterLab for the browser tests: start it, open a notebook, run it all.

The server runs from the test venv (``sys.executable -m jupyter lab``) on a
free port with a token, in its own config/data/settings directories so that
nothing of the user's JupyterLab (kernels, settings, open tabs) leaks in, and
with news and update checks off: the network is closed and their pop-ups
would cover the notebook.

Cells that are meant to raise carry the cell tag ``raises-exception`` (the tag
JupyterLab's "Run All" and nbval both honour): there an error is required,
anywhere else a traceback is a failure.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from playwright.sync_api import Page

from wstutorial.address import free_port, port_is_free

__all__ = ["JupyterLab", "CellResult", "RAISES_TAG", "free_port", "port_is_free", "run_all_cells", "run_through", "problems"]

RAISES_TAG = "raises-exception"

# Settings for the lab's own (temporary) user-settings directory.
USER_SETTINGS = {
    # No "Would you like to receive official Jupyter news?" and no update check.
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
    # Every cell stays in the page, so the test sees all outputs.
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


@dataclass
class JupyterLab:
    """A running ``jupyter lab`` serving ``root``; kernels get ``$WSTUTORIAL_PORT``."""

    root: Path
    home: Path
    tutorial_port: int = field(default_factory=free_port)
    port: int = field(default_factory=free_port)
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.home / "jupyterlab.log"

    def log_tail(self, chars: int = 20_000) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError as error:
            return f"(no log: {error})"

    def start(self, timeout: float = 180.0) -> None:
        settings = self.home / "user-settings"
        for name, values in USER_SETTINGS.items():
            path = settings / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values), encoding="utf-8")
        env = dict(os.environ)
        env.update(
            WSTUTORIAL_PORT=str(self.tutorial_port),
            JUPYTER_CONFIG_DIR=str(self.home / "config"),
            JUPYTER_DATA_DIR=str(self.home / "data"),
            JUPYTER_RUNTIME_DIR=str(self.home / "runtime"),
            IPYTHONDIR=str(self.home / "ipython"),
            PYTHONUNBUFFERED="1",
        )
        command = [
            sys.executable, "-m", "jupyter", "lab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            f"--LabApp.user_settings_dir={settings}",
            f"--LabApp.workspaces_dir={self.home / 'workspaces'}",
            # Lets the tests read cell models (tags, outputs) from the page.
            "--LabApp.expose_app_in_browser=True",
            # No extension manager: it would query PyPI over a closed network.
            "--LabApp.extension_manager=readonly",
        ]
        if os.geteuid() == 0:  # CI containers run as root
            command.append("--ServerApp.allow_root=True")
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=self.root)
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                self.api("GET", "/api/status")
                return
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"jupyter lab did not answer within {timeout} s:\n{self.log_tail()}")
            time.sleep(0.5)

    def api(self, method: str, path: str) -> Any:
        request = urllib.request.Request(
            self.base_url + path, method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def notebook_url(self, relative: str) -> str:
        """The notebook in a workspace of its own: no tabs restored from an earlier test."""
        workspace = "test-" + secrets.token_hex(6)
        return f"{self.base_url}/lab/workspaces/{workspace}/tree/{relative}?token={self.token}"

    def shutdown_kernels(self, timeout: float = 60.0) -> None:
        """Stop every kernel, and wait until the tutorial's port is free for the next notebook."""
        for session in self.api("GET", "/api/sessions"):
            self.api("DELETE", f"/api/sessions/{session['id']}")
        for kernel in self.api("GET", "/api/kernels"):
            self.api("DELETE", f"/api/kernels/{kernel['id']}")
        deadline = time.monotonic() + timeout
        while not port_is_free(self.tutorial_port):
            if time.monotonic() > deadline:
                raise RuntimeError(f"port {self.tutorial_port} still in use {timeout} s after the kernels stopped")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


@dataclass
class CellResult:
    """One cell of the notebook as the page's model holds it after the run."""

    index: int
    cell_type: str
    tags: list[str]
    execution_count: int | None
    outputs: list[dict[str, Any]]
    source: str

    @property
    def errors(self) -> list[str]:
        """Tracebacks shown by the cell: error outputs and tracebacks printed to stderr."""
        found = []
        for output in self.outputs:
            if output.get("output_type") == "error":
                found.append(f"{output.get('ename')}: {output.get('evalue')}\n{strip_ansi(output.get('traceback', ''))}")
            elif output.get("name") == "stderr" and "Traceback" in output.get("text", ""):
                found.append(output["text"])
        return found

    @property
    def text(self) -> str:
        parts = []
        for output in self.outputs:
            parts.append(output.get("text", ""))
            parts.append(output.get("plain", ""))
        return "".join(parts)


ANSI = re.compile(r"\x1b\[[0-9;]*m")


def strip_ansi(text: str) -> str:
    return ANSI.sub("", text)


# Reads the open notebook's cells from JupyterLab's own model.
READ_CELLS = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  return panel.content.widgets.map((cell, index) => {
    const json = cell.model.toJSON();
    const join = value => Array.isArray(value) ? value.join("") : (value || "");
    return {
      index,
      cell_type: json.cell_type,
      tags: (json.metadata && json.metadata.tags) || [],
      execution_count: json.execution_count === undefined ? null : json.execution_count,
      source: join(json.source),
      outputs: (json.outputs || []).map(output => ({
        output_type: output.output_type,
        name: output.name || null,
        text: join(output.text),
        plain: output.data ? join(output.data["text/plain"]) : "",
        ename: output.ename || null,
        evalue: output.evalue || null,
        traceback: join((output.traceback || []).map(line => line + "\\n")),
      })),
    };
  });
}"""

KERNEL_IDLE = """path => {
  const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  if (!panel || !panel.context || panel.context.path !== path || !panel.context.isReady) { return false; }
  const kernel = panel.sessionContext && panel.sessionContext.session && panel.sessionContext.session.kernel;
  return !!kernel && kernel.status === "idle" && kernel.connectionStatus === "connected";
}"""

# Cells queued or running: prompt [*] (set for queued cells too) or executionState.
BUSY_CELLS = """() => window.jupyterapp.shell.currentWidget.content.widgets.filter(cell =>
  cell.model.type === "code" &&
  (cell.model.executionState === "running" ||
   (cell.inputArea && cell.inputArea.promptNode && cell.inputArea.promptNode.textContent.includes("*")))
).length"""

EXECUTED_CELLS = """() => window.jupyterapp.shell.currentWidget.content.widgets.filter(cell =>
  cell.model.type === "code" && cell.model.executionCount !== null).length"""


# Watches the outputs while the cells run, for states that do not last (a
# panel that is green only until a later cell closes it): on every style
# change it notes whether a row of widgets had its host, port and uri fields
# green at once, and every 30 ms which of the given phrases appeared in an
# output or a text area.
WATCH = """phrases => {
  const seen = window.__watch = {green: false, phrases: []};
  const green = element => getComputedStyle(element).backgroundColor === "rgb(0, 255, 0)";
  const scanGreen = () => {
    for (const row of document.querySelectorAll(".jp-OutputArea .widget-hbox")) {
      const labels = new Set();
      for (const text of row.querySelectorAll(".widget-text")) {
        const label = text.querySelector(".widget-label");
        const input = text.querySelector("input");
        if (label && input && (green(input) || green(text))) { labels.add(label.textContent.trim()); }
      }
      if (labels.has("host") && labels.has("port") && labels.has("uri")) { seen.green = true; }
    }
  };
  const scan = () => {
    scanGreen();
    const shown = Array.from(document.querySelectorAll(".jp-OutputArea textarea"), area => area.value)
      .concat(Array.from(document.querySelectorAll(".jp-OutputArea-output"), output => output.textContent))
      .join("\\n");
    for (const phrase of phrases) {
      if (!seen.phrases.includes(phrase) && shown.includes(phrase)) { seen.phrases.push(phrase); }
    }
  };
  window.setInterval(scan, 30);
  // A colour that lasts less than 30 ms is still seen: on every style change.
  new MutationObserver(scanGreen).observe(document.body, {subtree: true, attributes: true, attributeFilter: ["style"]});
}"""


def click_menu(page: Page, menu: str, item: str) -> None:
    """Click ``menu`` in the menu bar, then ``item`` in it, as a user would."""
    page.locator(".lm-MenuBar-item", has_text=re.compile(rf"^{re.escape(menu)}$")).click()
    page.locator(".lm-Menu .lm-Menu-itemLabel", has_text=re.compile(rf"^{re.escape(item)}$")).click()


def open_notebook(page: Page, lab: JupyterLab, relative: str, timeout: float = 120.0) -> None:
    """Open the notebook and wait until its kernel is idle."""
    page.goto(lab.notebook_url(relative))
    page.wait_for_selector(".jp-Notebook .jp-Cell", state="attached", timeout=timeout * 1000)
    page.wait_for_function(KERNEL_IDLE, arg=relative, timeout=timeout * 1000, polling=200)


Poll = Callable[[], None]


def run_all_cells(
    page: Page, lab: JupyterLab, relative: str, watch: tuple[str, ...] = (), timeout: float = 300.0,
    on_poll: Poll | None = None,
) -> list[CellResult]:
    """Open the notebook, clear its stored outputs, Run → Run All Cells; return the cells when finished.

    What the outputs showed during the run is then in ``page.evaluate("window.__watch")``
    (see ``WATCH``; ``watch`` lists the phrases to look for). ``on_poll`` is
    called about twice a second while the cells run (e.g. to note what the
    pages in the outputs' frames show, which the page's own script cannot read).
    """
    open_notebook(page, lab, relative)
    return _run(page, relative, watch, timeout, lambda: click_menu(page, "Run", "Run All Cells"), on_poll)


def run_through(page: Page, lab: JupyterLab, relative: str, last: int, timeout: float = 300.0) -> list[CellResult]:
    """Open the notebook, clear its outputs, run its cells from the first to cell ``last`` (0-based) as Run → Run All Above does."""
    open_notebook(page, lab, relative)

    def start() -> None:
        below = page.locator(".jp-Notebook .jp-Cell").nth(last + 1)
        below.scroll_into_view_if_needed()
        below.click(position={"x": 30, "y": 5})  # its prompt: selects the cell without editing it
        click_menu(page, "Run", "Run All Above Selected Cell")

    return _run(page, relative, (), timeout, start)


def restart_and_run_all(page: Page, relative: str, timeout: float = 300.0, on_poll: Poll | None = None) -> list[CellResult]:
    """In the open notebook: Kernel → Restart Kernel and Run All Cells…, confirmed, as a student does."""

    def restart() -> None:
        click_menu(page, "Kernel", "Restart Kernel and Run All Cells…")
        page.locator(".jp-Dialog .jp-mod-accept").click()

    return _run(page, relative, (), timeout, restart, on_poll)


def _run(
    page: Page, relative: str, watch: tuple[str, ...], timeout: float, start: Callable[[], None],
    on_poll: Poll | None = None,
) -> list[CellResult]:
    # Without the stored outputs and execution counts, all that shows comes from this run.
    click_menu(page, "Edit", "Clear Outputs of All Cells")
    page.wait_for_function(f"() => ({EXECUTED_CELLS})() === 0")
    page.evaluate(WATCH, list(watch))
    start()
    deadline = time.monotonic() + timeout
    # Finished: something ran, no cell waits or runs and the kernel is idle,
    # twice in a row (the kernel goes idle for a moment between two cells).
    settled = 0
    while settled < 2:
        if time.monotonic() > deadline:
            raise AssertionError(f"{relative}: cells still running after {timeout} s")
        page.wait_for_timeout(500)
        if on_poll is not None:
            on_poll()
        if (
            page.evaluate(EXECUTED_CELLS) > 0
            and page.evaluate(BUSY_CELLS) == 0
            and page.evaluate(KERNEL_IDLE, relative)
        ):
            settled += 1
        else:
            settled = 0
    return [CellResult(**cell) for cell in page.evaluate(READ_CELLS)]


def problems(page: Page, cells: list[CellResult]) -> list[str]:
    """Everything wrong with a finished run, one line (or traceback) per problem."""
    found: list[str] = []
    for cell in cells:
        if cell.cell_type != "code":
            continue
        where = f"cell {cell.index} ({cell.source.strip().splitlines()[0][:60] if cell.source.strip() else 'empty'!r})"
        if RAISES_TAG in cell.tags:
            if not cell.errors:
                found.append(f"{where} is tagged {RAISES_TAG!r} but raised nothing")
        else:
            found.extend(f"{where} raised:\n{error}" for error in cell.errors)
        if cell.execution_count is None and cell.source.strip():
            found.append(f"{where} did not run")
    shown = "\n".join(page.evaluate(WIDGET_OUTPUTS))
    for sign in WIDGET_ERRORS:
        if sign in shown:
            found.append(f"an output shows {sign!r} (a widget could not be displayed)")
    return found


# What JupyterLab shows instead of a widget it cannot display: the model is
# unknown to the page, or its JavaScript failed (collapsed error message).
WIDGET_ERRORS = ("Error displaying widget", "Click to show javascript error", "Failed to load model class")

WIDGET_OUTPUTS = """() => Array.from(document.querySelectorAll(".jp-OutputArea-output"), output => output.innerText)"""


# -- a student's hands: one cell at a time ------------------------------------------------------

CELLS = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell"


def read_cells(page: Page) -> list[CellResult]:
    """The open notebook's cells as its model holds them now."""
    return [CellResult(**cell) for cell in page.evaluate(READ_CELLS)]


def select_cell(page: Page, index: int) -> None:
    """Click cell ``index``'s prompt (command mode, the cell selected), as a student does."""
    cell = page.locator(CELLS).nth(index)
    cell.scroll_into_view_if_needed()
    cell.locator(".jp-InputPrompt").click()
    page.keyboard.press("Escape")


# One cell's state, cheaply (READ_CELLS reads every cell with its outputs).
CELL_STATE = """index => {
  const cell = window.jupyterapp.shell.currentWidget.content.widgets[index];
  const prompt = cell.inputArea && cell.inputArea.promptNode ? cell.inputArea.promptNode.textContent : "";
  return {count: cell.model.executionCount, busy: cell.model.executionState === "running" || prompt.includes("*")};
}"""


def run_cell(page: Page, relative: str, index: int, timeout: float = 60.0) -> CellResult:
    """Select cell ``index`` and press Ctrl+Enter (run, stay); wait until it ran and the kernel is idle.

    Ran: its execution count changed (open the notebook with
    :func:`clear_outputs` first, so a stored count is not taken for this run's).
    """
    before = page.evaluate(CELL_STATE, index)["count"]
    select_cell(page, index)
    page.keyboard.press("Control+Enter")
    deadline = time.monotonic() + timeout
    while True:
        if time.monotonic() > deadline:
            raise AssertionError(f"{relative}: cell {index} still running after {timeout} s")
        page.wait_for_timeout(100)
        state = page.evaluate(CELL_STATE, index)
        if state["count"] not in (None, before) and not state["busy"] and page.evaluate(KERNEL_IDLE, relative):
            break
    return read_cells(page)[index]


def clear_outputs(page: Page) -> None:
    """Edit > Clear Outputs of All Cells: what shows from now on comes from this session's runs."""
    click_menu(page, "Edit", "Clear Outputs of All Cells")
    page.wait_for_function(f"() => ({EXECUTED_CELLS})() === 0")


def type_into_cell(page: Page, index: int, text: str) -> None:
    """Replace cell ``index``'s text with ``text``, typed into its editor (as pasted: no auto-indent, no closing brackets)."""
    select_cell(page, index)
    page.keyboard.press("Enter")  # edit mode
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(text)
    page.keyboard.press("Escape")


def delete_at_start(page: Page, index: int, characters: int) -> None:
    """In cell ``index``, put the cursor at the very start and press Delete ``characters`` times."""
    select_cell(page, index)
    page.keyboard.press("Enter")
    page.keyboard.press("Control+Home")
    for _ in range(characters):
        page.keyboard.press("Delete")
    page.keyboard.press("Escape")
