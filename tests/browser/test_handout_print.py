"""The students' handout printed from Chromium: one A4 page, with the longest address and the install line whole."""

from __future__ import annotations

import re
from typing import Iterator

import pytest
from playwright.sync_api import Page

import wstutorial
from wstutorial.classroom.handout import HANDOUT_PATH, HandoutHandler

from .conftest import ARTIFACTS

# The longest a handout gets: a 15-character address, a 5-digit port, the wheelhouse's install line, and two
# addresses to choose from (the machine's Wi-Fi and cable).
ADDRESSES = ["203.0.113.254", "198.51.100.200"]
PORT = 65535


@pytest.fixture
def handout_server() -> Iterator[wstutorial.TutorialServer]:
    """A server on loopback whose handout believes it listens on every interface of a machine with ADDRESSES."""
    route = (HANDOUT_PATH, HandoutHandler, {"bound": "0.0.0.0", "port": lambda: PORT, "wheels": True, "network": lambda: ADDRESSES})
    running = wstutorial.start_server(port=0, routes=[route])
    try:
        yield running
    finally:
        running.stop()


def pdf_pages(pdf: bytes) -> int:
    """The pages of a PDF as Chromium writes it (its page tree's /Count, checked against the page objects)."""
    counts = [int(n) for n in re.findall(rb"/Type\s*/Pages\s*/Count\s+(\d+)", pdf)]
    pages = len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))
    assert counts and max(counts) == pages, (counts, pages)
    return pages


def test_the_handout_prints_on_one_a4_page(page: Page, handout_server: wstutorial.TutorialServer) -> None:
    """page.pdf(format="A4"): one page; the screen-only note is not printed; the page kept for a look (test-artifacts)."""
    page.goto(handout_server.page_url("handout?host=" + ADDRESSES[0]))
    assert page.locator(".screen a").inner_text() == ADDRESSES[1]  # the other address, to print its handout instead
    body = page.inner_text("body")
    assert f'--find-links http://{ADDRESSES[0]}:{PORT}/wheels/ "wstutorial[notebook]"' in body
    assert f'HOST, PORT = "{ADDRESSES[0]}", {PORT}' in body
    pdf = page.pdf(format="A4")
    assert b"/MediaBox [0 0 595.91998 842.88]" in pdf  # A4: 210 x 297 mm
    assert pdf_pages(pdf) == 1
    folder = ARTIFACTS / "handout"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "handout.pdf").write_bytes(pdf)
    page.emulate_media(media="print")
    assert not page.locator(".screen").is_visible()  # "print this page" and the address choice stay on the screen
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    page.screenshot(path=str(folder / "handout-print.png"), full_page=True)
