"""A login in front of a WebSocket: signed cookie or signed token, checked before the upgrade (notebook 08)."""

from __future__ import annotations

import asyncio
import secrets
import urllib.error
import urllib.parse
import urllib.request
from typing import Iterator

import pytest
from websockets.sync.client import connect as websockets_connect

import wstutorial
from wstutorial.server.auth import LoginHandler, PrivateHandler, login_settings, make_token, read_token

SECRET = secrets.token_hex(32)


@pytest.fixture
def server() -> Iterator[wstutorial.TutorialServer]:
    running = wstutorial.start_server(
        port=0,
        handlers={"/login": LoginHandler, "/private": PrivateHandler},
        tornado_settings=login_settings({"ada": "lovelace"}, SECRET),
    )
    try:
        yield running
    finally:
        running.stop()


def login(server: wstutorial.TutorialServer, user: str, password: str) -> tuple[str, str]:
    """POST /login; returns (the Set-Cookie header, the JSON body)."""
    data = urllib.parse.urlencode({"user": user, "password": password}).encode()
    with urllib.request.urlopen(server.page_url("login"), data=data, timeout=5) as response:
        return response.headers["Set-Cookie"], response.read().decode()


def hello(url: str, **options: object) -> str | bytes:
    async def run() -> str | bytes:
        async with await wstutorial.connect(url, **options) as client:  # type: ignore[arg-type]
            return await client.receive(timeout=5)

    return asyncio.run(run())


def test_no_login_gets_401_before_the_upgrade(server: wstutorial.TutorialServer) -> None:
    """Without cookie or token: HTTP 401, no WebSocket; the server records why."""
    with pytest.raises(wstutorial.ConnectionFailed, match="401"):
        hello(server.ws_url("/private"))
    assert server.events.wait_for("login required", timeout=5).kind == "auth"


def test_wrong_password_is_refused(server: wstutorial.TutorialServer) -> None:
    """/login answers 401 to a wrong password and sets no cookie."""
    with pytest.raises(urllib.error.HTTPError) as refused:
        login(server, "ada", "babbage")
    assert refused.value.code == 401
    assert "Set-Cookie" not in refused.value.headers


def test_signed_cookie_lets_the_user_in(server: wstutorial.TutorialServer) -> None:
    """The login's cookie (HttpOnly, SameSite=Strict) opens /private, which greets the user by name."""
    cookie, _ = login(server, "ada", "lovelace")
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
    assert hello(server.ws_url("/private"), headers={"Cookie": cookie.split(";")[0]}) == "Hello ada"


def test_cookie_with_a_foreign_origin_is_refused(server: wstutorial.TutorialServer) -> None:
    """Cross-Site WebSocket Hijacking: a valid cookie sent from another site's page (its Origin) gets 403."""
    cookie = {"Cookie": login(server, "ada", "lovelace")[0].split(";")[0]}
    with pytest.raises(wstutorial.ConnectionFailed, match="403"):
        hello(server.ws_url("/private"), headers=cookie, origin="http://evil.example")
    assert hello(server.ws_url("/private"), headers=cookie, origin=server.url.rstrip("/")) == "Hello ada"


def test_unsigned_or_changed_cookie_is_refused(server: wstutorial.TutorialServer) -> None:
    """A cookie written by the client (or changed) does not pass the signature check."""
    cookie = login(server, "ada", "lovelace")[0].split(";")[0]
    for forged in ("wstutorial_user=ada", cookie.replace("YWRh", "Ym9i")):
        with pytest.raises(wstutorial.ConnectionFailed, match="401"):
            hello(server.ws_url("/private"), headers={"Cookie": forged})


def test_token_in_the_address_works_and_is_masked_in_the_log(server: wstutorial.TutorialServer) -> None:
    """/login's token opens /private?token=...; a refused address is written to the log with the token masked."""
    token = make_token(SECRET, "ada")
    assert hello(f"{server.ws_url('/private')}?token={token}") == "Hello ada"
    stale = make_token("another secret that is long enough to be used", "ada")
    with pytest.raises(wstutorial.ConnectionFailed, match="401"):
        hello(f"{server.ws_url('/private')}?token={stale}")
    assert server.events.wait_for("HTTP 401 GET /private?token=***", timeout=5)
    assert all(stale not in str(event) for event in server.events.snapshot())


def test_websockets_library_with_the_cookie(server: wstutorial.TutorialServer) -> None:
    """An independent client (websockets) sends the cookie in its handshake and is let in."""
    cookie = login(server, "ada", "lovelace")[0].split(";")[0]
    with websockets_connect(server.ws_url("/private"), additional_headers={"Cookie": cookie}) as client:
        assert client.recv(timeout=5) == "Hello ada"
        client.send("hi")
        assert client.recv(timeout=5) == "ada: hi"


def test_tokens_expire_and_name_their_user() -> None:
    """read_token gives the user back, and None for an expired, changed or foreign token."""
    token = make_token(SECRET, "ada")
    assert read_token(SECRET, token) == "ada"
    assert read_token(SECRET, token, max_age=-1) is None
    assert read_token(SECRET, token[:-2] + "00") is None
    assert read_token("x" * 64, token) is None


def test_short_cookie_secret_is_refused() -> None:
    """A guessable cookie_secret is refused with the way to make a good one."""
    with pytest.raises(ValueError, match="secrets.token_hex"):
        login_settings({}, "hunter2")
