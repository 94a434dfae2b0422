"""A WebSocket client for notebooks (``await``) and scripts (blocking).

The protocol work is Tornado's (``websocket_connect``); this module adds what
a learner needs: one call to connect, plain methods to send and receive, and
failures explained in a sentence (``ConnectionFailed``) instead of a trace.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from typing import Any, AsyncIterator, Iterator, Mapping

from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.iostream import StreamClosedError
from tornado.simple_httpclient import HTTPStreamClosedError
from tornado.websocket import (
    WebSocketClientConnection,
    WebSocketClosedError,
    WebSocketError,
)

from .address import check_ws_url
from .errors import Explained
from .identity import HEADER, ServerIdentity, parse_header
from .loopthread import LoopThread
from .protocol import DEFAULT_MAX_MESSAGE_SIZE, CloseCode
from .tornado_internals import client_has_ended, ended_without_close_frame, websocket_connect_noting_drops

__all__ = [
    "Client",
    "BlockingClient",
    "ConnectionClosed",
    "ConnectionFailed",
    "connect",
    "connect_blocking",
    "explain_failure",
    "CLOSE_CODES",
]

# The close codes a learner meets, with what they mean (RFC 6455, section 7.4.1).
CLOSE_CODES: dict[int, str] = {code: code.meaning for code in CloseCode}


class ConnectionFailed(Explained, ConnectionError):
    """Could not open the WebSocket; ``str()`` says why in one sentence.

    ``status`` is the HTTP status the server answered instead of ``101``
    (403: refused, mostly for the page's origin; 404: no WebSocket at that path), or None when no
    HTTP answer came (nothing listening, unknown host, timeout).
    """

    def __init__(self, url: str, reason: str, status: int | None = None) -> None:
        self.url = url
        self.reason = reason
        self.status = status
        super().__init__(f"could not connect to {url}: {reason}")


class ConnectionClosed(Explained, ConnectionError):
    """The connection is closed; ``code`` and ``reason`` say how.

    ``code`` is what RFC 6455 (7.1.5) calls the connection's close code: the
    one the other side's close frame carried, 1005 when that frame had none,
    1006 when the connection ended without a close frame (dropped, killed,
    unreachable; no endpoint ever sends 1006). None only where no connection
    was open to close (a reconnecting client that never got one).
    """

    def __init__(self, code: int | None, reason: str | None) -> None:
        self.code = code
        self.reason = reason or ""
        if code is None:
            super().__init__(f"connection closed: {self.reason or 'no connection is open'}")
            return
        meaning = CLOSE_CODES.get(code, "")
        detail = f" ({meaning})" if meaning else ""
        said = f", reason {self.reason!r}" if self.reason else ""
        super().__init__(f"connection closed with code {code}{detail}{said}")


def refused_origin_advice(origin: str | None) -> str:
    """Why a server answered 403 to a handshake that sent ``origin``, and what to do, for any Tornado server.

    The way to let a page in differs: this tutorial's server lists origins
    (``allowed_origins``); a plain Tornado program overrides ``check_origin``
    (or, from Tornado 6.6, lists them in the ``trusted_origins`` setting).
    """
    if not origin:  # Tornado checks the origins of browsers only: another check of the server refused it
        return (
            "the server refused the handshake (403 Forbidden), and no Origin was sent, so not for an origin: "
            "its log says why (the tutorial's server refuses a Host it does not serve: see allowed_hosts)"
        )
    if origin.strip().lower() == "null":  # file:// pages and sandboxed frames: nothing to list
        return (
            "the server refused Origin 'null' (403 Forbidden), the origin of a page opened from disk (file://): "
            "open the page from the server itself instead; allowing 'null' would let any file in"
        )
    return (
        f"the server refused the origin {origin!r} (403 Forbidden); if that page is yours, let exactly it in: "
        f"the tutorial's server with allowed_origins=[{origin!r}], a plain Tornado program by overriding "
        "check_origin to accept it (or, since Tornado 6.6, the setting trusted_origins)"
    )


def explain_failure(url: str, error: BaseException, timeout: float, origin: str | None = None) -> ConnectionFailed:
    """Turn what ``websocket_connect`` raised into a sentence a learner can act on (``origin``: the one sent)."""
    host_port = url.split("://", 1)[-1].split("/", 1)[0]
    if isinstance(error, ConnectionRefusedError):
        reason = f"nothing is listening on {host_port} (connection refused); is the server started, and is the port right?"
    elif isinstance(error, socket.gaierror):
        reason = f"host {host_port.rsplit(':', 1)[0]!r} not found; check the host name (for this machine use 'localhost')"
    elif isinstance(error, HTTPClientError) and error.code == 404:
        path = "/" + url.split("://", 1)[-1].split("/", 1)[-1] if url.count("/") > 2 else "/"
        reason = f"the server has no WebSocket at {path} (404 Not Found); check the uri, e.g. '/ws'"
    elif isinstance(error, HTTPClientError) and error.code == 401:
        reason = "the server wants a login first (401 Unauthorized): send its cookie or token with the handshake"
    elif isinstance(error, HTTPClientError) and error.code == 403:
        reason = refused_origin_advice(origin)
    elif isinstance(error, HTTPStreamClosedError):  # 599 too, but at once: not a timeout
        reason = (
            "the server closed the connection without answering the handshake (a proxy that does not serve "
            "this host name does that, e.g. nginx's 444); check the host name and port"
        )
    elif isinstance(error, HTTPClientError) and error.code == 599:
        reason = f"no answer within {timeout} s; is the host reachable and the port right?"
    elif isinstance(error, HTTPClientError):
        reason = f"the server answered HTTP {error.code} {error.message or ''} instead of accepting a WebSocket".replace("  ", " ")
    elif isinstance(error, WebSocketError):
        reason = "that server speaks HTTP but is not a WebSocket server (it did not answer the upgrade)"
    elif isinstance(error, (asyncio.TimeoutError, TimeoutError)):
        reason = f"no answer within {timeout} s; is the host reachable and the port right?"
    elif isinstance(error, (StreamClosedError, ConnectionResetError)):
        reason = "the server closed the connection during the handshake; is it a WebSocket server?"
    elif isinstance(error, ssl.SSLCertVerificationError):
        reason = (
            f"the server's certificate is not trusted ({error.verify_message}); pass ssl_context= a context "
            "that trusts its certificate authority (see wstutorial.server.tls)"
        )
    elif isinstance(error, ssl.SSLError):
        reason = f"secure connection failed ({error.reason}); wss:// needs a server with TLS, ws:// one without"
    elif isinstance(error, OSError):
        reason = f"{error.strerror or error}"
    else:
        reason = f"{type(error).__name__}: {error}"
    status = error.code if isinstance(error, HTTPClientError) and error.code != 599 else None
    return ConnectionFailed(url, reason, status)


class Client:
    """An open WebSocket connection, used with ``await`` (see :func:`connect`)."""

    def __init__(self, connection: WebSocketClientConnection, url: str) -> None:
        self._connection = connection
        self.url = url
        self._closed = False
        # Tornado hands out the end of the connection (None) once: only one
        # coroutine may read at a time, so close() must know about a reader.
        self._readers = 0
        self._ended = asyncio.Event()

    @property
    def closed(self) -> bool:
        return self._closed or client_has_ended(self._connection)

    @property
    def close_code(self) -> int | None:
        """The connection's close code (None while open): the other side's, 1005 without one, 1006 for a drop.

        RFC 6455 7.1.5: a connection that ended without a close frame has the
        close code 1006, one whose close frame carried no code 1005; neither
        is ever sent. Tornado says None for both.
        """
        code = self._connection.close_code
        if code is None and self.closed:
            return CloseCode.ABNORMAL_CLOSURE if ended_without_close_frame(self._connection) else CloseCode.NO_STATUS_RCVD
        return code

    @property
    def server_identity(self) -> ServerIdentity | None:
        """Which process runs the server, when it is a tutorial server (its handshake says so)."""
        headers = getattr(self._connection, "headers", None)
        return parse_header(headers.get(HEADER)) if headers is not None else None

    @property
    def close_reason(self) -> str | None:
        return self._connection.close_reason

    async def send(self, message: str | bytes) -> None:
        """Send a text (``str``) or binary (``bytes``) message."""
        if not isinstance(message, (str, bytes)):
            raise TypeError(f"a message is str (text) or bytes (binary), got {type(message).__name__}")
        try:
            await self._connection.write_message(message, binary=isinstance(message, bytes))
        except (WebSocketClosedError, StreamClosedError):
            raise ConnectionClosed(self.close_code, self.close_reason) from None

    async def receive(self, timeout: float | None = None) -> str | bytes:
        """Wait for the next message; raises ``ConnectionClosed`` once the connection is closed.

        With ``timeout`` (seconds), raises ``TimeoutError`` when nothing comes.
        """
        if self._closed:
            raise ConnectionClosed(self.close_code, self.close_reason)
        self._readers += 1
        try:
            message = await asyncio.wait_for(self._connection.read_message(), timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(f"no message from {self.url} within {timeout} s") from None
        finally:
            self._readers -= 1
        if message is None:
            self._mark_closed()
            raise ConnectionClosed(self.close_code, self.close_reason)
        return message

    def _mark_closed(self) -> None:
        self._closed = True
        self._ended.set()

    async def close(self, code: int = CloseCode.NORMAL_CLOSURE, reason: str = "", timeout: float = 5.0) -> None:
        """Close with ``code`` and ``reason`` and wait for the server to confirm."""
        if self._closed:
            return
        self._connection.close(code, reason)
        try:
            async with asyncio.timeout(timeout):
                if self._readers:
                    # Another coroutine is in receive() (an `async for` loop):
                    # it will read the end of the connection; reading here too
                    # could take that end from it and leave it waiting forever.
                    await self._ended.wait()
                else:
                    while await self._connection.read_message() is not None:
                        pass  # messages already on their way before the close
        except (asyncio.TimeoutError, TimeoutError):
            pass
        self._mark_closed()

    def __aiter__(self) -> AsyncIterator[str | bytes]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[str | bytes]:
        while True:
            try:
                yield await self.receive()
            except ConnectionClosed:
                return

    async def __aenter__(self) -> "Client":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"<Client {self.url} {'closed' if self.closed else 'open'}>"


async def connect(
    url: str,
    *,
    timeout: float = 5.0,
    origin: str | None = None,
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
    ping_interval: float | None = None,
    headers: Mapping[str, str] | None = None,
    ssl_context: ssl.SSLContext | None = None,
    source_address: str | None = None,
) -> Client:
    """Open a WebSocket to ``url`` (``ws://host:port/path`` or ``wss://...``); use with ``await``.

    Raises ``ConnectionFailed`` with a sentence saying what went wrong.
    ``origin`` sets the Origin header, as a browser page would; ``headers``
    adds others (e.g. a ``Cookie``). For ``wss://``, ``ssl_context`` says
    which certificate authorities to trust (default: the system's).
    ``source_address``: connect from this address of this machine (e.g.
    ``127.0.0.7``: a rehearsal's student seems to come from a machine of its own).
    """
    url = check_ws_url(url)
    all_headers = dict(headers or {})
    if origin:
        all_headers["Origin"] = origin
    request = HTTPRequest(
        url, headers=all_headers, connect_timeout=timeout, request_timeout=timeout, ssl_options=ssl_context,
        network_interface=source_address,
    )
    try:
        connection = await asyncio.wait_for(
            # websocket_connect's own connection, noting a drop: close_code 1006 (RFC 6455 7.1.5).
            websocket_connect_noting_drops(request, max_message_size=max_message_size, ping_interval=ping_interval),
            timeout,
        )
    except Exception as error:  # every failure becomes one sentence
        sent = next((value for name, value in all_headers.items() if name.lower() == "origin"), None)
        raise explain_failure(url, error, timeout, sent) from error
    return Client(connection, url)


class BlockingClient:
    """The same client for scripts: every method blocks until done.

    Runs its own event loop in a background thread, so it works anywhere,
    also inside a notebook (where the async :class:`Client` is nicer).
    """

    def __init__(self, url: str, **options: Any) -> None:
        self._loop_thread = LoopThread("wstutorial-client")
        self._loop_thread.start()
        timeout = options.get("timeout", 5.0)
        try:
            self._client: Client = self._loop_thread.run(connect(url, **options), timeout + 5)
        except BaseException:
            self._loop_thread.stop()
            raise
        self.url = url

    @property
    def closed(self) -> bool:
        return self._client.closed

    @property
    def close_code(self) -> int | None:
        return self._client.close_code

    @property
    def close_reason(self) -> str | None:
        return self._client.close_reason

    def send(self, message: str | bytes) -> None:
        self._loop_thread.run(self._client.send(message))

    def receive(self, timeout: float | None = 10.0) -> str | bytes:
        """Wait for the next message (``TimeoutError`` after ``timeout`` s, None waits forever)."""
        return self._loop_thread.run(self._client.receive(timeout), None)

    def close(self, code: int = CloseCode.NORMAL_CLOSURE, reason: str = "", timeout: float = 5.0) -> None:
        if self._loop_thread.is_alive():
            try:
                self._loop_thread.run(self._client.close(code, reason, timeout), timeout + 5)
            finally:
                self._loop_thread.stop()

    def __iter__(self) -> Iterator[str | bytes]:
        while True:
            try:
                yield self.receive(None)
            except ConnectionClosed:
                return

    def __enter__(self) -> "BlockingClient":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<BlockingClient {self.url} {'closed' if self.closed else 'open'}>"


def connect_blocking(url: str, **options: Any) -> BlockingClient:
    """Open a WebSocket from a script; same options as :func:`connect`."""
    return BlockingClient(url, **options)
