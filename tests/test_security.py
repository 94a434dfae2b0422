"""Security against a real server: origins, paths outside static/, pages, binding."""

from __future__ import annotations

import re
import socket
from pathlib import Path
from typing import Iterator

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

import wstutorial
from helpers import Running, listening_addresses, raw_http_get
from wstutorial.address import lan_addresses
from wstutorial.server.app import static_dir
from wstutorial.teaching.handshake import new_key, parse_response, read_response

PACKAGE = Path(wstutorial.__file__).resolve().parent
ROUTES = ["/ws", "/streaming", "/echo"]


@pytest.fixture(scope="module")
def shared_server() -> Iterator[wstutorial.TutorialServer]:
    """One server for the many origin cases, with one explicitly allowed origin."""
    running = wstutorial.start_server(port=0, interval=0.05, allowed_origins=["http://localhost:8889"])
    try:
        yield running
    finally:
        running.stop()


def opens(server: wstutorial.TutorialServer, path: str, origin: str | None, **headers: str) -> bool:
    """True if the handshake succeeds; False on 403 (anything else fails the test)."""
    try:
        with connect(server.ws_url(path), origin=origin, additional_headers=headers, open_timeout=10):  # type: ignore[arg-type]
            return True
    except InvalidStatus as refused:
        status = refused.response.status_code
    assert status == 403
    return False


# -- origins ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ROUTES)
def test_default_accepts_same_origin_pages_and_clients_without_origin(
    shared_server: wstutorial.TutorialServer, path: str
) -> None:
    """Scripts (no Origin), the server's own pages (also as localhost) and listed origins may connect."""
    port = shared_server.port
    assert opens(shared_server, path, None)
    assert opens(shared_server, path, f"http://127.0.0.1:{port}")
    assert opens(shared_server, path, f"http://localhost:{port}")
    assert opens(shared_server, path, f"http://127.0.0.1:{port}", **{"Sec-Fetch-Site": "same-origin"})
    assert opens(shared_server, path, "http://localhost:8889")  # in allowed_origins
    assert opens(shared_server, path, "http://LOCALHOST:8889", **{"Sec-Fetch-Site": "cross-site"})


@pytest.mark.parametrize(
    "origin, headers, shown",
    [
        ("null", {}, "'null'"),  # a page opened from disk (file://)
        ("http://evil.example", {}, "'http://evil.example'"),
        ("http://localhost:8890", {}, "'http://localhost:8890'"),  # a port not in the list
        ("https://localhost:8889", {}, "'https://localhost:8889'"),  # another scheme is another origin
        ("http://127.0.0.1:{port}.evil.example", {}, ".evil.example"),
        ("http://example.org:{port}", {}, "'http://example.org:"),  # same port, another host
        ("http://127.0.0.1:{port}", {"Sec-Fetch-Site": "cross-site"}, "Sec-Fetch-Site: cross-site"),
        (None, {"Sec-Fetch-Site": "cross-site"}, "cross-site request without an Origin"),
    ],
)
def test_other_origins_get_403_and_an_event(
    shared_server: wstutorial.TutorialServer, origin: str | None, headers: dict[str, str], shown: str
) -> None:
    """Everything else is refused with 403 on every route, and the event log says which origin."""
    port = shared_server.port
    origin = origin.format(port=port) if origin else None
    for path in ROUTES:
        mark = shared_server.events.next_seq
        assert not opens(shared_server, path, origin, **headers), (path, origin, headers)
        event = shared_server.events.wait_for("origin rejected", after=mark, kind="origin")
        assert shown.format(port=port) in event.text and event.path == path
    assert shared_server.clients() == []


def test_allowed_origins_is_an_explicit_list() -> None:
    """allowed_origins lets exactly the listed pages in; '*' and malformed entries are refused."""
    with wstutorial.start_server(port=0, allowed_origins=["https://teacher.example:8443"]) as server:
        assert opens(server, "/ws", "https://teacher.example:8443")
        assert not opens(server, "/ws", "https://teacher.example")
        assert not opens(server, "/ws", "http://teacher.example:8443")
    for bad in ["*", "teacher.example", "http://teacher.example/page", "file://"]:
        with pytest.raises(ValueError, match=re.escape(repr(bad)) if bad != "*" else "one by one"):
            wstutorial.start_server(port=0, allowed_origins=[bad])


def upgrade_status(port: int, host: str, origin: str | None, **headers: str) -> int:
    """Status of a WebSocket upgrade sent to 127.0.0.1:``port`` with ``Host: host`` (``:port`` added unless given)."""
    if not re.search(r":\d+$", host):
        host = f"{host}:{port}"
    lines = ["GET /ws HTTP/1.1", f"Host: {host}", "Upgrade: websocket", "Connection: Upgrade",
             f"Sec-WebSocket-Key: {new_key()}", "Sec-WebSocket-Version: 13"]
    lines += [f"Origin: {origin}"] if origin else []
    lines += [f"{name}: {value}" for name, value in headers.items()]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        return parse_response(read_response(sock))[0]


