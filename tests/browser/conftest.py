"""Fixtures for the real-browser tests: Debian's chromium driven by Playwright.

Playwright's own browser download needs network access that CI and
classrooms may not have, so the tests launch the system's chromium
(``$WSTUTORIAL_CHROMIUM``, else ``chromium`` on the PATH). When there is none
the tests fail, they never skip: ``scripts/test.sh`` installs it.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Iterator

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

import wstutorial

from .dialogs import Dialogs

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"

# Without the background-networking flags Chromium keeps trying to reach
# Google's services, which floods a closed network and slows every test.
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root, where the sandbox cannot start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    """The Chromium executable to drive; fails (not skips) when there is none."""
    configured = os.environ.get("WSTUTORIAL_CHROMIUM", "").strip()
    if configured:
        if not (os.path.isfile(configured) and os.access(configured, os.X_OK)):
            pytest.fail(f"$WSTUTORIAL_CHROMIUM={configured!r} is not an executable file; point it at Chromium")
        return configured
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail(
        "the browser tests need Chromium and none was found: run 'bash scripts/test.sh' "
        "(it installs Debian's chromium), 'sudo apt-get install chromium', "
        "or set WSTUTORIAL_CHROMIUM to a Chromium executable"
    )


# Package scope, not session: Playwright's sync API keeps an asyncio loop
# running on the main thread while it is open, so the other tests'
# asyncio.run() would fail ("cannot be called from a running event loop").
@pytest.fixture(scope="package")
def playwright_driver() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    """One headless Chromium for all browser tests (each test gets its own context).

    Playwright gives the browser a fresh temporary profile (user-data-dir).
    """
    launched = playwright_driver.chromium.launch(
        executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
    )
    try:
        yield launched
    finally:
        launched.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    """Keep each phase's report on the item, so fixtures can see a failure."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def failed(request: pytest.FixtureRequest) -> bool:
    return any(
        getattr(request.node, f"report_{when}", None) is not None
        and getattr(request.node, f"report_{when}").failed
        for when in ("setup", "call")
    )


def artifact_dir(request: pytest.FixtureRequest) -> Path:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid.split("::", 1)[-1])
    folder = ARTIFACTS / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save_artifacts(page: Page, folder: Path, extra: dict[str, str] | None = None) -> None:
    """A screenshot and the page's text, for a failure that happened in CI."""
    for name, text in (extra or {}).items():
        (folder / name).write_text(text, encoding="utf-8")
    try:
        page.screenshot(path=str(folder / "screenshot.png"), full_page=True, timeout=15_000)
    except Exception as error:  # the page may be gone; the text may still help
        (folder / "screenshot-error.txt").write_text(repr(error), encoding="utf-8")
    try:
        (folder / "page.txt").write_text(page.inner_text("body", timeout=5_000), encoding="utf-8")
        (folder / "page.html").write_text(page.content(), encoding="utf-8")
    except Exception as error:
        (folder / "page-error.txt").write_text(repr(error), encoding="utf-8")


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh page (own context: no shared storage); artifacts saved on failure."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    opened = context.new_page()
    console: list[str] = []
    opened.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    opened.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    try:
        yield opened
    finally:
        if failed(request) and not getattr(request.node, "artifacts_saved", False):
            save_artifacts(opened, artifact_dir(request), {"console.txt": "\n".join(console)})
        context.close()


@pytest.fixture
def dialogs(page: Page) -> Dialogs:
    """Every alert() of ``page``, accepted and recorded in order."""
    return Dialogs(page)


@pytest.fixture
def server() -> Iterator[wstutorial.TutorialServer]:
    """The tutorial's server on a free port; streams a message every 0.2 s."""
    running = wstutorial.start_server(port=0, interval=0.2)
    try:
        yield running
    finally:
        running.stop()
