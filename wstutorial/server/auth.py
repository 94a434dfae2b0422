"""A login in front of a WebSocket, checked in the handshake (notebook 08).

The Origin check keeps other *web pages* away (a browser always sends the
page's true Origin); it does not tell *who* connects, and any program can
send any Origin. To know who, the handshake must carry a proof the server
made itself and can check:

- a **signed cookie**, set by the login page (``/login``), which the browser
  sends with the handshake by itself. Because it goes along automatically,
  even from another site's page, it needs the Origin check too (otherwise:
  Cross-Site WebSocket Hijacking);
- a **signed token** in the address (``/private?token=...``), for programs.
  An address is written to access logs (the server's, a proxy's), browser
  history and ``Referer`` headers: keep such tokens short-lived, or send
  them as the first message instead.

Both are signed with the application's ``cookie_secret`` by Tornado
(``set_signed_cookie`` / ``create_signed_value``): a client cannot change
the name inside without the secret. The check happens in ``prepare()``,
before the upgrade, so a refused client gets HTTP 401 and never a WebSocket.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from typing import Any, Mapping

from tornado.web import HTTPError, RequestHandler, create_signed_value, decode_signed_value

from ..events import EventKind
from .handlers import TutorialHandler, describe_message

__all__ = [
    "LoginHandler",
    "PrivateHandler",
    "make_token",
    "read_token",
    "login_settings",
    "USER_COOKIE",
    "TOKEN_MAX_AGE",
]

USER_COOKIE = "wstutorial_user"
_TOKEN_NAME = "wstutorial_ws_token"  # signed with the name, so a cookie is no token and back
# A token in an address ends up in logs: let it expire soon.
TOKEN_MAX_AGE = 300.0  # seconds
_COOKIE_MAX_AGE_DAYS = 1


def make_token(secret: str | bytes, user: str) -> str:
    """A signed, timestamped token naming ``user`` (what ``/login`` also returns).

    Tornado's signed value, base64url-encoded so it fits in an address as it is.
    """
    signed = create_signed_value(secret, _TOKEN_NAME, user)
    return base64.urlsafe_b64encode(signed).decode().rstrip("=")


def read_token(secret: str | bytes, token: str, max_age: float = TOKEN_MAX_AGE) -> str | None:
    """The user a token names, or None when it is forged, changed or older than ``max_age`` seconds."""
    try:
        signed = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, binascii.Error):
        return None
    value = decode_signed_value(secret, _TOKEN_NAME, signed, max_age_days=max_age / 86400)
    return value.decode() if value is not None else None


def login_settings(users: Mapping[str, str], cookie_secret: str) -> dict[str, Any]:
    """Application settings for :class:`LoginHandler` and :class:`PrivateHandler`."""
    if len(cookie_secret) < 32:
        raise ValueError(
            f"cookie_secret must be at least 32 characters of randomness, got {len(cookie_secret)}; "
            "use secrets.token_hex(32)"
        )
    return {"cookie_secret": cookie_secret, "wstutorial_users": dict(users)}


class LoginHandler(RequestHandler):
    """``POST /login`` with form fields ``user`` and ``password``: sets the signed cookie, returns a token."""

    def post(self) -> None:
        users: Mapping[str, str] = self.settings["wstutorial_users"]
        user = self.get_body_argument("user", "")
        password = self.get_body_argument("password", "")
        expected = users.get(user)
        # compare_digest takes as long for a wrong first letter as for a wrong last one.
        if expected is None or not hmac.compare_digest(expected.encode(), password.encode()):
            self.set_status(401)  # no HTTPError: that would print a warning from the server's thread
            self.finish("wrong user name or password")
            return
        self.set_signed_cookie(
            USER_COOKIE,
            user,
            expires_days=_COOKIE_MAX_AGE_DAYS,
            httponly=True,  # page scripts cannot read it
            samesite="Strict",  # other sites' pages do not send it (in browsers that support it)
            secure=self.request.protocol == "https",  # only over TLS, when served over TLS
        )
        self.set_header("Content-Type", "application/json")
        self.write(json.dumps({"user": user, "token": make_token(self.settings["cookie_secret"], user)}))


class PrivateHandler(TutorialHandler):
    """``/private``: only for logged-in users (signed cookie, or ``?token=``); greets them by name."""

    def get_current_user(self) -> str | None:
        cookie = self.get_signed_cookie(USER_COOKIE, max_age_days=_COOKIE_MAX_AGE_DAYS)
        if cookie is not None:
            return cookie.decode()
        token = self.get_query_argument("token", None)
        if token:
            return read_token(self.settings["cookie_secret"], token)
        return None

    def prepare(self) -> None:
        super().prepare()  # the tutorial's cross-site check
        if self.current_user is None:
            self.record("login required: no valid cookie or token (401)", kind=EventKind.AUTH)
            raise HTTPError(401, "log in first")  # before the upgrade: no WebSocket is opened

    def open(self, *args: Any, **kwargs: Any) -> None:
        self.record(f"new connection from {self.current_user}", kind=EventKind.OPEN)
        self.write_message(f"Hello {self.current_user}")

    def on_message(self, message: str | bytes) -> None:
        self.record(f"message received from {self.current_user}: {describe_message(message)}", kind=EventKind.MESSAGE)
        self.hub.send(self, f"{self.current_user}: {message if isinstance(message, str) else '(binary)'}")

    def on_close(self) -> None:
        self.record(f"connection closed ({self.current_user})", kind=EventKind.CLOSE)