def test_dns_rebinding_is_refused_with_403_and_an_event(shared_server: wstutorial.TutorialServer) -> None:
    """A page on evil.example re-pointed at 127.0.0.1 says Host and Origin evil.example: refused."""
    port = shared_server.port
    mark = shared_server.events.next_seq
    assert upgrade_status(port, "evil.example", f"http://evil.example:{port}") == 403
    event = shared_server.events.wait_for("request for Host", after=mark, kind="origin")
    assert f"'evil.example:{port}'" in event.text and "DNS rebinding" in event.text and "allowed_hosts" in event.text
    assert raw_http_get(port, "/hello.html", host="127.0.0.1")[0] == 200
    for name in ["evil.example", "127.0.0.1.evil.example", "localhost.evil.example", "10.0.0.5"]:
        assert upgrade_status(port, name, None) == 403, name
        assert host_status(port, "/hello.html", name) == 403, name
    assert shared_server.clients() == []


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost", "LOCALHOST", "[::1]", "127.0.0.2", "app.localhost"])
def test_loopback_host_names_are_served(shared_server: wstutorial.TutorialServer, name: str) -> None:
    port = shared_server.port
    assert upgrade_status(port, name, None) == 101
    assert host_status(port, "/hello.html", name) == 200


def test_allowed_hosts_lets_a_listed_name_in() -> None:
    with wstutorial.start_server(port=0, allowed_hosts=["MyLaptop.local"]) as server:
        port = server.port
        assert upgrade_status(port, "mylaptop.local", f"http://mylaptop.local:{port}") == 101
        assert upgrade_status(port, "otherlaptop.local", f"http://otherlaptop.local:{port}") == 403
    for bad in ["http://mylaptop.local", "mylaptop.local:8888", ""]:
        with pytest.raises(ValueError, match="without scheme or port"):
            wstutorial.start_server(port=0, allowed_hosts=[bad])


def test_proxy_headers_open_no_door(shared_server: wstutorial.TutorialServer, caplog: pytest.LogCaptureFixture) -> None:
    """X-Forwarded-For, X-Real-IP, Forwarded or X-ProxyContextPath do not exempt a foreign Host (a rebinding page's fetch() may add them)."""
    port = shared_server.port
    origin = "http://evil.example"
    for header, value in [
        ("X-ProxyContextPath", f"/user/ada/proxy/{port}"),
        ("X-Forwarded-For", "192.0.2.7"),
        ("X-Real-IP", "192.0.2.7"),
        ("Forwarded", "for=192.0.2.7;proto=https"),
    ]:
        assert upgrade_status(port, "evil.example", origin, **{header: value}) == 403, header
        assert host_status(port, "/wstutorial-server.json", "evil.example", **{header: value}) == 403, header
    # Each refusal is an event; Tornado prints no warning from the server's thread.
    assert not [record.getMessage() for record in caplog.records if record.name.startswith("tornado")]


def test_a_jupyterhub_user_server_answers_the_hubs_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """In a JupyterHub or Binder user server (JUPYTERHUB_SERVICE_PREFIX) the browser is elsewhere: the hub's Host is served."""
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/ada/")
    running = wstutorial.start_server(port=0)
    try:
        origin = "http://hub.example.org:8000"
        headers = {"X-ProxyContextPath": f"/user/ada/proxy/{running.port}"}
        assert upgrade_status(running.port, "hub.example.org:8000", origin, **headers) == 101
    finally:
        running.stop()


def host_status(port: int, target: str, host: str, **headers: str) -> int:
    extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\n{extra}Connection: close\r\n\r\n".encode())
        return parse_response(read_response(sock))[0]


def test_no_check_origin_returns_true_anywhere_in_the_package() -> None:
    """No handler in the package accepts every origin ('return True' in check_origin)."""
    pattern = re.compile(r"def check_origin\([^)]*\)[^:]*:\s*(#[^\n]*\s*)*return True\b")
    offenders = [
        str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py") if pattern.search(path.read_text())
    ]
    assert offenders == []
    assert pattern.search("    def check_origin(self, origin):\n        return True\n")  # the check can fail


# -- paths never leave static/ -----------------------------------------------------------------


