"""Self-checks for the tutorial's exercises whose answer is a handler class (and notebook 00's and 09's).

Each handler check serves the student's class on a real server on a free
port (watched by :class:`~wstutorial.teaching.probe.Probe`), drives it with
a real client, and returns a :class:`CheckResult` that shows as one
sentence: what is right, or what is wrong and what to change. A check never
raises, whatever the class does (:mod:`wstutorial.teaching.selfcheck`).

Starting points are in ``notebooks/exercises/``, solutions in
``notebooks/solutions/`` (same file names); ``tests/test_wrong_answers.py``
holds, for each exercise, the starting point and the usual wrong answers
with the sentence each gets.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import re
import secrets
import time
from typing import Any, Callable

from tornado.websocket import WebSocketHandler

from ..client import BlockingClient, ConnectionClosed, ConnectionFailed, connect_blocking
from ..server.runner import TutorialServer, start_server
from ..wording import count
from .probe import Probe
from .selfcheck import CheckResult, NotYet, Raised, describe, run_check, run_check_async

__all__ = [
    "ANSWER_TIMEOUT",
    "CheckResult",
    "check_count_clients",
    "check_free_port",
    "check_members_only",
    "check_mini_chat",
    "check_relay",
    "check_stream_time",
    "check_upper_case",
]

# How long a check waits for an answer. A correct handler answers within
# milliseconds; this only bounds the wait for one that never answers.
ANSWER_TIMEOUT = 3.0

PATH = "/exercise"

Body = Callable[[TutorialServer, Probe], str]


def _check_handler(probe_for: Callable[[], Probe], body: Body, **settings: Any) -> CheckResult:
    """Serve the probed class at /exercise on a quiet server of its own, run ``body``, make the sentence.

    The server is quiet: an exception in the student's handler is noted by
    the probe (method and line), never a traceback in the student's cell.
    """
    probes: list[Probe] = []

    def run() -> str:
        probe = probe_for()
        probes.append(probe)
        server = start_server("127.0.0.1", 0, handlers={PATH: probe.watched}, ping_interval=None, quiet=True, **settings)
        try:
            return body(server, probe)
        finally:
            server.stop()

    def explain(failure: BaseException | None) -> str | None:
        return probes[0].explain(failure) if probes else None

    return run_check(run, explain)


def _connect(server: TutorialServer, query: str = "", headers: dict[str, str] | None = None) -> BlockingClient:
    try:
        return connect_blocking(server.ws_url(PATH) + query, timeout=ANSWER_TIMEOUT, headers=headers)
    except ConnectionFailed as error:
        raise NotYet(f"could not connect to your handler: {error.reason}", generic=True) from None


def _next_text(client: BlockingClient, after: str, skip: tuple[str, ...] = (),
               timeout: float = ANSWER_TIMEOUT) -> str | None:
    """The next text message (skipping greetings in ``skip``), None when none comes within ``timeout``."""
    while True:
        try:
            message = client.receive(timeout=timeout)
        except TimeoutError:
            return None
        except ConnectionClosed as closed:
            raise NotYet(f"the connection closed after {after} ({closed})", generic=True) from None
        if not isinstance(message, str):
            raise NotYet(f"after {after} the answer was binary ({count(len(message), 'byte')}); send text (a str)")
        if message not in skip:
            return message


def _answer(client: BlockingClient, after: str, silence: str | Callable[[], str], skip: tuple[str, ...] = (),
            timeout: float = ANSWER_TIMEOUT, quiet: Callable[[], bool] | None = None) -> str:
    """The next text message (skipping greetings in ``skip``); ``silence`` is the sentence when none comes.

    ``quiet()`` True: no answer will come (on_message returned having sent
    nothing), so the sentence comes before the whole ``timeout``.
    """
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        message = _next_text(client, after, skip, min(0.1, max(left, 0.0)) if quiet is not None else max(left, 0.0))
        if message is not None:
            return message
        if time.monotonic() >= deadline or (quiet is not None and quiet()):
            raise NotYet(silence if isinstance(silence, str) else silence(), generic=True)


def _wait_until(condition: Callable[[], bool], timeout: float = ANSWER_TIMEOUT) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


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


# -- exercise (notebook 01): shout back ------------------------------------------------------


def check_upper_case(handler_class: object) -> CheckResult:
    """Exercise "shout back": ``UpperCaseHandler`` answers every message with it in upper case.

    ``"hi"`` → ``"HI"``; one answer per message, nothing else. (A greeting
    such as ``Hello World`` on open is fine.)
    """

    def body(server: TutorialServer, probe: Probe) -> str:
        pairs: list[str] = []
        with _connect(server) as client:
            for text in ("hello websockets", "Mixed Case 123!"):
                mark = probe.mark()
                client.send(text)
                answer = _answer(
                    client,
                    f"sending {text!r}",
                    f"your on_message sent nothing back after {text!r}: answer with self.write_message(message.upper())",
                    skip=("Hello World",) if not pairs else (),
                    quiet=functools.partial(probe.silent_since, mark),
                )
                if answer != text.upper():
                    hint = " (same text: call .upper() on it)" if answer == text else ""
                    raise NotYet(f"you answered {text!r} with {answer!r}, expected {text.upper()!r}{hint}")
                pairs.append(f"{text!r} with {answer!r}")
        return f"your handler answered {' and '.join(pairs)}."

    return _check_handler(lambda: Probe(handler_class, "UpperCaseHandler"), body)


# -- exercise (notebook 04): count the clients --------------------------------------------------

_NUMBERS = re.compile(r"\d+")


def check_count_clients(handler_class: object) -> CheckResult:
    """Exercise "count the clients": ``CountClientsHandler`` answers every message with
    the number of clients connected to it right now.

    The answer is text holding that one number, e.g. ``"2"`` (words around it,
    like ``"2 clients"``, are fine). A client that left is no longer counted,
    and one that connected counts before it sends anything. Keep the
    connected handlers in a class-level set: add ``self`` in ``open``,
    remove it in ``on_close``.
    """

    def ask(client: BlockingClient, who: str) -> int:
        probe = probes[0]
        mark = probe.mark()
        client.send("how many?")
        answer = _answer(
            client,
            f"{who} sent a message",
            f"your on_message sent nothing back after {who} sent a message: answer with the number of "
            "connected clients, self.write_message(str(len(self.connected)))",
            quiet=functools.partial(probe.silent_since, mark),
        )
        numbers = _NUMBERS.findall(answer)
        if len(numbers) != 1:
            raise NotYet(f"{who} got {answer!r}: answer with the number of connected clients, e.g. '2'")
        return int(numbers[0])

    def body(server: TutorialServer, probe: Probe) -> str:
        first = _connect(server)
        try:
            seen = ask(first, "the first client")
            if seen != 1:
                raise NotYet(f"with one client connected, the answer was {seen}, expected 1")
            second = _connect(server)
            try:
                # The first asks before the second has sent anything: a set filled in
                # on_message instead of open would not count the second yet.
                seen = ask(first, "the first client")
                if seen == 1:
                    raise NotYet(
                        "with two clients connected, the first client was told 1, expected 2: add the connection "
                        "to the set in open, when it connects, not when it sends"
                    )
                if seen != 2:
                    raise NotYet(f"with two clients connected, the first client was told {seen}, expected 2")
                seen = ask(second, "the second client")
                if seen != 2:
                    raise NotYet(f"with two clients connected, the second client was told {seen}, expected 2")
            finally:
                second.close()
            # The server notices the close a moment after the client: once it has
            # (a TutorialHandler leaves the server's list when its on_close ran), ask.
            _wait_until(lambda: len(server.clients(PATH)) <= 1)
            seen = ask(first, "the first client")
            if seen != 1:
                raise NotYet(
                    f"after the second client left, the answer stayed {seen}, expected 1: "
                    "remove the handler from your set in on_close"
                )
        finally:
            first.close()
        return "your handler counted 1, then 2 with a second client, then 1 again after it left."

    probes: list[Probe] = []

    def probe_for() -> Probe:
        probes.append(Probe(handler_class, "CountClientsHandler"))
        return probes[0]

    return _check_handler(probe_for, body)


# -- exercise (notebook 04): stream the time -----------------------------------------------------

_TIME = re.compile(r"\b(\d{1,2}):(\d{2}):(\d{2})\b")


def check_stream_time(handler_class: object, interval: float = 0.1, messages: int = 3) -> CheckResult:
    """Exercise "stream the time": ``StreamTimeHandler`` sends the time every ``self.interval`` seconds.

    From ``open`` on, the handler sends the current local time as text,
    ``HH:MM:SS`` (e.g. ``"14:03:07"``, ``time.strftime("%H:%M:%S")``), every
    ``self.interval`` seconds (a class attribute, ``interval = 1.0``), and
    stops when the client leaves (``on_close``). The check sets ``interval``
    to ``0.1`` on a subclass so it is quick, and waits for ``messages``
    messages. The timer belongs to the connection (``self.timer``), never to
    the class, which every connection shares.
    """
    late: list[object] = []  # messages sent after on_close (appended in the server thread)
    sent: list[float] = []  # when the handler sent each message before on_close

    def quick(learner: type[WebSocketHandler]) -> type[WebSocketHandler]:
        class Checked(learner):  # type: ignore[valid-type,misc]
            """The student's handler with a short interval, noticing messages sent after the close."""

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
        return Checked

    def first_message(client: BlockingClient, probe: Probe) -> str:
        silence = (
            f"your handler sent nothing within {ANSWER_TIMEOUT:g} s of opening: in open, start a timer, "
            "self.timer = PeriodicCallback(self.send_time, self.interval * 1000), and call self.timer.start()"
        )
        try:
            return _answer(client, "opening", silence, quiet=probe.found_cause)
        except NotYet:
            if probe.found_cause():
                raise
            client.send("anything?")  # a stream started in on_message would start now
            try:
                _answer(client, "a message from the client", silence, timeout=1.0)
            except NotYet:
                raise NotYet(silence, generic=True) from None
            raise NotYet(
                "your handler started sending only after the client sent a message: start the timer in open, "
                "when the client connects, not in on_message"
            ) from None

    def body(server: TutorialServer, probe: Probe) -> str:
        received: list[str] = []
        with _connect(server) as client:
            for n in range(messages):
                if n == 0:
                    text = first_message(client, probe)
                else:
                    text = _answer(
                        client,
                        f"message {n} ({received[-1]!r})",
                        f"after message {n} ({received[-1]!r}) nothing more came within {ANSWER_TIMEOUT:g} s: "
                        f"send the time every self.interval seconds ({interval:g} s here) with a PeriodicCallback, "
                        "not once",
                    )
                found = _TIME.search(text)
                if not found:
                    raise NotYet(f"message {n + 1} was {text!r}: send the time as HH:MM:SS, e.g. time.strftime('%H:%M:%S')")
                hours, minutes, seconds = (int(part) for part in found.groups())
                now = time.localtime()
                difference = abs((hours * 3600 + minutes * 60 + seconds) - (now.tm_hour * 3600 + now.tm_min * 60 + now.tm_sec))
                if min(difference, 86400 - difference) > 60:
                    raise NotYet(f"message {n + 1} said {text!r} but it is {time.strftime('%H:%M:%S', now)}: send the current time")
                received.append(text)
        # Sends from the timer (after the one open() may make at once) come
        # `interval` apart; a PeriodicCallback given seconds (0.1) calls every 0.1 ms.
        gaps = [later - earlier for earlier, later in zip(sent[1:], sent[2:], strict=False)]
        if gaps and min(gaps) < interval / 4:
            raise NotYet(
                f"your handler sent messages {min(gaps) * 1000:.2g} ms apart instead of every self.interval "
                f"seconds ({interval:g} s here): PeriodicCallback counts in milliseconds, "
                "so give it self.interval * 1000"
            )
        # A fixed number of milliseconds instead of self.interval sends too slowly.
        if gaps and max(gaps) > interval * 5 + 0.3:
            raise NotYet(
                f"your handler sent messages {max(gaps):.1f} s apart instead of every self.interval "
                f"seconds ({interval:g} s here): give PeriodicCallback self.interval * 1000, not a fixed number"
            )
        # Give a stream that does not stop a few intervals to try sending to the closed connection.
        time.sleep(interval * 3)
        if late:
            raise NotYet(
                f"your handler still sent {count(len(late), 'message')} after the client left: "
                "stop the timer in on_close, self.timer.stop()"
            )
        return f"your handler sent the time {messages} times ({', '.join(received)}) and stopped when the client left."

    return _check_handler(
        lambda: Probe(
            handler_class,
            "StreamTimeHandler",
            extend=quick,
            message_hint="send the time as text, time.strftime('%H:%M:%S')",
        ),
        body,
    )


