"""The tutorial on a real JupyterHub: three users on one machine, each reaching their own server's pages through the hub.

JupyterHub from PyPI with its proxy, configurable-http-proxy, from the npm
registry (``scripts/install-hub-proxy.sh`` puts it in ``.venv/hub-proxy``);
``SimpleLocalProcessSpawner`` and the ``DummyAuthenticator``: three hub users
(ada, grace, linus) under this one Unix user, each with a home folder of their
own, so the test needs no root and no system accounts. Each user's single-user
server runs notebooks 02 and 03 in a kernel of its own, as a student's Run All
does, through the hub's REST API and kernel WebSocket; then the links the
notebooks print (``wstutorial.teaching.links``) must bring that user's own
tutorial server through the hub (``/user/NAME/proxy/PORT/``), and nobody
else's.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import os
import re
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
import uuid
from email.message import Message
from pathlib import Path
from typing import Any, Iterator

import nbformat
import pytest
from playwright.sync_api import sync_playwright
from websockets.sync.client import connect

from browser.conftest import chromium_path
from browser.jupyterlab import USER_SETTINGS, problems, run_through
from helpers import free_port, stop_process
from wstutorial import start_server
from wstutorial.identity import HEADER, parse_header
from wstutorial.teaching.notebook_files import sync_notebooks

USERS = ("ada", "grace", "linus")
PASSWORD = "hub-test-password"
API_TOKEN = "hub-test-" + uuid.uuid4().hex
PROXY = Path(sys.prefix) / "hub-proxy" / "node_modules" / ".bin" / "configurable-http-proxy"
NOTEBOOKS = ("02-hello-client.ipynb", "03-browser-client.ipynb")
# As tests/browser/jupyterlab.py starts its JupyterLab: the page's app readable by the test, nothing asked of the network.
LAB_ARGS = [
    "--LabApp.expose_app_in_browser=True", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    "--LabApp.extension_manager=readonly",
]
# Bounds, not expectations: a hub starts in a few seconds, a single-user server in about five.
START_TIMEOUT = 90
CELL_TIMEOUT = 120


class Hub:
    def __init__(self, url: str, folder: Path) -> None:
        self.url = url
        self.folder = folder

    def api(self, method: str, path: str, body: dict[str, Any] | None = None, token: str = API_TOKEN) -> Any:
        request = urllib.request.Request(
            f"{self.url}/hub/api{path}", method=method, data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
        return json.loads(text) if text else None

    def get(self, path: str, token: str) -> tuple[int, Message, str]:
        """GET ``path`` on the hub's public address as the owner of ``token``: status, headers, text (no redirects)."""

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: Any, **kwargs: Any) -> None:
                return None

        opener = urllib.request.build_opener(NoRedirect)
        request = urllib.request.Request(self.url + path, headers={"Authorization": f"token {token}"})
        try:
            with opener.open(request, timeout=30) as response:
                return response.status, response.headers, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read().decode(errors="replace")

    def log(self) -> str:
        return (self.folder / "hub.log").read_text(errors="replace")


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """A real JupyterHub on a free port: configurable-http-proxy, three users, an API token for the test."""
    assert PROXY.is_file(), f"configurable-http-proxy is not installed: run 'bash scripts/install-hub-proxy.sh' (expected {PROXY})"
    folder = tmp_path_factory.mktemp("hub")
    port, hub_port, api_port = free_port(), free_port(), free_port()
    config = folder / "jupyterhub_config.py"
    config.write_text(textwrap.dedent(f"""
        c.JupyterHub.ip = "127.0.0.1"
        c.JupyterHub.port = {port}
        c.JupyterHub.hub_ip = "127.0.0.1"
        c.JupyterHub.hub_port = {hub_port}
        c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{api_port}"
        c.ConfigurableHTTPProxy.command = [{str(PROXY)!r}]
        c.ConfigurableHTTPProxy.debug = False
        c.JupyterHub.db_url = "sqlite:///{folder / 'jupyterhub.sqlite'}"
        c.JupyterHub.cookie_secret_file = {str(folder / 'cookie_secret')!r}
        c.JupyterHub.pid_file = {str(folder / 'jupyterhub.pid')!r}
        c.JupyterHub.authenticator_class = "dummy"
        c.DummyAuthenticator.password = {PASSWORD!r}
        c.Authenticator.allowed_users = set({list(USERS)!r})
        c.JupyterHub.spawner_class = "simple"
        c.SimpleLocalProcessSpawner.home_dir_template = {str(folder / '{username}')!r}
        c.Spawner.cmd = [{sys.executable!r}, "-m", "jupyterhub.singleuser"]
        c.Spawner.args = {LAB_ARGS + (["--allow-root"] if os.geteuid() == 0 else [])!r}  # CI runs as root
        c.Spawner.default_url = "/lab"
        c.Spawner.start_timeout = {START_TIMEOUT}
        c.JupyterHub.tornado_settings = {{"slow_spawn_timeout": 0}}  # POST .../server answers at once; the test waits for ready
        c.Spawner.http_timeout = {START_TIMEOUT}
        c.JupyterHub.services = [{{"name": "wstutorial-test", "api_token": {API_TOKEN!r}}}]
        c.JupyterHub.load_roles = [{{
            "name": "wstutorial-test", "services": ["wstutorial-test"],
            "scopes": ["admin:users", "admin:servers", "tokens", "access:servers", "list:users", "read:users"],
        }}]
    """))
    for user in USERS:  # the home folder each user's server starts in, with the tutorial as `python -m wstutorial lab` copies it
        sync_notebooks(folder / user)
        for name, values in USER_SETTINGS.items():  # every cell in the page, so the test sees every output
            path = folder / user / ".jupyter" / "lab" / "user-settings" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values), encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("JUPYTER", "WSTUTORIAL_PORT"))}
    log = (folder / "hub.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyterhub", "-f", str(config)], cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    running = Hub(f"http://127.0.0.1:{port}", folder)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert process.poll() is None, running.log()
            try:
                running.api("GET", "/")
                break
            except OSError:
                assert time.monotonic() < deadline, "JupyterHub did not start:\n" + running.log()
                time.sleep(0.3)
        yield running
    finally:
        stop_process(process)  # the hub stops the users' servers and its proxy
        log.close()


