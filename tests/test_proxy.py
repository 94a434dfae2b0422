"""The pages behind jupyter-server-proxy, as on JupyterHub and Binder: a real Jupyter server.

The browser reaches the tutorial's server at ``/proxy/<port>/``; the pages
must then find their WebSockets under that prefix, not at ``/ws``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from typing import Iterator

import pytest
from websockets.sync.client import connect

from helpers import free_port, stop_process
from wstutorial import start_server
from wstutorial.classroom import Classroom, start_classroom
from wstutorial.server.tls import LocalCA
from wstutorial.server.whoami import WhoAmIHandler
from wstutorial.services.nginxproxy import start_nginx
from wstutorial.teaching.links import page_link

TOKEN = "proxy-test-token-8b1c"
HUB_NAME = "hub.test"


class JupyterServer:
    def __init__(self, port: int, process: subprocess.Popen[str]) -> None:
        self.port = port
        self.process = process

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture(scope="module")
def jupyter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    """``jupyter server`` with jupyter-server-proxy, on a free port, with a token."""
    home = tmp_path_factory.mktemp("jupyter-home")
    env = dict(
        os.environ,
        HOME=str(home),
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_DATA_DIR=str(home / "data"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
    )
    port = free_port()
    log = (home / "server.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable, "-m", "jupyter", "server", "--no-browser", "--allow-root",
            "--ip=127.0.0.1", f"--port={port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={home}",
            # The name a hub's address has (see the TLS test below); Jupyter answers only local names.
            "--ServerApp.local_hostnames=localhost", f"--ServerApp.local_hostnames={HUB_NAME}",
        ],
        env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, (home / "server.log").read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={TOKEN}", timeout=5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("jupyter server did not start: " + (home / "server.log").read_text()) from None
                time.sleep(0.3)
        yield JupyterServer(port, process)
    finally:
        stop_process(process)
        log.close()


@pytest.fixture
def classroom() -> Iterator[Classroom]:
    running = start_classroom(port=0, interval=0.1, teacher_token="proxy-teacher-token")
    try:
        yield running
    finally:
        running.stop()


AUTH = {"Authorization": f"token {TOKEN}"}


def test_proxy_is_installed_and_needs_the_token(jupyter: JupyterServer, classroom: Classroom) -> None:
    """jupyter-server-proxy answers at /proxy/<port>/, and only with Jupyter's token."""
    # Without the token Jupyter sends the browser to its login page instead.
    with urllib.request.urlopen(f"{jupyter.url}/proxy/{classroom.port}/hello.html", timeout=10) as response:
        assert "/login" in response.geturl()
        assert b'id="uri"' not in response.read()


def test_hello_page_and_websocket_through_the_proxy(jupyter: JupyterServer, classroom: Classroom) -> None:
    """hello.html comes through /proxy/<port>/, and a real client opens /proxy/<port>/ws."""
    request = urllib.request.Request(f"{jupyter.url}/proxy/{classroom.port}/hello.html", headers=AUTH)
    with urllib.request.urlopen(request, timeout=10) as response:
        assert b'id="uri"' in response.read()
    with connect(f"ws://127.0.0.1:{jupyter.port}/proxy/{classroom.port}/ws", additional_headers=AUTH) as ws:
        assert ws.recv(timeout=10) == "Hello World"
        ws.send("through the proxy")
    classroom.server.events.wait_for("message received through the proxy", timeout=10)
    with connect(f"ws://127.0.0.1:{jupyter.port}/proxy/{classroom.port}/chat?name=Ada", additional_headers=AUTH) as ws:
        assert '"welcome"' in ws.recv(timeout=10)


def test_page_link_points_at_the_proxy(jupyter: JupyterServer, classroom: Classroom) -> None:
    """The link the notebook shows behind a hub is a working address on the Jupyter server."""
    link = page_link(classroom.server, "streaming.html", {"JUPYTERHUB_SERVICE_PREFIX": "/"})
    assert link.url == f"/proxy/{classroom.port}/streaming.html"
    request = urllib.request.Request(jupyter.url + link.url, headers=AUTH)
    with urllib.request.urlopen(request, timeout=10) as response:
        assert b'id="log"' in response.read()


