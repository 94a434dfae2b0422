"""A client that comes back: reconnection with exponential backoff and jitter.

A WebSocket does not reopen by itself: when the server restarts or the
network drops, the client must connect again. Doing it at once and in a
tight loop hammers a server that is starting up; thirty clients doing it at
the same moment hit it together. RFC 6455 (section 7.2.3) therefore asks a
client to wait a random time before reconnecting after an abnormal closure,
and longer after each failed attempt ("truncated binary exponential
backoff"). :class:`Backoff` computes those waits; :class:`ReconnectingClient`
uses them, and records every attempt in its own :class:`~wstutorial.events.EventLog`.

This is client code: it never imports the server.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import urllib.parse
from typing import Any, AsyncIterator, Awaitable, Callable, Collection

from tornado.httpclient import HTTPClientError

from .address import check_ws_url
from .client import Client, ConnectionClosed, ConnectionFailed, connect
from .events import Event, EventKind, EventLog
from .protocol import CloseCode

__all__ = ["Backoff", "ReconnectingClient", "connect_reconnecting", "GIVE_UP_CODES"]

# Close codes that say "what you are or send is wrong", not "try later": the
# same client connecting again would get the same answer, so it stops. 1009
# (its message was too big) and 1010 (it needs an extension the server lacks)
# are the client's errors too (RFC 6455, 7.4.1).
GIVE_UP_CODES: frozenset[int] = frozenset(
    {
        CloseCode.PROTOCOL_ERROR,
        CloseCode.UNSUPPORTED_DATA,
        CloseCode.INVALID_DATA,
        CloseCode.POLICY_VIOLATION,
        CloseCode.MESSAGE_TOO_BIG,
        CloseCode.MANDATORY_EXTENSION,
    }
)

# 429 Too Many Requests says "later", not "never" (RFC 6585): retried, with backoff.
TRY_LATER_STATUSES = frozenset({429})


def _refusal(error: ConnectionFailed) -> int | None:
    """The HTTP status when the server answered the handshake with a 4xx (404, 403, ...), else None.

    A server error (5xx), a 429 (too many requests: later) or no answer at
    all may pass; a refusal will not.
    """
    cause = error.__cause__
    if isinstance(cause, HTTPClientError) and 400 <= cause.code < 500 and cause.code not in TRY_LATER_STATUSES:
        return cause.code
    return None


@dataclasses.dataclass(frozen=True)
class Backoff:
    """How long to wait before each reconnection attempt.

    Attempt ``k`` (1 for the first one after a connection is lost) waits a
    random time between 0 and ``min(maximum, initial * factor ** (k - 1))``
    seconds ("full jitter"): growing waits spare a server that is down, and
    the randomness spreads many clients out so they do not all come back at
    the same instant. ``jitter=False`` waits the whole cap (for tests and
    demonstrations only).
    """

    initial: float = 1.0
    factor: float = 2.0
    maximum: float = 30.0
    jitter: bool = True

    def __post_init__(self) -> None:
        if not self.initial > 0:
            raise ValueError(f"initial must be a positive number of seconds, got {self.initial!r}")
        if not self.factor >= 1:
            raise ValueError(f"factor must be at least 1 (1 waits the same each time), got {self.factor!r}")
        if not self.maximum >= self.initial:
            raise ValueError(f"maximum ({self.maximum!r} s) must be at least initial ({self.initial!r} s)")

    def cap(self, attempt: int) -> float:
        """The longest wait before attempt ``attempt`` (1, 2, ...)."""
        if attempt < 1:
            raise ValueError(f"attempts are counted from 1, got {attempt!r}")
        # min() before the power would be nicer, but factor ** 1000 overflows.
        exponent = min(attempt - 1, 64)
        return float(min(self.maximum, self.initial * self.factor**exponent))

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """The wait before attempt ``attempt``: a random part of :meth:`cap` (all of it without jitter)."""
        cap = self.cap(attempt)
        if not self.jitter:
            return cap
        return (rng or random).uniform(0, cap)


OnConnect = Callable[["ReconnectingClient"], Awaitable[None]]


class ReconnectingClient:
    """A WebSocket client that reconnects until :meth:`close`; use with ``await``.

    Messages from every connection arrive through :meth:`receive` (or
    ``async for``); :meth:`send` waits while the client is reconnecting.
    Each attempt, connection and loss is an event in :attr:`events`.
    ``on_connect`` (an ``async`` function taking the client) runs after every
    connection, first or later: the place to join a room again or resend a
    subscription, since a new connection remembers nothing of the old one.

    It gives up (see :attr:`finished`) when the server refuses the
    handshake with an HTTP 4xx other than 429 (wrong path, origin refused,
    no login) or closes with a code in ``give_up_codes`` (by default 1002,
    1003, 1007, 1008, 1009, 1010: the client itself is wrong); a server that
    is down, restarting or overloaded (no answer, 5xx, 429, 1001, 1006,
    1011-1014) is tried again.

    Messages are kept in a bounded queue (``queue_size``): when nobody
    reads, the client stops reading too, so the server's backpressure still
    works.
    """

    def __init__(
        self,
        url: str,
        *,
        backoff: Backoff | None = None,
        max_attempts: int | None = None,
        name: str = "",
        events: EventLog | None = None,
        on_connect: OnConnect | None = None,
        queue_size: int = 100,
        give_up_codes: Collection[int] = GIVE_UP_CODES,
        rng: random.Random | None = None,
        **options: Any,
    ) -> None:
        if max_attempts is not None and max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1 (or None: try for ever), got {max_attempts!r}")
        self.url = check_ws_url(url)
        self.backoff = backoff or Backoff()
        self.max_attempts = max_attempts
        self.name = name
        self.events = events if events is not None else EventLog()
        self.on_connect = on_connect
        self.give_up_codes = frozenset(give_up_codes)
        self.options = options
        self.connections = 0  # how many times a connection opened
        self.attempts = 0  # failed attempts since the last connection
        self._rng = rng
        self._path = urllib.parse.urlsplit(url).path or "/"
        self._messages: asyncio.Queue[str | bytes] = asyncio.Queue(queue_size)
        self._client: Client | None = None
        self._connected = asyncio.Event()
        self._finished = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self._failure: str = ""
        self._lost: ConnectionClosed | None = None  # how the last connection ended

    # -- state -------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._client is not None and not self._client.closed

    @property
    def finished(self) -> bool:
        """True once the client stopped for good (closed, or gave up)."""
        return self._finished.is_set()

    def _record(self, text: str, *, kind: EventKind) -> None:
        self.events.record(text, kind=kind, client=self.name, path=self._path)

    async def wait_for(self, text: str, timeout: float = 10.0, *, after: int = 0) -> Event:
        """Wait for an event of this client whose text contains ``text`` (from ``after`` on).

        The ``await`` version of ``events.wait_for``: the client runs on this
        same loop, so a blocking wait here would stop it from ever recording.
        """
        loop = asyncio.get_running_loop()
        found: asyncio.Future[Event] = loop.create_future()

        def settle(event: Event) -> None:
            if not found.done():
                found.set_result(event)

        def check(event: Event) -> None:
            if text in event.text and event.seq >= after:
                loop.call_soon_threadsafe(settle, event)

        unsubscribe = self.events.subscribe(check)
        try:
            existing = self.events.find(text, after)
            if existing is not None:
                return existing
            return await asyncio.wait_for(found, timeout)
        except asyncio.TimeoutError:
            recent = self.events.texts()[-3:]
            raise TimeoutError(f"no event containing {text!r} within {timeout} s; last events: {recent}") from None
        finally:
            unsubscribe()

    # -- life cycle --------------------------------------------------------------------

    def start(self) -> "ReconnectingClient":
        """Start connecting in the background (on the running loop); returns at once."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"reconnect {self.url}")
        return self

    async def wait_connected(self, timeout: float | None = 10.0) -> None:
        """Wait until a connection is open; ``TimeoutError`` (a sentence) when none opens in time."""
        self.start()
        waiter = asyncio.ensure_future(self._connected.wait())
        finished = asyncio.ensure_future(self._finished.wait())
        try:
            done, _ = await asyncio.wait({waiter, finished}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
            finished.cancel()
        if self._connected.is_set():
            return
        if self._finished.is_set():
            raise self._closed_error()
        last = f"; last failure: {self._failure}" if self._failure else ""
        raise TimeoutError(f"not connected to {self.url} within {timeout} s after {self.attempts} failed attempts{last}")

    async def _run(self) -> None:
        try:
            while not self._closing:
                attempt = self.attempts + 1
                self._record(f"attempt {attempt}: connecting to {self.url}", kind=EventKind.CONNECTING)
                try:
                    client = await connect(self.url, **self.options)
                except ConnectionFailed as error:
                    self.attempts += 1
                    self._failure = error.reason
                    status = _refusal(error)
                    if status is not None:
                        self._record(f"gave up: {error.reason}; connecting again would get the same HTTP {status}", kind=EventKind.GIVE_UP)
                        return
                    if self.max_attempts is not None and self.attempts >= self.max_attempts:
                        self._record(f"gave up after {self.attempts} failed attempts: {error.reason}", kind=EventKind.GIVE_UP)
                        return
                    delay = self.backoff.delay(self.attempts + 1, self._rng)
                    self._record(f"attempt {attempt} failed: {error.reason}; next attempt in {delay:.2f} s", kind=EventKind.RETRY)
                    await asyncio.sleep(delay)
                    continue
                code = await self._serve(client, attempt)
                if self._closing:
                    return
                if code in self.give_up_codes:
                    self._record(f"gave up: the server closed with {code}; connecting again would get the same answer", kind=EventKind.GIVE_UP)
                    return
                # Lost: wait a random while before the first new attempt too,
                # so clients dropped together do not all come back together.
                self.attempts = 0
                delay = self.backoff.delay(1, self._rng)
                self._record(f"reconnecting in {delay:.2f} s", kind=EventKind.RETRY)
                await asyncio.sleep(delay)
        finally:
            self._connected.clear()
            self._finished.set()

    async def _serve(self, client: Client, attempt: int) -> int | None:
        """Use one connection until it ends: tell who waits, then pass its messages on; returns the close code."""
        self._client = client
        self.connections += 1
        again = f" after {attempt} attempts" if attempt > 1 else ""
        self._record(f"connected{again} (connection {self.connections})", kind=EventKind.OPEN)
        self.attempts = 0
        self._failure = ""
        self._connected.set()
        try:
            if self.on_connect is not None:
                try:
                    await self.on_connect(self)
                except ConnectionClosed:
                    pass  # lost at once; the loop below sees it too
                except Exception as error:  # the caller's code: report it, keep the connection
                    self._record(f"on_connect failed: {error!r}", kind=EventKind.ERROR)
            while True:
                message = await client.receive()
                await self._messages.put(message)  # waits when nobody reads: backpressure
        except ConnectionClosed as closed:
            self._lost = closed
            if not self._closing:
                self._record(f"connection lost: {closed}", kind=EventKind.CLOSE)
                self._failure = str(closed)
            return closed.code
        finally:
            self._connected.clear()
            self._client = None

    def _closed_error(self) -> ConnectionClosed:
        """What a caller gets once this client has finished: the last connection's end, or why none opened."""
        lost = self._lost
        if lost is not None and self._failure in ("", str(lost)):
            return ConnectionClosed(lost.code, lost.reason)  # its code: 1006 for a drop
        return ConnectionClosed(None, self._failure or "the client is closed")

    async def close(self, code: int = 1000, reason: str = "", timeout: float = 5.0) -> None:
        """Close the connection (if open) and stop reconnecting."""
        self._closing = True
        client = self._client
        if client is not None:
            await client.close(code, reason, timeout)
        if self._task is not None and not self._task.done():
            self._task.cancel()  # it may be sleeping between attempts
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        self._finished.set()
        self._record("closed by this client", kind=EventKind.CLOSE)

    # -- messages ----------------------------------------------------------------------

    async def send(self, message: str | bytes, timeout: float | None = 10.0) -> None:
        """Send ``message``, waiting up to ``timeout`` s for a connection first.

        Raises ``ConnectionClosed`` when the connection drops during the send:
        the message may or may not have arrived, so only the application can
        decide whether to send it again.
        """
        await self.wait_connected(timeout)
        client = self._client
        if client is None:
            raise ConnectionClosed(1006, "the connection dropped before the message was sent")
        await client.send(message)

    async def receive(self, timeout: float | None = None) -> str | bytes:
        """The next message from any connection; ``TimeoutError`` after ``timeout`` s."""
        if self.finished and self._messages.empty():
            raise self._closed_error()
        try:
            return await asyncio.wait_for(self._messages.get(), timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(f"no message from {self.url} within {timeout} s") from None

    def __aiter__(self) -> AsyncIterator[str | bytes]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[str | bytes]:
        while not (self.finished and self._messages.empty()):
            getter = asyncio.ensure_future(self._messages.get())
            finished = asyncio.ensure_future(self._finished.wait())
            try:
                await asyncio.wait({getter, finished}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                finished.cancel()
            if getter.done():
                yield getter.result()
            else:
                getter.cancel()

    async def __aenter__(self) -> "ReconnectingClient":
        self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        state = "finished" if self.finished else "connected" if self.connected else "reconnecting"
        return f"<ReconnectingClient {self.url} {state}, {self.connections} connections>"


async def connect_reconnecting(url: str, *, timeout: float | None = 10.0, **options: Any) -> ReconnectingClient:
    """Start a :class:`ReconnectingClient` and wait for its first connection (same options)."""
    client = ReconnectingClient(url, **options).start()
    try:
        await client.wait_connected(timeout)
    except BaseException:
        await client.close()
        raise
    return client