class Kernel:
    """A kernel in a user's single-user server, reached through the hub as that user (REST API and kernel WebSocket)."""

    def __init__(self, hub: Hub, user: str, token: str, stack: contextlib.ExitStack) -> None:
        self.hub, self.user, self.token = hub, user, token
        self.id = hub_request(hub, f"/user/{user}/api/kernels", token, {"name": "python3"})["id"]
        ws_url = hub.url.replace("http", "ws", 1) + f"/user/{user}/api/kernels/{self.id}/channels"
        self.ws = stack.enter_context(
            connect(ws_url, additional_headers={"Authorization": f"token {token}"}, open_timeout=30, max_size=None)
        )
        self.session = uuid.uuid4().hex

    def run(self, code: str) -> list[dict[str, Any]]:
        """Execute ``code`` as a cell does (top-level await included); its outputs as nbformat outputs."""
        msg_id = uuid.uuid4().hex
        self.ws.send(json.dumps({
            "header": {"msg_id": msg_id, "username": self.user, "session": self.session, "msg_type": "execute_request",
                       "version": "5.3", "date": ""},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": True},
        }))  # fmt: skip
        produced: list[dict[str, Any]] = []
        deadline = time.monotonic() + CELL_TIMEOUT
        while True:
            message = json.loads(self.ws.recv(timeout=max(1.0, deadline - time.monotonic())))
            if message.get("parent_header", {}).get("msg_id") != msg_id or message.get("channel") != "iopub":
                continue
            kind, content = message["msg_type"], message["content"]
            if kind == "status" and content["execution_state"] == "idle":
                return produced
            if kind in ("stream", "display_data", "execute_result", "error"):
                produced.append({"output_type": kind, **content})


