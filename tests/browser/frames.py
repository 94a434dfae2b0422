"""The pages in a notebook's output frames (IFrame), read from Python: what each one shows.

A frame's page comes from the tutorial's server, another origin than
JupyterLab's, so the notebook page's own script cannot look inside it;
Playwright can (``page.frames``). Each tutorial page shows whether its
WebSocket is connected; :func:`frame_states` reads that for every frame, by
the page's file name.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass

from playwright.sync_api import Error, Page

__all__ = ["FrameState", "frame_states", "page_name"]

# What each page shows, read in its frame: a JavaScript function returning
# {connected, text}. `connected` is the page's own sign of an open WebSocket.
READERS = {
    # notebook 03's hello.html connects when "open" is pressed: green fields then.
    "hello.html": """() => {
        const field = document.getElementById("host");
        return {connected: getComputedStyle(field).backgroundColor === "rgb(0, 255, 0)",
                text: document.getElementById("status").textContent};
    }""",
    "streaming.html": """() => {
        const status = document.getElementById("status");
        return {connected: status.className === "open" && Number(document.getElementById("count").textContent) > 0,
                text: status.textContent + " (" + document.getElementById("count").textContent + " received)"};
    }""",
    "reconnect.html": """() => ({connected: window.reconnectState.status === "connected",
        text: window.reconnectState.status + " (connections: " + window.reconnectState.connections + ")",
        connections: window.reconnectState.connections})""",
    "chat.html": """() => {
        const status = document.getElementById("status");
        return {connected: status.className === "open", text: status.textContent};
    }""",
    # The student's pages in a check's frame (03): the check's server stops after the check,
    # so "closed, code 1001" is the sign that the page had connected (1006: it never did).
    "send_on_open.html": """() => {
        const text = document.getElementById("status").textContent;
        return {connected: text.startsWith("open") || text.startsWith("closed, code 1001"), text};
    }""",
    "reconnect-exercise": """() => {
        const text = document.getElementById("status").textContent;
        return {connected: !/1006|connecting/.test(text), text};
    }""",
    # The student's own program's page (03's standalone exercise), served at "/".
    "": """() => {
        const status = document.getElementById("status");
        return {connected: status.className === "open", text: status.textContent};
    }""",
}


@dataclass
class FrameState:
    """One frame's page: its name, whether it shows a connected WebSocket, what it says."""

    name: str
    url: str
    connected: bool
    text: str
    connections: int = 0


def page_name(url: str) -> str:
    """The page's file name ('' for a program's own page at '/'); the student's reconnect page is 'reconnect-exercise'."""
    path = urllib.parse.urlsplit(url).path
    name = path.rsplit("/", 1)[-1]
    if name == "reconnect.html" and "/my/" in path:
        return "reconnect-exercise"
    return name


def frame_states(page: Page) -> list[FrameState]:
    """What the page in every output frame (a notebook's ``IFrame``) shows now, in the notebook's order.

    A frame whose page did not load ("refused to connect") shows as not
    connected, with that said; a frame of no known page is left out.
    """
    states = []
    for element in page.locator(".jp-OutputArea iframe").element_handles():
        url = str(element.evaluate("frame => frame.src"))
        name = page_name(url)
        reader = READERS.get(name)
        if reader is None:
            continue
        frame = element.content_frame()
        if frame is None or not frame.url.startswith("http"):
            states.append(FrameState(name, url, False, f"not loaded ({frame.url if frame else 'no frame'})"))
            continue
        try:
            found = frame.evaluate(reader)
        except Error as error:  # still loading, or its script failed
            states.append(FrameState(name, url, False, f"not readable: {str(error).splitlines()[0]}"))
            continue
        states.append(
            FrameState(name, url, bool(found["connected"]), str(found["text"]), int(found.get("connections") or 0))
        )
    return states