# -- exercise (notebook 06): a chat room in a few lines -------------------------------------


def check_mini_chat(handler_class: object) -> CheckResult:
    """Exercise "a mini chat" (notebook 06): ``MiniChatHandler`` sends each message to every client.

    Clients connect to ``/exercise?name=Ada``; a message ``hello`` from Ada
    reaches every connected client, Ada included, as ``"Ada: hello"``. A
    client that left gets nothing more (and sending to it raises no error).
    """
    probes: list[Probe] = []

    def probe_for() -> Probe:
        probes.append(Probe(handler_class, "MiniChatHandler"))
        return probes[0]

    def says(sender: BlockingClient, name: str, text: str, everyone: dict[str, BlockingClient]) -> None:
        probe = probes[0]
        mark = probe.mark()
        sender.send(text)
        expected = f"{name}: {text}"
        # The others first: "Bob did not receive Ada's message" is the usual mistake.
        for who, client in sorted(everyone.items(), key=lambda item: item[0] == name):
            answer = _answer(
                client,
                f"{name} sent {text!r}",
                functools.partial(_missed, who, name, sender),
                skip=("Hello World",),
                quiet=functools.partial(probe.silent_since, mark),
            )
            if answer != expected:
                hint = " (add the sender's name: self.get_argument('name') in open)" if answer == text else ""
                raise NotYet(f"{who} got {answer!r} after {name} sent {text!r}, expected {expected!r}{hint}")

    def _missed(who: str, name: str, sender: BlockingClient) -> str:
        if who == name:
            return f"{name} did not receive their own message: send it to every connection in the room, the sender's too"
        if _next_text(sender, f"{name} sent a message", skip=("Hello World",), timeout=0.5) is None:
            return (
                f"nobody received {name}'s message: in on_message, send f'{{self.nickname}}: {{message}}' "
                "to every connection in the room"
            )
        return (
            f"{who} did not receive {name}'s message: send it to every connection in the room "
            "(for client in self.room: client.write_message(...)), not only to self"
        )

    def body(server: TutorialServer, probe: Probe) -> str:
        ada = _connect(server, "?name=Ada")
        try:
            bob = _connect(server, "?name=Bob")
            try:
                says(ada, "Ada", "hello", {"Ada": ada, "Bob": bob})
                says(bob, "Bob", "hi Ada", {"Ada": ada, "Bob": bob})
            finally:
                bob.close()
            # The server notices Bob's close a moment after Bob: wait until it has
            # (a TutorialHandler leaves the server's list once its on_close ran).
            _wait_until(lambda: len(server.clients(PATH)) <= 1)
            left = "sending to a client that had left failed: remove it from the room in on_close, self.room.discard(self)"
            try:
                says(ada, "Ada", "anyone left?", {"Ada": ada})
            except NotYet:
                if _sent_to_the_departed(probes[0]):
                    raise NotYet(left) from None
                raise
            # Ada can read the answer before the server thread has finished the
            # on_message that sent it (and raised for Bob): one round trip through
            # the server's loop makes sure that call is over and noted.
            server.clients(PATH)
            if _sent_to_the_departed(probes[0]):
                raise NotYet(left)
        finally:
            ada.close()
        return "your handler sent each message to everyone as '<name>: <text>', and forgot a client that left."

    return _check_handler(probe_for, body)