def hub_request(hub: Hub, path: str, token: str, body: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(
        hub.url + path, method="POST" if body is not None else "GET", data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def text_of(outputs: list[dict[str, Any]]) -> str:
    return "\n".join(
        str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", "")) + str(o.get("data", {}).get("text/html", ""))
        for o in outputs
    )


def run_notebook(hub: Hub, user: str, token: str, name: str, stack: contextlib.ExitStack) -> dict[str, Any]:
    """Run notebook ``name`` in a kernel of ``user``'s server, as Run All does (its last cell, which stops the server, held back).

    Returns what it showed, the link its ``page_link`` gives for its server, the server's port and the kernel's process id.
    """
    kernel = Kernel(hub, user, token, stack)
    book = nbformat.read(hub.folder / user / name, as_version=4)
    cells = [cell.source for cell in book.cells if cell.cell_type == "code" and not cell.source.lstrip().startswith("# %load solutions")]
    stop = cells[-1] if "server.stop()" in cells[-1] else ""
    outputs: list[dict[str, Any]] = []
    for source in cells[:-1] if stop else cells:
        outputs += kernel.run(source)
    errors = [f"{o['ename']}: {o['evalue']}" for o in outputs if o["output_type"] == "error"]
    assert errors == [], (user, name, errors)
    facts = kernel.run(
        "from wstutorial.teaching.links import page_link\n"
        "import json, os\n"
        "print(json.dumps({'link': page_link(server, 'hello.html').url, 'port': server.port, 'pid': os.getpid()}))"
    )
    if stop:  # stopped when the test is done with it
        stack.callback(kernel.run, stop)
    return {"said": text_of(outputs), **json.loads(text_of(facts))}


@pytest.mark.timeout(600)
def test_three_users_reach_their_own_servers_pages_through_the_hub(hub: Hub) -> None:
    """Each user's 02 and 03 run in their own kernels; the links they print reach their own server through the hub, no one else's."""
    tokens: dict[str, str] = {}
    for user in USERS:
        hub.api("POST", f"/users/{user}/server")
        tokens[user] = hub.api("POST", f"/users/{user}/tokens", {"note": "wstutorial test", "expires_in": 3600})["token"]
    deadline = time.monotonic() + START_TIMEOUT
    while not all(hub.api("GET", f"/users/{user}")["servers"].get("", {}).get("ready") for user in USERS):
        assert time.monotonic() < deadline, "the users' servers did not start:\n" + hub.log()
        time.sleep(0.5)

    with sync_playwright() as driver, contextlib.ExitStack() as kernels:
        browser = kernels.enter_context(contextlib.closing(driver.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])))
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("dialog", lambda dialog: dialog.accept())  # hello.js says each message in a pop-up, as the original
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(USERS) * len(NOTEBOOKS)) as pool:
            runs = {(user, name): pool.submit(run_notebook, hub, user, tokens[user], name, kernels) for user in USERS for name in NOTEBOOKS}
            # Meanwhile grace, logged in in Chromium, runs her 03 in her JupyterLab up to the page exercise's check:
            # its frame, at the link page_link gives, connects to her server through the hub.
            page.goto(hub.url + "/hub/login?next=/hub/home")
            page.fill("input[name=username]", "grace")
            page.fill("input[name=password]", PASSWORD)
            page.click("input[type=submit], button[type=submit]")
            page.wait_for_url(re.compile(r".*/hub/home.*"), timeout=60_000)
            notebook = nbformat.read(hub.folder / "grace" / "03-browser-client.ipynb", as_version=4)
            last = next(i for i, cell in enumerate(notebook.cells) if cell.source.strip() == "check_send_on_open()")
            cells = run_through(page, HubLab(hub.url, "grace"), "03-browser-client.ipynb", last, timeout=240)
            assert problems(page, cells[: last + 1]) == []
            assert "your page connected but sent nothing" in cells[last].text, cells[last].text
            done = {key: future.result(timeout=500) for key, future in runs.items()}
        seen = {user: {name: done[user, name] for name in NOTEBOOKS} for user in USERS}
        ports = {user: {name: seen[user][name]["port"] for name in NOTEBOOKS} for user in USERS}
        every_port = [port for by_notebook in ports.values() for port in by_notebook.values()]
        assert len(set(every_port)) == len(every_port), ports  # six servers, six ports: nobody's start stopped another's

        for user in USERS:
            for name in NOTEBOOKS:
                facts = seen[user][name]
                assert facts["link"] == f"/user/{user}/proxy/{facts['port']}/hello.html", facts["link"]
                status, headers, text = hub.get(facts["link"], tokens[user])
                assert status == 200 and 'id="uri"' in text, (user, name, status, text[:300])
                # The page came from this very kernel's server (its process id is in every answer's identity header).
                identity = parse_header(headers.get(HEADER))
                assert identity is not None and identity.pid == facts["pid"], headers
                # And its WebSocket, where the page finds it (next to itself under the proxy prefix).
                ws = facts["link"].replace("hello.html", "ws")
                with connect(hub.url.replace("http", "ws", 1) + ws, additional_headers={"Authorization": f"token {tokens[user]}"},
                             origin=hub.url) as client:  # type: ignore[arg-type]
                    assert client.recv(timeout=10) == "Hello World"
            # Every link 03 showed (its frame, its link to click) is under this user's own prefix.
            shown = re.findall(r"(?:href|src)=\"[^\"]*?/user/([^/\"]+)/proxy/\d+/", seen[user]["03-browser-client.ipynb"]["said"])
            assert shown and set(shown) == {user}, shown

        # In Chromium as grace: her page (the link her 03 gives) turns green through the hub; ada's never shows.
        page.goto(hub.url + seen["grace"]["03-browser-client.ipynb"]["link"])
        page.click("#open")
        page.wait_for_function("document.getElementById('host').style.background.indexOf('0, 255, 0') >= 0", timeout=15_000)
        ada_link = seen["ada"]["02-hello-client.ipynb"]["link"]
        page.goto(hub.url + ada_link)
        assert page.locator("#uri").count() == 0
        status, _, _ = hub.get(ada_link, tokens["grace"])
        assert status in (302, 403, 404), status  # the hub lets only its owner through /user/ada/

        # A stale link: grace's notebook showed a port her server has left (03 restarts its server), and ada's
        # server took it since. Through grace's own proxy it reaches ada's server, which refuses: not ada's work on her screen.
        ada_port = seen["ada"]["03-browser-client.ipynb"]["port"]
        status, _, text = hub.get(f"/user/grace/proxy/{ada_port}/hello.html", tokens["grace"])
        assert status == 403 and "runs in another user's notebook: your link is out of date" in text, (status, text[:300])


