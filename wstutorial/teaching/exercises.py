"""Self-checks for the tutorial's exercises.

Each check runs the learner's handler class on a real server on a free
port, drives it with a real client, and returns a :class:`CheckResult` that
shows as one sentence: what is right, or what is wrong and what to try.
A check never raises, whatever the class does.

Starting points are in ``notebooks/exercises/``, solutions in
``notebooks/solutions/`` (same file names).
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any, Callable

from tornado.websocket import WebSocketHandler

from ..client import (
    BlockingClient,
    ConnectionClosed,
    ConnectionFailed,
    connect_blocking,
)
from ..events import EventLog
from ..server.runner import TutorialServer, start_server
from ..wording import count
from .selfcheck import CheckResult, NotYet, describe, run_check

__all__ = ["CheckResult", "check_free_port", "check_upper_case", "check_count_clients", "check_stream_time", "ANSWER_TIMEOUT"]

# How long a check waits for an answer. A correct handler answers within
# milliseconds; this only bounds the wait for one that never answers.
ANSWER_TIMEOUT = 3.0

PATH = "/exercise"


class _Failed(Exception):
    """Ends a check early with the sentence to show."""


class _NoAnswer(_Failed):
    """Nothing came within ``ANSWER_TIMEOUT``."""


def _check_class(handler_class: object, name: str) -> None:
    if isinstance(handler_class, WebSocketHandler):
        raise _Failed(f"pass the class itself ({type(handler_class).__name__}), not an instance of it")
    if not isinstance(handler_class, type):
        raise _Failed(
            f"expected a handler class such as {name}, got {type(handler_class).__name__} {handler_class!r:.60}"
        )
    if not issubclass(handler_class, WebSocketHandler):
        raise _Failed(
            f"{handler_class.__name__} is not a WebSocket handler: define it as "
            f"'class {name}(TutorialHandler):' (from wstutorial import TutorialHandler)"
        )


def _raised(events: EventLog) -> str:
    """The first exception the handler raised, as the server recorded it ('' if none)."""
    for event in events.snapshot():
        if event.kind == "error":
            return event.text
    return ""


def _watched(handler_class: type[WebSocketHandler], returned: list[object]) -> type[WebSocketHandler]:
    """The learner's class, noting an answer that ``on_message`` returns instead of sending.

    Tornado would try to await the returned text and log a ``BadYieldError``
    traceback; the check says what happened instead.
    """

    class Watched(handler_class):  # type: ignore[valid-type,misc]
        def on_message(self, message: Any) -> Any:
            result = super().on_message(message)
            if isinstance(result, (str, bytes)):
                returned.append(result)
                return None
            return result

    Watched.__name__ = Watched.__qualname__ = handler_class.__name__
    return Watched


def _run(
    handler_class: object, name: str, body: Callable[[TutorialServer], str], **settings: Any
) -> CheckResult:
    """Serve ``handler_class`` at /exercise, run ``body`` against it, turn everything into a sentence.

    The server is quiet: a handler's exception becomes an event that the
    sentence may quote, never a traceback in the learner's cell.
    """
    returned: list[object] = []
    try:
        _check_class(handler_class, name)
        assert isinstance(handler_class, type)
        server = start_server(
            "127.0.0.1", 0, handlers={PATH: _watched(handler_class, returned)}, ping_interval=None, quiet=True,
            **settings,
        )
    except _Failed as failure:
        return CheckResult(False, str(failure))
    except Exception as error:
        return CheckResult(False, f"the server could not use {getattr(handler_class, '__name__', handler_class)}: {error}")
    try:
        return CheckResult(True, body(server))
    except _Failed as failure:
        if returned:
            return CheckResult(
                False,
                f"your on_message returned the answer ({returned[0]!r:.60}) instead of sending it: "
                "use self.write_message(...)",
            )
        raised = _raised(server.events)
        hint = f" (the server recorded: {raised})" if raised else ""
        return CheckResult(False, f"{failure}{hint}")
    except Exception as error:  # never a traceback for the learner
        raised = _raised(server.events)
        return CheckResult(False, f"the check stopped: {type(error).__name__}: {error}" + (f" (the server recorded: {raised})" if raised else ""))
    finally:
        server.stop()


def _connect(server: TutorialServer) -> BlockingClient:
    try:
        return connect_blocking(server.ws_url(PATH), timeout=ANSWER_TIMEOUT)
    except ConnectionFailed as error:
        raise _Failed(f"could not connect to your handler: {error.reason}") from None


def _answer(client: BlockingClient, after: str, skip: tuple[str, ...] = ()) -> str:
    """The next text message (skipping greetings in ``skip``); a sentence when none comes."""
    while True:
        try:
            message = client.receive(timeout=ANSWER_TIMEOUT)
        except TimeoutError:
            raise _NoAnswer(f"no answer within {ANSWER_TIMEOUT:g} s after {after}") from None
        except ConnectionClosed as closed:
            raise _Failed(f"the connection closed after {after}: {closed}") from None
        if not isinstance(message, str):
            raise _Failed(f"after {after} the answer was binary ({len(message)} bytes); send text (a str)")
        if message not in skip:
            return message


# -- exercise (notebook 00): a second server ------------------------------------------------


def check_free_port(extra: object, first: object) -> CheckResult:
    """Exercise "a second server" (notebook 00): ``extra`` ran on a free port (``port=0``) and is stopped.

    ``first`` is the notebook's own server (its console shows it), which must
    still run: ``start_server`` stops a server this notebook already runs on
    the port it is asked for, so ``port=8888``, or no port, would have
    replaced it.
    """
    def body() -> str:
        if extra is Ellipsis:
            raise NotYet("extra is still ..., the starting point: start the second server, extra = wstutorial.start_server(port=0)")
        if extra is start_server:
            raise NotYet("extra is the function start_server itself: call it, extra = wstutorial.start_server(port=0)")
        if not isinstance(extra, TutorialServer):
            raise NotYet(
                f"extra is {describe(extra)}, not a server: keep what start_server(port=0) returns in extra, "
                "then stop it on a line of its own, extra.stop()"
            )
        if extra is first:
            raise NotYet("extra is the console's server from section 2: start a second one, extra = wstutorial.start_server(port=0)")
        if isinstance(first, TutorialServer) and not first.running and extra.wanted_port == first.wanted_port:
            raise NotYet(
                f"your server asked for port {first.wanted_port}, the console's, and so stopped the console's server "
                "(start_server stops a server this notebook runs on the port it asks for; without a port it asks "
                "for that same default one): write port=0, run the console's cell in section 2 again, then your cell"
            )
        if extra.wanted_port != 0:
            raise NotYet(
                f"you chose port {extra.wanted_port} yourself: write port=0, and the system picks a port that is surely free"
            )
        if extra.running:
            raise NotYet(f"your second server still runs on port {extra.port}: stop it, extra.stop()")
        return f"your second server ran on the free port {extra.port} and is stopped; the console's server still runs."

    return run_check(body)


# -- exercise: shout back ------------------------------------------------------------------


def check_upper_case(handler_class: object) -> CheckResult:
    """Exercise "shout back": ``UpperCaseHandler`` answers every message with it in upper case.

    ``"hi"`` → ``"HI"``; one answer per message, nothing else. (A greeting
    such as ``Hello World`` on open is fine.)
    """

    def body(server: TutorialServer) -> str:
        pairs: list[str] = []
        with _connect(server) as client:
            for text in ("hello websockets", "Mixed Case 123!"):
                client.send(text)
                answer = _answer(client, f"sending {text!r}", skip=("Hello World",) if not pairs else ())
                if answer != text.upper():
                    hint = " (same text: call .upper() on it)" if answer == text else ""
                    raise _Failed(f"you answered {text!r} with {answer!r}, expected {text.upper()!r}{hint}")
                pairs.append(f"{text!r} with {answer!r}")
        return f"your handler answered {' and '.join(pairs)}."

    return _run(handler_class, "UpperCaseHandler", body)


# -- exercise: count the clients -----------------------------------------------------------

_NUMBERS = re.compile(r"\d+")


def check_count_clients(handler_class: object) -> CheckResult:
    """Exercise "count the clients": ``CountClientsHandler`` answers every message with
    the number of clients connected to it right now.

    The answer is text holding that one number, e.g. ``"2"`` (words around it,
    like ``"2 clients"``, are fine). A client that left is no longer counted.
    Keep the connected handlers in a class-level set: add ``self`` in
    ``open``, remove it in ``on_close``.
    """

    def ask(client: BlockingClient, who: str, skip: tuple[str, ...] = ()) -> int | None:
        client.send("how many?")
        answer = _answer(client, f"{who} sent a message", skip)
        numbers = _NUMBERS.findall(answer)
        if len(numbers) != 1:
            raise _Failed(f"{who} got {answer!r}: answer with the number of connected clients, e.g. '2'")
        return int(numbers[0])

    def body(server: TutorialServer) -> str:
        first = _connect(server)
        try:
            # Greetings sent on open are skipped, but must not be numbers.
            seen = ask(first, "the first client")
            if seen != 1:
                raise _Failed(f"with one client connected, the answer was {seen}, expected 1")
            second = _connect(server)
            try:
                for who, client in (("the second client", second), ("the first client", first)):
                    seen = ask(client, who)
                    if seen != 2:
                        raise _Failed(f"with two clients connected, {who} was told {seen}, expected 2")
            finally:
                second.close()
            # The server notices the close a moment after the client: ask again for a while.
            deadline = time.monotonic() + ANSWER_TIMEOUT
            while (seen := ask(first, "the first client")) != 1 and time.monotonic() < deadline:
                time.sleep(0.05)
            if seen != 1:
                raise _Failed(
                    f"after the second client left, the answer stayed {seen}, expected 1: "
                    "remove the handler from your set in on_close"
                )
        finally:
            first.close()
        return "your handler counted 1, then 2 with a second client, then 1 again after it left."

    return _run(handler_class, "CountClientsHandler", body)


# -- exercise: stream the time ---------------------------------------------------------------

_TIME = re.compile(r"\b(\d{1,2}):(\d{2}):(\d{2})\b")


def check_stream_time(handler_class: object, interval: float = 0.1, messages: int = 3) -> CheckResult:
    """Exercise "stream the time": ``StreamTimeHandler`` sends the time every ``self.interval`` seconds.

    From ``open`` on, the handler sends the current local time as text,
    ``HH:MM:SS`` (e.g. ``"14:03:07"``, ``time.strftime("%H:%M:%S")``), every
    ``self.interval`` seconds (a class attribute, ``interval = 1.0``), and
    stops when the client leaves (``on_close``). The check sets ``interval``
    to ``0.1`` on a subclass so it is quick, and waits for ``messages``
    messages.
    """

    def body(server: TutorialServer) -> str:
        received: list[str] = []
        with _connect(server) as client:
            for n in range(messages):
                after = "opening" if n == 0 else f"message {n} ({received[-1]!r})"
                text = _answer(client, after + f"; send the time every self.interval ({interval:g} s here)")
                found = _TIME.search(text)
                if not found:
                    raise _Failed(f"message {n + 1} was {text!r}: send the time as HH:MM:SS, e.g. time.strftime('%H:%M:%S')")
                hours, minutes, seconds = (int(part) for part in found.groups())
                now = time.localtime()
                difference = abs((hours * 3600 + minutes * 60 + seconds) - (now.tm_hour * 3600 + now.tm_min * 60 + now.tm_sec))
                if min(difference, 86400 - difference) > 60:
                    raise _Failed(f"message {n + 1} said {text!r} but it is {time.strftime('%H:%M:%S', now)}: send the current time")
                received.append(text)
        # Sends from the timer (after the one open() may make at once) come
        # `interval` apart; a PeriodicCallback given seconds (0.1) calls every 0.1 ms.
        gaps = [later - earlier for earlier, later in zip(sent[1:], sent[2:], strict=False)]
        if gaps and min(gaps) < interval / 4:
            raise _Failed(
                f"your handler sent messages {min(gaps) * 1000:.2g} ms apart instead of every self.interval "
                f"seconds ({interval:g} s here): PeriodicCallback counts in milliseconds, "
                "so give it self.interval * 1000"
            )
        # A fixed number of milliseconds instead of self.interval sends too slowly.
        if gaps and max(gaps) > interval * 5 + 0.3:
            raise _Failed(
                f"your handler sent messages {max(gaps):.2g} s apart instead of every self.interval "
                f"seconds ({interval:g} s here): give PeriodicCallback self.interval * 1000, not a fixed number"
            )
        # Give a stream that does not stop a few intervals to try sending to the closed connection.
        time.sleep(interval * 3)
        if late:
            raise _Failed(
                f"your handler still sent {count(len(late), 'message')} after the client left: "
                "stop the timer or loop in on_close"
            )
        return f"your handler sent the time {messages} times ({', '.join(received)}) and stopped when the client left."

    late: list[object] = []  # messages sent after on_close (appended in the server thread)
    sent: list[float] = []  # when the handler sent each message before on_close

    try:
        _check_class(handler_class, "StreamTimeHandler")
    except _Failed as failure:
        return CheckResult(False, str(failure))
    assert isinstance(handler_class, type)
    learner: type[WebSocketHandler] = handler_class

    class Checked(learner):  # type: ignore[valid-type,misc]
        """The learner's handler with a short interval, noticing messages sent after the close."""

        _left = False

        def write_message(self, message: Any, binary: bool = False) -> Any:
            if self._left:
                # Counted, not sent: Tornado would raise WebSocketClosedError
                # and log a traceback each time the timer fires.
                late.append(message)
                done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                done.set_result(None)
                return done
            sent.append(time.monotonic())
            return super().write_message(message, binary)

        def on_close(self) -> None:
            try:
                super().on_close()
            finally:
                self._left = True

    Checked.interval = interval
    Checked.__name__ = Checked.__qualname__ = learner.__name__
    return _run(Checked, "StreamTimeHandler", body)