def test_websocket_behind_tls_and_jupyter_server_proxy(jupyter: JupyterServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """As on Binder: https://hub.test/ (port 443 implied) -> nginx (TLS) -> Jupyter -> jupyter-server-proxy -> the server.

    jupyter-server-proxy passes the browser's Host and Origin and the
    front proxy's X-Forwarded-Proto on unchanged; the server, started as a
    notebook starts it (no xheaders), accepts the hub's own https page
    (in a hub's user server, JUPYTERHUB_SERVICE_PREFIX: no Host check).
    """
    ca = LocalCA()
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/ada/")
    server = start_server(port=0, handlers={"/whoami": WhoAmIHandler})
    proxy = start_nginx(jupyter.port, certificate=ca.issue((HUB_NAME,)), server_names=[HUB_NAME])
    try:
        def first_message(path: str) -> str:
            sock = socket.create_connection(("127.0.0.1", proxy.port), timeout=10)
            url = f"wss://{HUB_NAME}/proxy/{server.port}{path}"
            with connect(url, sock=sock, ssl=ca.client_context(), origin=f"https://{HUB_NAME}",  # type: ignore[arg-type]
                         additional_headers=AUTH, open_timeout=10) as ws:
                message = ws.recv(timeout=10)
            assert isinstance(message, str)
            return message

        seen = json.loads(first_message("/whoami"))
        assert (seen["host"], seen["origin"], seen["protocol"]) == (HUB_NAME, f"https://{HUB_NAME}", "http")
        assert seen["headers"]["X-Forwarded-Proto"] == "https"
        assert first_message("/ws") == "Hello World"
    finally:
        proxy.stop()
        server.stop()


def chromium_path() -> str:
    path = os.environ.get("WSTUTORIAL_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    assert path, "the browser tests need chromium (scripts/install-chromium.sh installs it)"
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


def test_pages_in_a_browser_through_the_proxy(jupyter: JupyterServer, classroom: Classroom, browser) -> None:  # type: ignore[no-untyped-def]
    """In Chromium, behind /proxy/<port>/: hello turns green, streaming and chat connect, teacher lists."""
    base = f"{jupyter.url}/proxy/{classroom.port}/"
    context = browser.new_context()  # its pages share Jupyter's login cookie
    context.on("dialog", lambda dialog: dialog.accept())  # hello.js pops up each message, as the original
    page = context.new_page()
    page.goto(f"{jupyter.url}/api/status?token={TOKEN}")  # logs in: Jupyter sets its cookie
    page.goto(base + "hello.html")
    assert page.input_value("#uri") == f"/proxy/{classroom.port}/ws"
    assert page.input_value("#port") == str(jupyter.port)
    page.click("#open")
    page.wait_for_function("document.getElementById('host').style.background.indexOf('0, 255, 0') >= 0", timeout=15000)
    # A fresh page: leaving hello.html pops up "Connection close", which can stall navigation.
    page.close()
    page = context.new_page()
    page.goto(base + "streaming.html")
    assert page.input_value("#url") == f"ws://127.0.0.1:{jupyter.port}/proxy/{classroom.port}/streaming"
    page.wait_for_function("Number(document.getElementById('count').textContent) >= 2", timeout=15000)
    page.goto(base + "teacher.html?token=proxy-teacher-token")
    page.wait_for_function("window.teacherState.running === true", timeout=15000)
    student = context.new_page()
    student.goto(base + "chat.html?name=Ada")
    student.wait_for_selector("#status.open", timeout=15000)
    page.wait_for_function("window.teacherState.members.join() === 'Ada'", timeout=15000)
    assert page.text_content("#members") == "Ada"
    page.click("#stop")
    student.wait_for_function("document.getElementById('log').textContent.indexOf('stopped the stream') >= 0", timeout=15000)
    context.close()


def test_chat_page_shows_names_and_messages_as_text(classroom: Classroom, browser) -> None:  # type: ignore[no-untyped-def]
    """On the plain server: what another student sends is text in chat.html, never markup."""
    page = browser.new_page()
    page.goto(classroom.server.page_url("chat.html?name=Grace"))
    page.wait_for_selector("#status.open", timeout=15000)
    attack = '<img src=x onerror="window.hacked=1">'
    with connect(classroom.chat_url("Mallory")) as mallory:
        mallory.recv(timeout=10)
        mallory.send(attack)
        mallory.send('{"type": "reading", "value": 3.5}')
        page.wait_for_function("window.chatState.plots.has('Mallory')", timeout=15000)
    assert attack in page.text_content("#log")
    assert page.query_selector("#log img") is None
    assert page.evaluate("window.hacked") is None
    page.fill("#text", "hello from the page")
    page.click("#send")
    page.wait_for_function("document.getElementById('log').textContent.indexOf('Grace: hello from the page') >= 0", timeout=15000)
    page.close()


def test_plain_pages_keep_the_original_fields(classroom: Classroom, browser) -> None:  # type: ignore[no-untyped-def]
    """Served directly, hello.html keeps host/port/uri as the original (uri /ws), streaming.html ws://host/streaming."""
    page = browser.new_page()
    page.goto(classroom.server.page_url("hello.html"))
    assert (page.input_value("#host"), page.input_value("#port"), page.input_value("#uri")) == (
        "localhost", str(classroom.port), "/ws",
    )
    page.goto(classroom.server.page_url("streaming.html"))
    assert page.input_value("#url") == f"ws://127.0.0.1:{classroom.port}/streaming"
    page.close()