class HubLab:
    """A user's JupyterLab behind the hub, as ``run_all_cells`` opens notebooks in it (the login cookie does the rest)."""

    def __init__(self, url: str, user: str) -> None:
        self.url, self.user = url, user

    def notebook_url(self, relative: str) -> str:
        return f"{self.url}/user/{self.user}/lab/workspaces/test-{uuid.uuid4().hex[:8]}/tree/{relative}"


def test_a_page_asked_for_through_another_users_proxy_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A server in ada's kernel answers /user/ada/proxy/PORT/ and plain requests, and refuses grace's proxy with a sentence."""
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/ada/")
    server = start_server(port=0)
    try:
        def status(context: str | None) -> tuple[int, str]:
            headers = {"X-ProxyContextPath": context} if context else {}
            request = urllib.request.Request(server.page_url("hello.html"), headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    return response.status, response.read().decode()
            except urllib.error.HTTPError as error:
                return error.code, error.read().decode()

        assert status(None)[0] == 200 and status(f"/user/ada/proxy/{server.port}")[0] == 200
        refused, text = status(f"/user/grace/proxy/{server.port}")
        assert refused == 403 and "your link is out of date" in text
        assert server.events.find("another user's proxy (/user/grace/proxy/") is not None
    finally:
        server.stop()
