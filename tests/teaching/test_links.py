"""Page links for a laptop, JupyterHub and Binder; the pages' WebSocket addresses follow them."""

from __future__ import annotations

import pytest

import wstutorial
from wstutorial.teaching.links import browser_pages, hosting, hub_prefix, page_link, wait_for_page


@pytest.fixture(scope="module")
def server():  # type: ignore[no-untyped-def]
    running = wstutorial.start_server(port=0)
    yield running
    running.stop()


def test_local_link_is_the_server_itself(server: wstutorial.TutorialServer) -> None:
    """On a laptop the link is the server's own address."""
    link = page_link(server, "hello.html", environ={})
    assert link.url == f"http://127.0.0.1:{server.port}/hello.html"
    assert not link.proxied and str(link) == link.url
    assert hosting({}) == "local" and hub_prefix({}) is None


def test_jupyterhub_link_goes_through_the_proxy(server: wstutorial.TutorialServer) -> None:
    """Behind JupyterHub: <prefix>proxy/<port>/<page>, relative to the hub."""
    env = {"JUPYTERHUB_SERVICE_PREFIX": "/user/ada/"}
    link = page_link(server, "/streaming.html", environ=env)
    assert link.url == f"/user/ada/proxy/{server.port}/streaming.html"
    assert link.proxied and "JupyterHub" in link.note and hosting(env) == "JupyterHub"


def test_external_hub_url_makes_an_absolute_link(server: wstutorial.TutorialServer) -> None:
    """JUPYTERHUB_EXTERNAL_URL, when the hub sets it, gives a full address."""
    env = {"JUPYTERHUB_SERVICE_PREFIX": "user/ada", "JUPYTERHUB_EXTERNAL_URL": "https://hub.example.org/"}
    assert page_link(server, "hello.html", env).url == f"https://hub.example.org/user/ada/proxy/{server.port}/hello.html"


def test_binder_is_recognised(server: wstutorial.TutorialServer) -> None:
    """Binder sets BINDER_* variables (and a hub prefix)."""
    env = {"BINDER_LAUNCH_HOST": "https://mybinder.org/", "JUPYTERHUB_SERVICE_PREFIX": "/user/org-repo-abc/"}
    link = page_link(server, "chat.html?name=Ada", env)
    assert link.url == f"/user/org-repo-abc/proxy/{server.port}/chat.html?name=Ada"
    assert hosting(env) == "Binder" and "Binder" in link.note
    assert hub_prefix({"BINDER_REQUEST": "v2/gh/x/y/HEAD"}) == "/"


def test_a_teachers_server_elsewhere_is_linked_directly() -> None:
    """A classroom server on the network is not behind this hub's proxy."""
    env = {"JUPYTERHUB_SERVICE_PREFIX": "/user/ada/"}
    link = page_link("http://192.168.1.5:8888/", "chat.html", env)
    assert link.url == "http://192.168.1.5:8888/chat.html" and not link.proxied
    assert page_link("192.168.1.5:8888", "hello.html", {}).url == "http://192.168.1.5:8888/hello.html"
    with pytest.raises(ValueError, match="192.168.1.5"):
        page_link("192.168.1.5", "hello.html", {})


def test_classroom_and_html_link(server: wstutorial.TutorialServer) -> None:
    """A Classroom works like its server; the notebook's HTML link escapes the address."""
    from wstutorial.classroom import start_classroom

    with start_classroom(port=0) as classroom:
        link = page_link(classroom, 'chat.html?name=<"x">', {})
        assert link.url.startswith(f"http://127.0.0.1:{classroom.port}/")
        shown = link._repr_html_()
        assert '<"x">' not in shown and "&lt;&quot;x&quot;&gt;" in shown


def test_wait_for_page_sees_only_clients_with_an_origin(server: wstutorial.TutorialServer) -> None:
    """A program (no Origin) is no page; a client that sends the page's Origin is one."""
    with wstutorial.connect_blocking(server.ws_url("/echo")):
        assert browser_pages(server, "/echo") == 0
        assert wait_for_page(server, "/echo", timeout=0.3) is False
    with wstutorial.connect_blocking(server.ws_url("/echo"), origin=server.url.rstrip("/")):
        assert wait_for_page(server, "/echo", timeout=5) is True
        assert browser_pages(server, "/echo") == 1
