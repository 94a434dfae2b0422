"""No page makes the browser ask for ``/favicon.ico`` (a 404 in the server's log and the student's console).

Chromium asks an origin for ``/favicon.ico`` once, after the first page that
declares no icon; every page of ours declares none (``<link rel="icon"
href="data:,">``). A page without that line (Tornado's own 404 page) comes
last, as the control: the browser's question must come after it, never before.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser

from wstutorial.classroom.server import start_classroom
from wstutorial.teaching.notebook_files import tutorial_files

from .conftest import ROOT

NO_ICON = '<link rel="icon" href="data:,">'
FAVICON_404 = "HTTP 404 GET /favicon.ico"
CONTROL = "no-such-page"


def shipped_pages() -> list[Path]:
    """Every HTML page we ship: the server's, the classroom's handout, the exercises' and solutions' pages."""
    notebooks = ROOT / "notebooks"
    pages = [*sorted((ROOT / "static").glob("*.html")), *sorted((ROOT / "wstutorial").rglob("*.html"))]
    pages += [notebooks / relative for relative in tutorial_files(notebooks) if relative.suffix == ".html"]
    return pages


def test_every_shipped_page_declares_no_icon() -> None:
    """Each HTML file in static/, the package and the notebooks' folders has the no-icon line."""
    pages = shipped_pages()
    assert len(pages) >= 10, pages
    missing = [str(page.relative_to(ROOT)) for page in pages if NO_ICON not in page.read_text(encoding="utf-8")]
    assert not missing, f"add {NO_ICON} to the <head> of {missing}"


def test_the_classrooms_pages_make_chromium_ask_for_no_favicon(browser: Browser, tmp_path: Path) -> None:
    """Every page of static/, the handout and the wheel list, each loaded as a tab of its own: no request for
    /favicon.ico until the control page (Tornado's 404 page, which declares no icon) is loaded."""
    (tmp_path / "wheels").mkdir()
    names = sorted(path.name for path in (ROOT / "static").glob("*.html"))
    pages = [f"{name}?name=Ada" if name == "chat.html" else name for name in names] + ["handout", "wheels/"]
    with start_classroom(port=0, interval=0.05, wheels=tmp_path / "wheels", quiet=True) as classroom:
        base = f"http://127.0.0.1:{classroom.port}/"
        context = browser.new_context()
        try:
            for path in pages:
                response = context.new_page().goto(base + path)
                assert response is not None and response.status == 200, (path, response and response.status)
            control = context.new_page()
            control.goto(base + CONTROL)
            asked = classroom.events.wait_for(FAVICON_404, timeout=15)
        finally:
            context.close()
        texts = [event.text for event in classroom.events.snapshot()]
    control_at = texts.index(f"HTTP 404 GET /{CONTROL}")
    assert texts.index(asked.text) > control_at, (
        f"Chromium asked for /favicon.ico before the control page, after one of {pages}: {texts}"
    )
    assert [text for text in texts if text.startswith("HTTP 404")] == [f"HTTP 404 GET /{CONTROL}", FAVICON_404], texts
