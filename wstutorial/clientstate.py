"""The state of one client connection, as the tutorial's page shows it.

Host, port and uri as typed; a status (``closed`` → ``connecting`` →
``open`` → ``closed``, or ``failed``); an error sentence; the messages
received. ``ClientPanel`` (``widgets.py``) displays it; a notebook can drive
the very same steps with ``await``::

    state = ClientState("localhost", server.port, "/ws")
    await state.open()          # True; state.messages[-1] == "Hello World"
    await state.send("hi")
    await state.close()

Everything runs on the event loop that calls it (the kernel's, in a
notebook). No ipywidgets here.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from typing import Callable, Literal

from .address import InvalidAddress, default_port, is_loopback, parse_host, ws_url
from .client import Client, ConnectionClosed, ConnectionFailed, connect
from .errors import Explained
from .protocol import CloseCode, describe_message

__all__ = ["ClientState", "Status", "DEFAULT_MAX_MESSAGES", "NotOpen"]

logger = logging.getLogger("wstutorial")

Status = Literal["closed", "connecting", "open", "failed"]
Listener = Callable[["ClientState"], None]

DEFAULT_MAX_MESSAGES = 100


class NotOpen(Explained, RuntimeError):
    """A message was to be sent on a connection that is not open."""


class ClientState:
    """One WebSocket client: address, status, error sentence, received messages.

    Args:
        host, port, uri: the three fields of the tutorial's page; change
            them (``state.port = 8889``) before :meth:`open`. ``port``
            defaults to the server's default (``$WSTUTORIAL_PORT``, else 8888).
        max_messages: how many received messages are kept (newest).
        timeout: seconds to wait for the server when opening.
    """

    def __init__(
        self,
        host: str = "localhost",
        port: int | str | None = None,
        uri: str = "/ws",
        *,
        max_messages: int = DEFAULT_MAX_MESSAGES,
        timeout: float = 5.0,
    ) -> None:
        if not isinstance(max_messages, int) or max_messages < 1:
            raise ValueError(f"max_messages must be a whole number of at least 1, got {max_messages!r}")
        self.host = host
        self.port = default_port() if port is None else port
        self.uri = uri
        self.timeout = timeout
        self.status: Status = "closed"
        self.error = ""
        self.note = ""  # e.g. that the server belongs to another kernel
        self.close_code: int | None = None
        self.close_reason = ""
        self.messages: collections.deque[str] = collections.deque(maxlen=max_messages)
        self.received = 0  # messages received since the last open
        self.sent = 0
        self._client: Client | None = None
        self._reader: asyncio.Task[None] | None = None
        self._listeners: list[Listener] = []

    # -- what it shows ----------------------------------------------------------

    @property
    def url(self) -> str:
        """``ws://host:port/uri``; raises :class:`InvalidAddress` with a sentence for a bad field."""
        return ws_url(self.host, self.port, self.uri)

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    @property
    def summary(self) -> str:
        """One sentence for a status line (with the last error, if any)."""
        if self.status == "failed":
            return f"failed: {self.error}"
        if self.status == "open" and self.note and not self.error:
            return f"open: {self._url_or_fields()} ({self.received} received, {self.sent} sent) - note: {self.note}"
        if self.status == "connecting":
            text = f"connecting to {self._url_or_fields()} ..."
        elif self.status == "open":
            text = f"open: {self._url_or_fields()} ({self.received} received, {self.sent} sent)"
        elif self.close_code is not None:
            said = f", reason {self.close_reason!r}" if self.close_reason else ""
            text = f"closed with code {self.close_code}{said}"
        else:
            text = "closed"
        return f"{text} - {self.error}" if self.error else text

    def _url_or_fields(self) -> str:
        try:
            return self.url
        except InvalidAddress:
            return f"{self.host}:{self.port}{self.uri}"

    # -- listeners --------------------------------------------------------------------

    def on_change(self, callback: Listener) -> Callable[[], None]:
        """Call ``callback(state)`` after every change; returns a function that removes it.

        Called on the loop that runs the state's coroutines.
        """
        self._listeners.append(callback)

        def remove() -> None:
            if callback in self._listeners:
                self._listeners.remove(callback)

        return remove

    def _changed(self) -> None:
        for listener in list(self._listeners):
            try:
                listener(self)
            except Exception:  # a broken display must not break the connection
                logger.exception("ClientState listener %r failed", listener)

    def _fail(self, sentence: str) -> None:
        self.status = "failed"
        self.error = sentence
        self._changed()

    # -- the three steps ----------------------------------------------------------

    async def open(self) -> bool:
        """Connect to :attr:`url`; True once open, False with :attr:`error` set otherwise.

        Never raises for a bad field or a server that cannot be reached: the
        sentence is in :attr:`error` (and :attr:`summary`).
        """
        if self.status in ("open", "connecting"):
            self.error = f"already {self.status}: press Close first to connect elsewhere"
            self._changed()
            return self.status == "open"
        try:
            url = self.url
        except InvalidAddress as error:
            self._fail(str(error))
            return False
        self.status = "connecting"
        self.error = ""
        self.note = ""
        self.close_code = None
        self.close_reason = ""
        self.received = self.sent = 0
        self._changed()
        try:
            client = await connect(url, timeout=self.timeout)
        except ConnectionFailed as error:
            self._fail(error.reason)
            return False
        except Exception as error:  # never a traceback in the panel
            self._fail(f"could not connect to {url}: {type(error).__name__}: {error}")
            return False
        self._client = client
        self.status = "open"
        self.note = self._whose_server(client)
        self._changed()
        self._reader = asyncio.get_running_loop().create_task(self._read(client))
        return True

    def _whose_server(self, client: Client) -> str:
        """A note when this machine's server belongs to another process (say, another notebook's kernel)."""
        identity = client.server_identity
        try:
            local = is_loopback(parse_host(self.host))
        except InvalidAddress:
            local = False
        if identity is None or identity.is_this_process or not local:
            return ""
        return f"this is {identity.describe()}, not a server this kernel started"

    async def _read(self, client: Client) -> None:
        try:
            async for message in client:
                self.messages.append(describe_message(message, limit=None))
                self.received += 1
                self._changed()
        except Exception as error:  # e.g. a reset connection
            self.error = f"the connection broke: {error}"
        self._finish(client)

    def _finish(self, client: Client) -> None:
        if self._client is not client:
            return
        self._client = None
        self.status = "closed"
        self.close_code = client.close_code
        self.close_reason = client.close_reason or ""
        self._changed()

    async def send(self, text: str | bytes) -> bool:
        """Send a message; True if sent, False with :attr:`error` set when the server has just closed.

        Raises :class:`NotOpen` at once (also setting :attr:`error`) when the
        connection is not open, so a cell that sends does not go on as if it had.
        """
        client = self._client
        if client is None or self.status != "open":
            self.error = f"not sent: the connection is {self.status}; open it first (the Open button, or await state.open())"
            self._changed()
            raise NotOpen(self.error)
        try:
            await client.send(text)
        except ConnectionClosed as error:
            self.error = f"not sent: {error}"
            self._changed()
            return False
        except TypeError as error:
            self.error = str(error)
            self._changed()
            return False
        self.sent += 1
        self.error = ""
        self._changed()
        return True

    async def close(self, code: int = CloseCode.NORMAL_CLOSURE, reason: str = "") -> None:
        """Close the connection with ``code`` and ``reason`` (nothing to do when not open)."""
        client, reader = self._client, self._reader
        if client is None:
            return
        # Our reader task already waits for the server's close frame, so the
        # client only sends ours (timeout 0) and the reader sees the end.
        await client.close(code, reason, timeout=0 if reader is not None else self.timeout)
        if reader is not None:
            try:
                await asyncio.wait_for(reader, self.timeout)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                pass
        self._finish(client)  # in case the reader had not noticed yet

    def clear(self) -> None:
        """Forget the received messages."""
        self.messages.clear()
        self._changed()

    def __repr__(self) -> str:
        return f"<ClientState {self._url_or_fields()} {self.summary}>"