# -- exercise (notebook 06): a chat room in a few lines -------------------------------------

__all__ += ["check_mini_chat"]


def check_mini_chat(handler_class: object) -> CheckResult:
    """Exercise "a mini chat" (notebook 06): ``MiniChatHandler`` sends each message to every client.

    Clients connect to ``/exercise?name=Ada``; a message ``hello`` from Ada
    reaches every connected client, Ada included, as ``"Ada: hello"``. A
    client that left gets nothing more (and sending to it raises no error).
    """

    def join(server: TutorialServer, name: str) -> BlockingClient:
        try:
            return connect_blocking(f"{server.ws_url(PATH)}?name={name}", timeout=ANSWER_TIMEOUT)
        except ConnectionFailed as error:
            raise _Failed(f"could not connect to your handler: {error.reason}") from None

    def says(sender: BlockingClient, name: str, text: str, everyone: dict[str, BlockingClient]) -> None:
        sender.send(text)
        expected = f"{name}: {text}"
        # The others first: "Bob did not receive Ada's message" is the usual mistake.
        for who, client in sorted(everyone.items(), key=lambda item: item[0] == name):
            try:
                answer = _answer(client, f"{name} sent {text!r} ({who} is waiting)", skip=("Hello World",))
            except _NoAnswer:
                if who == name:
                    raise _Failed(
                        f"{name} did not receive their own message: send it to every connection "
                        "in the room, the sender's too"
                    ) from None
                raise _Failed(
                    f"{who} did not receive {name}'s message: send it to every connection in the room"
                ) from None
            if answer != expected:
                hint = " (add the sender's name: self.get_argument('name') in open)" if answer == text else ""
                raise _Failed(f"{who} got {answer!r} after {name} sent {text!r}, expected {expected!r}{hint}")

    def body(server: TutorialServer) -> str:
        ada = join(server, "Ada")
        try:
            bob = join(server, "Bob")
            try:
                says(ada, "Ada", "hello", {"Ada": ada, "Bob": bob})
                says(bob, "Bob", "hi Ada", {"Ada": ada, "Bob": bob})
            finally:
                bob.close()
            # The server notices Bob's close a moment after Bob: wait until it has
            # (a TutorialHandler leaves the server's list once its on_close ran).
            deadline = time.monotonic() + ANSWER_TIMEOUT
            while len(server.clients(PATH)) > 1 and time.monotonic() < deadline:
                time.sleep(0.05)
            left = "sending to a client that had left failed (WebSocketClosedError): remove it from the room in on_close"
            try:
                says(ada, "Ada", "anyone left?", {"Ada": ada})
            except _Failed:
                if "WebSocketClosedError" in _raised(server.events):
                    raise _Failed(left) from None
                raise
            # Ada can read the answer before the server thread has finished the
            # on_message that sent it (and raised for Bob): one round trip through
            # the server's loop makes sure that call is over and recorded.
            server.clients(PATH)
            if _raised(server.events):
                raise _Failed(left)
        finally:
            ada.close()
        return "your handler sent each message to everyone as '<name>: <text>', and forgot a client that left."

    return _run(handler_class, "MiniChatHandler", body)