def outside_files() -> dict[Path, bytes]:
    """Real files next to static/ (the checkout, or the installed package), with a telltale part of each."""
    root = static_dir().parent
    found = {}
    for name in ("pyproject.toml", "README.md", "__init__.py", "app.py"):
        path = root / name
        if path.is_file():
            found[path] = path.read_bytes()[:60]
    assert found, f"no file next to {static_dir()} to try to reach"
    return found


TRAVERSALS = [
    "/../{name}",
    "/..%2f{name}",
    "/%2e%2e/{name}",
    "/%2e%2e%2f{name}",
    "/.%2e/{name}",
    "/..%5c{name}",
    "/..\\{name}",
    "/%252e%252e%252f{name}",
    "/static/../../{name}",
    "/ws/../../{name}",
    "/./../{name}",
    "//..//..//{name}",
    "/..%2f..%2f..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
    "//etc/passwd",
    "/{name}%00.html",
    "/hello.html/../../{name}",
]


@pytest.mark.parametrize("template", TRAVERSALS)
def test_encoded_dot_dot_never_leaves_static(server: wstutorial.TutorialServer, template: str) -> None:
    """../ in any spelling gets 400, 403 or 404, and never the content of a file outside static/."""
    for path, telltale in outside_files().items():
        status, body = raw_http_get(server.port, template.format(name=path.name))
        assert status in (400, 403, 404), (template, path.name, status)
        assert telltale not in body and b"root:" not in body
    assert server.events.find("error", kind="error") is None
    status, body = raw_http_get(server.port, "/hello.html")  # and the pages still come
    assert status == 200 and b'id="host"' in body


# -- pages render client data as text ----------------------------------------------------------

HTML_SINKS = re.compile(r"\b(innerHTML|outerHTML|insertAdjacentHTML|document\s*\.\s*write(ln)?|srcdoc)\b")


def page_scripts() -> dict[str, str]:
    """Every script of the pages (.js files and inline <script> in .html), comments removed."""
    scripts = {}
    roots = {static_dir(), PACKAGE}
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.suffix == ".js":
                scripts[str(path)] = path.read_text()
            elif path.suffix in (".html", ".htm"):
                inline = re.findall(r"<script[^>]*>(.*?)</script>", path.read_text(), flags=re.S | re.I)
                scripts[str(path)] = "\n".join(inline)
    return {name: re.sub(r"/\*.*?\*/|//[^\n]*", "", text, flags=re.S) for name, text in scripts.items()}


def test_pages_never_put_data_into_html() -> None:
    """No page script uses innerHTML, outerHTML, insertAdjacentHTML or document.write: data goes in as text."""
    scripts = page_scripts()
    assert any(name.endswith("hello.js") for name in scripts) and any("streaming" in name for name in scripts)
    offenders = {name: HTML_SINKS.findall(text) for name, text in scripts.items() if HTML_SINKS.search(text)}
    assert offenders == {}
    assert HTML_SINKS.search("log.innerHTML = event.data;")  # the check can fail
    assert any("textContent" in text for text in scripts.values())


# -- binding -------------------------------------------------------------------------------------


def test_server_listens_on_loopback_only_by_default(server: wstutorial.TutorialServer) -> None:
    """start_server() binds 127.0.0.1: the kernel's table shows no other listening address."""
    assert listening_addresses(server.port) == {"127.0.0.1"}
    assert not server.exposed and server.lan_urls() == []


def test_cli_listens_on_loopback_by_default() -> None:
    """`serve` without --host listens on 127.0.0.1 only and prints no network warning."""
    serving = Running("serve", "--port", "0")
    try:
        port = int(serving.lines[0].rsplit(":", 1)[1].strip("/"))
        assert listening_addresses(port) == {"127.0.0.1"}
        assert not any("Warning" in line for line in serving.lines)
    finally:
        code, _ = serving.interrupt()
    assert code == 0


def test_cli_on_all_interfaces_warns_with_the_address_students_use() -> None:
    """`serve --host 0.0.0.0` listens everywhere and says which address others type."""
    serving = Running("serve", "--host", "0.0.0.0", "--port", "0")
    try:
        port = int(serving.lines[0].rsplit(":", 1)[1].strip("/"))
        assert listening_addresses(port) == {"0.0.0.0"}
        text = "\n".join(serving.lines)
        assert "Warning: listening on 0.0.0.0: anyone on your network can connect" in text
        addresses = lan_addresses()
        for address in addresses:
            assert f"from other machines: http://{address}:{port}/" in text
        if not addresses:  # a machine with no network: still says what to type
            assert f"http://<this machine's address>:{port}/" in text
        if addresses:  # and that address really reaches the server
            status, body = raw_http_get(port, "/hello.html", host=addresses[0])
            assert status == 200 and b'id="host"' in body
    finally:
        code, _ = serving.interrupt()
    assert code == 0