def _sent_to_the_departed(probe: Probe) -> bool:
    return any(raised.kind == "WebSocketClosedError" for raised in probe.raised)


# -- exercise (notebook 09): a relay ---------------------------------------------------------------


async def check_relay(relay: object, redis_url: str) -> CheckResult:
    """Exercise "a relay" (notebook 09): ``relay(redis_url, channel, send)`` passes on what is published.

    Runs ``relay`` against a real Redis, waits until it has subscribed
    (Redis's own count of subscribers), publishes ``one``, ``two``,
    ``three``, and expects ``send`` to have been called with those three
    texts, in order. Use with ``await``; never raises.
    """
    import redis.asyncio

    channel = f"exercise:{secrets.token_hex(4)}"
    got: list[object] = []
    arrived = asyncio.Event()

    def send(text: object) -> None:
        got.append(text)
        arrived.set()

    def ended(task: asyncio.Future[Any], when: str) -> str:
        error = task.exception() if not task.cancelled() else None
        if error is None:
            return f"your relay returned {when}; it should subscribe and then keep listening (async for message in pubsub.listen())"
        raised = Raised.of(error, "relay")
        if raised.kind == "AttributeError" and ".decode" in raised.code:
            return (
                f"{raised.where()}: the first message from listen() confirms the subscription (its type is "
                "'subscribe', its data a number): pass on only messages whose type is 'message'"
            )
        return f"{raised.sentence()} ({when})"

    async def body() -> str:
        if not inspect.iscoroutinefunction(relay):
            raise NotYet("relay must be an async function: 'async def relay(redis_url, channel, send):'")
        publisher = redis.asyncio.Redis.from_url(redis_url)
        task = asyncio.ensure_future(relay(redis_url, channel, send))
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + ANSWER_TIMEOUT
            # Wait until Redis counts a subscriber on the channel: a message
            # published before that would reach nobody (pub/sub keeps nothing).
            while not dict(await publisher.pubsub_numsub(channel)).get(channel.encode()):
                if task.done():
                    raise NotYet(ended(task, "before subscribing to the channel"))
                if loop.time() > deadline:
                    raise NotYet(
                        f"nobody subscribed to the channel within {ANSWER_TIMEOUT:g} s: call await pubsub.subscribe(channel)"
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
                    raise NotYet(f"send got {describe(item)}: pass text, message['data'].decode()")
                if not isinstance(item, str):
                    raise NotYet(
                        f"send got {describe(item)}: pass only the text of messages whose type is 'message' "
                        "(message['data'].decode())"
                    )
            if got != sent:
                if task.done() and len(got) < len(sent):
                    raise NotYet(ended(task, f"after passing on {got}"))
                raise NotYet(f"published {sent}, but send got {got}: call send once per message, in order")
            if task.done():
                raise NotYet(ended(task, "after three messages"))
            return "your relay subscribed, then passed on 'one', 'two', 'three' in order, and keeps listening."
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await publisher.aclose()

    return await run_check_async(body)


# -- exercise (notebook 08): members only ---------------------------------------------------------


def check_members_only(handler_class: object) -> CheckResult:
    """Exercise "members only" (notebook 08): ``MembersOnlyHandler`` lets in logged-in users only.

    A client with the signed cookie ``wstutorial_user`` (as ``/login``
    sets it) gets ``Hello <name>``; a client without it, or with a cookie it
    wrote itself (not signed), is refused with HTTP 401 before the upgrade.
    """
    from tornado.web import create_signed_value

    secret = secrets.token_hex(32)
    signed = create_signed_value(secret, "wstutorial_user", "ada").decode()

    def attempt(server: TutorialServer, cookie: str | None) -> str:
        """The greeting, 'refused <status>', or 'let in, then closed'."""
        headers = {"Cookie": f"wstutorial_user={cookie}"} if cookie else {}
        try:
            client = connect_blocking(server.ws_url(PATH), timeout=ANSWER_TIMEOUT, headers=headers)
        except ConnectionFailed as error:
            return f"refused {error.status or error.reason}"
        try:
            return str(client.receive(timeout=ANSWER_TIMEOUT))
        except ConnectionClosed:
            return "let in, then closed"
        except TimeoutError:
            return "let in, and nothing said"
        finally:
            client.close()

    def body(server: TutorialServer, probe: Probe) -> str:
        greeting = attempt(server, signed)
        if greeting.startswith("refused"):
            raise NotYet(f"a logged-in client (a valid signed cookie for ada) was {greeting}: let it in")
        if greeting == "Hello b'ada'":
            raise NotYet("the name came as bytes (Hello b'ada'): return get_signed_cookie(...).decode()")
        if greeting.startswith("Hello 2|"):
            raise NotYet(
                "a logged-in ada was greeted with the signed cookie's raw text: read it with "
                "self.get_signed_cookie('wstutorial_user'), which checks the signature and gives the name"
            )
        if greeting != "Hello ada":
            raise NotYet(
                f"a logged-in ada got {describe(greeting)}, expected 'Hello ada': get_current_user should return "
                "self.get_signed_cookie('wstutorial_user') as text",
                generic=not greeting.startswith("Hello"),
            )
        anonymous = attempt(server, None)
        if anonymous == "let in, then closed":
            raise NotYet(
                "a client without a login got through the upgrade and was closed only then: refuse it before the "
                "upgrade, in prepare(): raise HTTPError(401) when self.current_user is None"
            )
        if not anonymous.startswith("refused"):
            raise NotYet(
                f"a client without a login got in (it received {describe(anonymous)}): in prepare(), "
                "raise HTTPError(401) when self.current_user is None"
            )
        if anonymous != "refused 401":
            raise NotYet(f"a client without a login was {anonymous}; refuse it with 401 (raise HTTPError(401))")
        forged = attempt(server, "ada")
        if not forged.startswith("refused"):
            raise NotYet(
                "a cookie the client wrote itself (wstutorial_user=ada, not signed) got in: read it with "
                "get_signed_cookie, which checks the signature, not get_cookie"
            )
        return "ada got 'Hello ada'; no login and a forged cookie were refused with 401 before the upgrade."

    return _check_handler(
        lambda: Probe(handler_class, "MembersOnlyHandler"), body, tornado_settings={"cookie_secret": secret}
    )