__all__ += ["check_relay"]


async def check_relay(relay: object, redis_url: str) -> CheckResult:
    """Exercise "a relay" (notebook 09): ``relay(redis_url, channel, send)`` passes on what is published.

    Runs ``relay`` against a real Redis, waits until it has subscribed
    (Redis's own count of subscribers), publishes ``one``, ``two``,
    ``three``, and expects ``send`` to have been called with those three
    texts, in order. Use with ``await``; never raises.
    """
    import asyncio
    import inspect
    import secrets

    import redis.asyncio

    if not inspect.iscoroutinefunction(relay):
        return CheckResult(False, "relay must be an async function: 'async def relay(redis_url, channel, send):'")
    channel = f"exercise:{secrets.token_hex(4)}"
    got: list[object] = []
    arrived = asyncio.Event()

    def send(text: object) -> None:
        got.append(text)
        arrived.set()

    publisher = redis.asyncio.Redis.from_url(redis_url)
    task = asyncio.ensure_future(relay(redis_url, channel, send))

    def ended(when: str) -> str:
        error = task.exception() if not task.cancelled() else None
        why = f"raised {type(error).__name__}: {error}" if error else "returned"
        return f"your relay {why} {when}; it should subscribe and then keep listening (async for message in pubsub.listen())"

    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ANSWER_TIMEOUT
        # Wait until Redis counts a subscriber on the channel: a message
        # published before that would reach nobody (pub/sub keeps nothing).
        while not dict(await publisher.pubsub_numsub(channel)).get(channel.encode()):
            if task.done():
                return CheckResult(False, ended("before subscribing to the channel"))
            if loop.time() > deadline:
                return CheckResult(
                    False, f"nobody subscribed to the channel within {ANSWER_TIMEOUT} s: call 'await pubsub.subscribe(channel)'"
                )
            await asyncio.sleep(0.02)
        sent = ["one", "two", "three"]
        for text in sent:
            await publisher.publish(channel, text)
        while len(got) < len(sent) and loop.time() < deadline + ANSWER_TIMEOUT and not task.done():
            arrived.clear()
            try:
                await asyncio.wait_for(arrived.wait(), max(0.01, deadline + ANSWER_TIMEOUT - loop.time()))
            except asyncio.TimeoutError:
                break
        for item in got:
            if isinstance(item, bytes):
                return CheckResult(False, f"send got {item!r}, bytes: pass text, message['data'].decode()")
            if not isinstance(item, str):
                return CheckResult(
                    False,
                    f"send got {item!r:.80}: pass only the text of messages whose type is 'message' (message['data'].decode())",
                )
        if got != sent:
            if task.done() and len(got) < len(sent):
                return CheckResult(False, ended(f"after passing on {got}"))
            return CheckResult(False, f"published {sent}, but send got {got}: call send once per message, in order")
        if task.done():
            return CheckResult(False, ended("after three messages"))
        return CheckResult(True, "your relay subscribed, then passed on 'one', 'two', 'three' in order, and keeps listening.")
    except Exception as error:  # never a traceback for the learner
        return CheckResult(False, f"the check stopped: {type(error).__name__}: {error}")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await publisher.aclose()


__all__ += ["check_members_only"]


def check_members_only(handler_class: object) -> CheckResult:
    """Exercise "members only" (notebook 08): ``MembersOnlyHandler`` lets in logged-in users only.

    A client with the signed cookie ``wstutorial_user`` (as ``/login``
    sets it) gets ``Hello <name>``; a client without it, or with a cookie it
    wrote itself (not signed), is refused with HTTP 401 before the upgrade.
    """
    import secrets

    from tornado.web import create_signed_value

    secret = secrets.token_hex(32)
    signed = create_signed_value(secret, "wstutorial_user", "ada").decode()

    def attempt(server: TutorialServer, cookie: str | None) -> str:
        """The greeting, or 'refused <code>'."""
        headers = {"Cookie": f"wstutorial_user={cookie}"} if cookie else {}
        try:
            client = connect_blocking(server.ws_url(PATH), timeout=ANSWER_TIMEOUT, headers=headers)
        except ConnectionFailed as error:
            code = re.search(r"\b(4\d\d)\b", error.reason)
            return f"refused {code.group(1) if code else error.reason}"
        try:
            return str(_answer(client, "it connected"))
        finally:
            client.close()

    def body(server: TutorialServer) -> str:
        greeting = attempt(server, signed)
        if greeting.startswith("refused"):
            raise _Failed(f"a logged-in client (a valid signed cookie for ada) was {greeting}: let it in")
        if greeting == "Hello b'ada'":
            raise _Failed("the name came as bytes (Hello b'ada'): return get_signed_cookie(...).decode()")
        if greeting != "Hello ada":
            raise _Failed(
                f"a logged-in ada got {greeting!r}, expected 'Hello ada': get_current_user should return "
                "self.get_signed_cookie('wstutorial_user') as text"
            )
        anonymous = attempt(server, None)
        if not anonymous.startswith("refused"):
            raise _Failed(
                f"a client without a login got in (it received {anonymous!r}): in prepare(), "
                "raise HTTPError(401) when self.current_user is None"
            )
        if anonymous != "refused 401":
            raise _Failed(f"a client without a login was {anonymous}; refuse it with 401 (raise HTTPError(401))")
        forged = attempt(server, "ada")
        if not forged.startswith("refused"):
            raise _Failed(
                "a cookie the client wrote itself (wstutorial_user=ada, not signed) got in: read it with "
                "get_signed_cookie, which checks the signature, not get_cookie"
            )
        return "ada got 'Hello ada'; no login and a forged cookie were refused with 401 before the upgrade."

    return _run(handler_class, "MembersOnlyHandler", body, tornado_settings={"cookie_secret": secret})
