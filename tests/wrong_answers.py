"""The table of wrong answers: for each exercise, the untouched starting point and the usual mistakes, with the sentence each gets.

Data, read by ``tests/test_wrong_answers.py`` (which runs every row against
its check, for real) and by the browser journey (``tests/browser/test_journey.py``,
which types some of them into JupyterLab). ``code`` is the student's cell as
typed below its first line, ``# %load exercises/<name>.py``, which the
notebook's cell keeps (so a line number in a sentence counts it, as the
student sees it); None: the exercise file as it comes, the untouched
starting point. In ``says``, ``…`` stands for text that differs from run to
run (a port, a time). A page exercise's rows (notebook 03) are pages, run
in Chromium by ``tests/browser/test_page_exercises.py``.
"""

from __future__ import annotations

import dataclasses
import re

from helpers import ROOT

NOTEBOOKS = ROOT / "notebooks"

__all__ = ["Answer", "ANSWERS", "EXERCISES", "PAGE_ANSWERS", "pattern", "starting_point"]


@dataclasses.dataclass(frozen=True)
class Answer:
    """One answer to one exercise and the check's sentence for it."""

    exercise: str  # the exercise's file in notebooks/exercises/, without .py / .html
    kind: str  # what the student got wrong, in a few words
    code: str | None  # the cell (or page) as the student left it; None: the untouched starting point
    says: str  # the whole sentence the check shows; … stands for text that varies

    @property
    def id(self) -> str:
        return f"{self.exercise}: {self.kind}"


def starting_point(exercise: str, suffix: str = ".py") -> str:
    return (NOTEBOOKS / "exercises" / f"{exercise}{suffix}").read_text(encoding="utf-8")


def pattern(says: str) -> re.Pattern[str]:
    """``says`` as a regular expression: literal text, with … matching any text."""
    return re.compile(".*?".join(re.escape(part) for part in says.split("…")), re.DOTALL)


def _replace(exercise: str, old: str, new: str, suffix: str = ".py") -> str:
    """The starting point with one part of it changed, as a student types over it."""
    text = starting_point(exercise, suffix)
    assert old in text, f"{old!r} is not in exercises/{exercise}{suffix}"
    return text.replace(old, new, 1)


HANDLER = "from wstutorial import TutorialHandler\n\n\n"

# -- 00: a second server ------------------------------------------------------------------------

FREE_PORT = [
    Answer("free_port", "untouched", None,
           "Not yet: extra is still ..., the starting point: start the second server, extra = wstutorial.start_server(port=0)"),
    Answer("free_port", "the console's port (8888 in class)",
           "import wstutorial\n\nextra = wstutorial.start_server(port={console_port})\nprint(extra.page_url('hello.html'))\nextra.stop()\n",
           "Not yet: your server asked for port …, the console's, and so stopped the console's server (start_server stops "
           "a server this notebook runs on the port it asks for; without a port it asks for that same default one): "
           "write port=0, run the console's cell in section 2 again, then your cell"),
    Answer("free_port", "no port at all",
           "import wstutorial\n\nextra = wstutorial.start_server()\nextra.stop()\n",
           "Not yet: your server asked for port …, the console's, and so stopped the console's server (start_server stops "
           "a server this notebook runs on the port it asks for; without a port it asks for that same default one): "
           "write port=0, run the console's cell in section 2 again, then your cell"),
    Answer("free_port", "never stopped",
           "import wstutorial\n\nextra = wstutorial.start_server(port=0)\nprint(extra.page_url('hello.html'))\n",
           "Not yet: your second server still runs on port …: stop it, extra.stop()"),
    Answer("free_port", "start_server not called",
           "import wstutorial\n\nextra = wstutorial.start_server\n",
           "Not yet: extra is the function start_server itself: call it, extra = wstutorial.start_server(port=0)"),
    Answer("free_port", "kept what stop() returns",
           "import wstutorial\n\nextra = wstutorial.start_server(port=0).stop()\n",
           "Not yet: extra is the number 0, not a server: keep what start_server(port=0) returns in extra, then stop it "
           "on a line of its own, extra.stop()"),
    Answer("free_port", "a port of its own choosing",
           "import wstutorial\n\nextra = wstutorial.start_server(port={fixed_port})\nextra.stop()\n",
           "Not yet: you chose port … yourself: write port=0, and the system picks a port that is surely free"),
]

# -- 01: shout back -------------------------------------------------------------------------------

UPPER_CASE = [
    Answer("upper_case", "untouched", None,
           "Not yet: your on_message sent nothing back after 'hello websockets': answer with "
           "self.write_message(message.upper())"),
    Answer("upper_case", "returns the answer instead of sending it",
           _replace("upper_case", "...  # your code here: self.write_message(...)", "return message.upper()"),
           "Not yet: your on_message returned the answer ('HELLO WEBSOCKETS') instead of sending it: use self.write_message(...)"),
    Answer("upper_case", "sends the text back unchanged",
           _replace("upper_case", "...  # your code here: self.write_message(...)", "self.write_message(message)"),
           "Not yet: you answered 'hello websockets' with 'hello websockets', expected 'HELLO WEBSOCKETS' (same text: "
           "call .upper() on it)"),
    Answer("upper_case", "upper without ()",
           _replace("upper_case", "...  # your code here: self.write_message(...)", "self.write_message(message.upper)"),
           "Not yet: write_message got the method upper itself, not its result: call it, with () (e.g. message.upper())"),
    Answer("upper_case", "the right code in a method Tornado never calls",
           _replace("upper_case", "def on_message(self, message):\n        ...  # your code here: self.write_message(...)",
                    "def on_mesage(self, message):\n        self.write_message(message.upper())"),
           "Not yet: Tornado never calls a method named on_mesage: name it on_message"),
    Answer("upper_case", "a typo in a name",
           _replace("upper_case", "...  # your code here: self.write_message(...)", "self.write_message(message.uper())"),
           "Not yet: your on_message stopped with AttributeError at line 9 (self.write_message(message.uper())): a name "
           "after a dot on that line does not exist (a typo, or an attribute never set)"),
]

# -- 02: ask the echo server ------------------------------------------------------------------------

_ECHO = "import wstutorial\n\n\nasync def ask(url: str, text: str) -> str:\n"

ECHO_ROUNDTRIP = [
    Answer("echo_roundtrip", "untouched", None,
           "Not yet: ask(url, 'is anybody there?') returned None, expected the echo 'is anybody there?': connect, send "
           "the text, then return await client.receive()"),
    Answer("echo_roundtrip", "no await before connect",
           _ECHO + "    client = wstutorial.connect(url)\n    await client.send(text)\n    answer = await client.receive()\n"
           "    await client.close()\n    return answer\n",
           "Not yet: you called wstutorial.connect(...) without await, so it never ran: write await wstutorial.connect(...)"),
    Answer("echo_roundtrip", "no await before receive",
           _ECHO + "    async with await wstutorial.connect(url) as client:\n        await client.send(text)\n"
           "        return client.receive()\n",
           "Not yet: you called client.receive(...) without await, so it never ran: write await client.receive(...)"),
    Answer("echo_roundtrip", "a close code that may not be sent (1005)",
           _ECHO + "    client = await wstutorial.connect(url)\n    await client.send(text)\n    answer = await client.receive()\n"
           "    await client.close(1005)\n    return answer\n",
           "Not yet: ask(url, 'is anybody there?') closed with code 1005, which no endpoint may send (it only stands for "
           "'the close frame had no code'): close with 1000, normal closure: await client.close() (its default)"),
    Answer("echo_roundtrip", "a close code that says something went wrong (1011)",
           _ECHO + "    client = await wstutorial.connect(url)\n    await client.send(text)\n    answer = await client.receive()\n"
           "    await client.close(1011)\n    return answer\n",
           "Not yet: ask(url, 'is anybody there?') closed with 1011 (the server hit an unexpected error), but nothing "
           "went wrong: close with 1000, normal closure: await client.close() (its default)"),
    Answer("echo_roundtrip", "never closes",
           _ECHO + "    client = await wstutorial.connect(url)\n    await client.send(text)\n    return await client.receive()\n",
           "Not yet: ask(url, 'is anybody there?') returned the echo but left its connection open: close it (async with "
           "await wstutorial.connect(url) as client: ..., or await client.close())"),
]

# -- 03: which origins get in? ------------------------------------------------------------------------

_ORIGIN = "import wstutorial\n\n\nasync def origin_accepted(url: str, origin: str) -> bool:\n"

ORIGIN_ACCEPTED = [
    Answer("origin_accepted", "untouched", None,
           "Not yet: for an allowed origin (http://localhost:8889) your function returned None, expected True: return "
           "True once wstutorial.connect(url, origin=origin) succeeds (and close the client)"),
    Answer("origin_accepted", "False for every failure",
           _ORIGIN + "    try:\n        client = await wstutorial.connect(url, origin=origin)\n"
           "    except wstutorial.ConnectionFailed:\n        return False\n    await client.close()\n    return True\n",
           "Not yet: for a port where nothing listens your function returned False: that is not a refusal of the origin "
           "(no 403 came). Return False only when error.status == 403 and raise the other failures again"),
    Answer("origin_accepted", "the origin never sent",
           _ORIGIN + "    try:\n        client = await wstutorial.connect(url)\n    except wstutorial.ConnectionFailed as error:\n"
           "        if error.status == 403:\n            return False\n        raise\n    await client.close()\n    return True\n",
           "Not yet: for an origin the server refuses with 403 (http://evil.example) your function returned True, expected "
           "False: the server let your connection in, so it did not come with that origin: connect with "
           "wstutorial.connect(url, origin=origin), and return False when the ConnectionFailed has status 403"),
    Answer("origin_accepted", "no await before connect",
           _ORIGIN + "    try:\n        async with wstutorial.connect(url, origin=origin):\n            return True\n"
           "    except wstutorial.ConnectionFailed as error:\n        if error.status == 403:\n            return False\n        raise\n",
           "Not yet: you called wstutorial.connect(...) without await, so it never ran: write await wstutorial.connect(...)"),
    Answer("origin_accepted", "the status compared with text",
           _ORIGIN + "    try:\n        client = await wstutorial.connect(url, origin=origin)\n    except wstutorial.ConnectionFailed as error:\n"
           "        if error.status == '403':\n            return False\n        raise\n    await client.close()\n    return True\n",
           "Not yet: origin_accepted(url, 'http://evil.example') (an origin the server refuses with 403) let the 403 "
           "through: a refusal is the answer False (compare error.status with the number 403)"),
    Answer("origin_accepted", "never closes",
           _ORIGIN + "    try:\n        await wstutorial.connect(url, origin=origin)\n    except wstutorial.ConnectionFailed as error:\n"
           "        if error.status == 403:\n            return False\n        raise\n    return True\n",
           "Not yet: for an allowed origin your function returned True but left its connection open: close the client "
           "before returning, await client.close()"),
]

# -- 04: stream the time ----------------------------------------------------------------------------

_STREAM_OPEN = "...  # your code here: start a PeriodicCallback(self.send_time, self.interval * 1000)"
_STREAM_SEND = '...  # your code here: self.write_message(time.strftime("%H:%M:%S"))'
_STREAM_CLOSE = "...  # your code here: stop the PeriodicCallback"


def _stream(open_: str, send: str = 'self.write_message(time.strftime("%H:%M:%S"))',
            close: str = "self.timer.stop()") -> str:
    text = _replace("stream_time", _STREAM_OPEN, open_)
    return text.replace(_STREAM_SEND, send).replace(_STREAM_CLOSE, close)


_TIMER = "self.timer = PeriodicCallback(self.send_time, self.interval * 1000)\n        self.timer.start()"

STREAM_TIME = [
    Answer("stream_time", "untouched", None,
           "Not yet: your handler sent nothing within 3 s of opening: in open, start a timer, self.timer = "
           "PeriodicCallback(self.send_time, self.interval * 1000), and call self.timer.start()"),
    Answer("stream_time", "seconds given where milliseconds are wanted",
           _stream("self.timer = PeriodicCallback(self.send_time, self.interval)\n        self.timer.start()"),
           "Not yet: your handler sent messages … ms apart instead of every self.interval seconds (0.1 s here): "
           "PeriodicCallback counts in milliseconds, so give it self.interval * 1000"),
    Answer("stream_time", "a fixed 1000 ms instead of self.interval",
           _stream("self.timer = PeriodicCallback(self.send_time, 1000)\n        self.timer.start()"),
           "Not yet: your handler sent messages 1.0 s apart instead of every self.interval seconds (0.1 s here): give "
           "PeriodicCallback self.interval * 1000, not a fixed number"),
    Answer("stream_time", "the timer never started",
           _stream("self.timer = PeriodicCallback(self.send_time, self.interval * 1000)"),
           "Not yet: your handler sent nothing within 3 s of opening: in open, start a timer, self.timer = "
           "PeriodicCallback(self.send_time, self.interval * 1000), and call self.timer.start()"),
    Answer("stream_time", "never stops",
           _stream(_TIMER, close="pass"),
           "Not yet: your handler still sent … after the client left: stop the timer in on_close, self.timer.stop()"),
    Answer("stream_time", "the timer kept on the class",
           _stream("StreamTimeHandler.timer = PeriodicCallback(self.send_time, self.interval * 1000)\n"
                   "        StreamTimeHandler.timer.start()", close="StreamTimeHandler.timer.stop()"),
           "Not yet: StreamTimeHandler.timer was set on the class, so every connection shares one (a PeriodicCallback "
           "object): keep it on the connection, self.timer = ..."),
    Answer("stream_time", "a number where text is wanted",
           _stream(_TIMER, send="self.write_message(time.time())"),
           "Not yet: write_message got the number …, not text: send the time as text, time.strftime('%H:%M:%S')"),
    Answer("stream_time", "started in on_message instead of open",
           _stream("pass").replace("    def send_time(self):",
                                   "    def on_message(self, message):\n        " + _TIMER + "\n\n    def send_time(self):"),
           "Not yet: your handler started sending only after the client sent a message: start the timer in open, when "
           "the client connects, not in on_message"),
]

# -- 04: count the clients ------------------------------------------------------------------------------

_COUNT_OPEN = "...  # your code here: remember this connection"
_COUNT_MESSAGE = "...  # your code here: answer with the count, as text"
_COUNT_CLOSE = "...  # your code here: forget this connection"


def _count(open_: str = "self.connected.add(self)", message: str = "self.write_message(str(len(self.connected)))",
           close: str = "self.connected.discard(self)") -> str:
    text = starting_point("count_clients")
    return text.replace(_COUNT_OPEN, open_).replace(_COUNT_MESSAGE, message).replace(_COUNT_CLOSE, close)


COUNT_CLIENTS = [
    Answer("count_clients", "untouched", None,
           "Not yet: your on_message sent nothing back after the first client sent a message: answer with the number "
           "of connected clients, self.write_message(str(len(self.connected)))"),
    Answer("count_clients", "a number where text is wanted",
           _count(message="self.write_message(len(self.connected))"),
           "Not yet: write_message got the number 1, not text: a message is text, send str(...) of it"),
    Answer("count_clients", "the set kept on the instance",
           _count(open_="self.connected = set()\n        self.connected.add(self)"),
           "Not yet: your CountClientsHandler gives each connection a set of its own (self.connected = ...), so no "
           "connection sees the others: use the class's one set, self.connected, without assigning to it"),
    Answer("count_clients", "never forgets a client",
           _count(close="pass"),
           "Not yet: after the second client left, the answer stayed 2, expected 1: remove the handler from your set in on_close"),
    Answer("count_clients", "added in on_message instead of open",
           _count(open_="pass", message="self.connected.add(self)\n        self.write_message(str(len(self.connected)))"),
           "Not yet: with two clients connected, the first client was told 1, expected 2: add the connection to the set "
           "in open, when it connects, not when it sends"),
]

# -- 05: ping by hand ---------------------------------------------------------------------------------

_PING_BODY = "...  # your code here: encode_frame(..., \"ping\", mask=...), then read_frame until a pong"
_READ_PONG = ("    while True:\n        frame = handshake.read_frame(sock)\n        if frame.opcode == \"pong\":\n"
              "            return frame.payload")


def _ping(body: str) -> str:
    return _replace("ping_pong", "    " + _PING_BODY, body)


PING_PONG = [
    Answer("ping_pong", "untouched", None,
           "Not yet: ping(sock, b'are you there?') returned None, expected the pong's payload b'are you there?': read "
           "frames with handshake.read_frame(sock) until one has opcode 'pong', return its payload"),
    Answer("ping_pong", "no mask",
           _ping("    sock.sendall(handshake.encode_frame(payload, \"ping\"))\n" + _READ_PONG),
           "Not yet: the server closed the connection with 1002 (protocol error) after your frame: your frame was not "
           "masked, and a client must mask every frame it sends: encode_frame(payload, 'ping', mask=os.urandom(4))"),
    Answer("ping_pong", "returns the frame, not its payload",
           _ping("    sock.sendall(handshake.encode_frame(payload, \"ping\", mask=os.urandom(4)))\n"
                 "    while True:\n        frame = handshake.read_frame(sock)\n        if frame.opcode == \"pong\":\n"
                 "            return frame"),
           "Not yet: ping(sock, b'are you there?') returned the whole frame: return its payload, frame.payload"),
    Answer("ping_pong", "returns the first frame's payload, whatever it is",
           _ping("    sock.sendall(handshake.encode_frame(payload, \"ping\", mask=os.urandom(4)))\n"
                 "    return handshake.read_frame(sock).payload"),
           "Not yet: ping(sock, b'are you there?') returned b'Hello World', the payload of the server's greeting (a "
           "text frame): read frames until one has opcode 'pong', and return its payload"),
    Answer("ping_pong", "sends a pong instead of a ping",
           _ping("    sock.sendall(handshake.encode_frame(payload, \"pong\", mask=os.urandom(4)))\n" + _READ_PONG),
           "Not yet: no pong came within 3 s: send a ping frame first, sock.sendall(handshake.encode_frame(payload, "
           "'ping', mask=os.urandom(4)))"),
]

# -- 06: a mini chat -------------------------------------------------------------------------------------

_CHAT_OPEN = "...  # your code here: remember the name, and this connection"
_CHAT_MESSAGE = '...  # your code here: send "<name>: <message>" to every connection in the room'
_CHAT_CLOSE = "...  # your code here: forget this connection"


def _chat(open_: str = 'self.nickname = self.get_argument("name")\n        self.room.add(self)',
          message: str = 'for client in self.room:\n            client.write_message(f"{self.nickname}: {message}")',
          close: str = "self.room.discard(self)") -> str:
    text = starting_point("mini_chat")
    return text.replace(_CHAT_OPEN, open_).replace(_CHAT_MESSAGE, message).replace(_CHAT_CLOSE, close)


MINI_CHAT = [
    Answer("mini_chat", "untouched", None,
           "Not yet: nobody received Ada's message: in on_message, send f'{self.nickname}: {message}' to every "
           "connection in the room"),
    Answer("mini_chat", "sends only to the sender",
           _chat(message='self.write_message(f"{self.nickname}: {message}")'),
           "Not yet: Bob did not receive Ada's message: send it to every connection in the room (for client in "
           "self.room: client.write_message(...)), not only to self"),
    Answer("mini_chat", "without the sender's name",
           _chat(message="for client in self.room:\n            client.write_message(message)"),
           "Not yet: Bob got 'hello' after Ada sent 'hello', expected 'Ada: hello' (add the sender's name: "
           "self.get_argument('name') in open)"),
    Answer("mini_chat", "the room kept on the instance",
           _chat(open_='self.nickname = self.get_argument("name")\n        self.room = set()\n        self.room.add(self)'),
           "Not yet: your MiniChatHandler gives each connection a set of its own (self.room = ...), so no connection "
           "sees the others: use the class's one set, self.room, without assigning to it"),
    Answer("mini_chat", "the name kept on the class",
           _chat(open_='MiniChatHandler.nickname = self.get_argument("name")\n        self.room.add(self)'),
           "Not yet: MiniChatHandler.nickname was set on the class, so every connection shares one ('Bob'): keep it on "
           "the connection, self.nickname = ..."),
    Answer("mini_chat", "never forgets a client",
           _chat(close="pass"),
           "Not yet: sending to a client that had left failed: remove it from the room in on_close, self.room.discard(self)"),
]

# -- 07: add a message type ----------------------------------------------------------------------------

_ADD_FIELDS = "fields = {**JsonHandler.fields}  # your code here: add the \"add\" type and its field"
_ADD_METHOD = "...  # your code here: check every item, return the \"sum\" reply"


def _add(fields: str = 'fields = {**JsonHandler.fields, "add": {"numbers": list}}', method: str | None = None) -> str:
    text = _replace("add_type", _ADD_FIELDS, fields)
    return text.replace(_ADD_METHOD, method) if method is not None else text


ADD_TYPE = [
    Answer("add_type", "untouched", None,
           'Not yet: AddHandler.fields has no "add" type yet: add "add": {"numbers": list} to it'),
    Answer("add_type", "the other types dropped",
           _add(fields='fields = {"add": {"numbers": list}}'),
           "Not yet: AddHandler.fields lost the types count, echo, ping: keep them with fields = "
           '{**JsonHandler.fields, "add": ...}'),
    Answer("add_type", "no handle_add",
           _add().replace("    def handle_add(self, message):\n        " + _ADD_METHOD + "\n", ""),
           'Not yet: AddHandler has no handle_add method: the server calls handle_add for each "add" message'),
    Answer("add_type", "items not checked",
           _add(method='return {"type": "sum", "value": sum(message["numbers"])}'),
           'Not yet: [1, "two"] made handle_add fail with an exception instead of a clear error: raise '
           'ProtocolError("...") in handle_add for an item that is not a number'),
    Answer("add_type", "true counted as a number",
           _add(method='if not all(isinstance(item, (int, float)) for item in message["numbers"]):\n'
                       '            raise ProtocolError("numbers only")\n'
                       '        return {"type": "sum", "value": sum(message["numbers"])}'),
           'Not yet: [true] was answered with {"type": "sum", "value": 1}: true is not a number in JSON; raise '
           'ProtocolError("...") in handle_add for an item that is not a number'),
    Answer("add_type", "a number returned instead of a reply",
           _add(method='return sum(message["numbers"])'),
           'Not yet: handle_add returned the number 6.5, not a reply: return a dict, e.g. {"type": "sum", "value": 6.5}'),
]

# -- 07: exponential backoff with jitter ------------------------------------------------------------------

_DELAY = "...  # your code here"


def _delay(body: str) -> str:
    return _replace("backoff_delay", "    " + _DELAY, body)


BACKOFF_DELAY = [
    Answer("backoff_delay", "untouched", None,
           "Not yet: delay returned None: return the number of seconds to wait"),
    Answer("backoff_delay", "no jitter",
           _delay("    return min(maximum, initial * 2 ** (attempt - 1))"),
           "Not yet: delay(1, 1, 30) returned 1 every time: add jitter, e.g. random.uniform(0, cap), so clients spread out"),
    Answer("backoff_delay", "no maximum",
           _delay("    return random.uniform(0, initial * 2 ** (attempt - 1))"),
           "Not yet: delay(10, 1, 30) returned …, outside 0 to 30 (= min(maximum, initial * 2 ** (attempt - 1)))"),
    Answer("backoff_delay", "counted from 0, not 1",
           _delay("    return random.uniform(0, min(maximum, initial * 2 ** attempt))"),
           "Not yet: delay(1, 1, 30) returned …, outside 0 to 1 (= min(maximum, initial * 2 ** (attempt - 1)))"),
    Answer("backoff_delay", "milliseconds, not seconds",
           _delay("    return random.uniform(0, min(maximum, initial * 2 ** (attempt - 1))) * 1000"),
           "Not yet: delay(1, 1, 30) returned …, outside 0 to 1 (= min(maximum, initial * 2 ** (attempt - 1))): count "
           "in seconds, not milliseconds"),
    Answer("backoff_delay", "too few arguments",
           "import random\n\n\ndef delay(attempt):\n    return random.uniform(0, 2 ** (attempt - 1))\n",
           "Not yet: delay must take three arguments: def delay(attempt, initial, maximum):"),
]

# -- 08: members only ------------------------------------------------------------------------------------------

_USER = "...  # your code here: the name from the signed cookie, as text, or None"
_REFUSE = "...  # your code here: no current user? raise HTTPError(401) (before the upgrade)"


def _members(user: str = 'name = self.get_signed_cookie("wstutorial_user")\n        return name.decode() if name is not None else None',
             refuse: str = "if self.current_user is None:\n            raise HTTPError(401)") -> str:
    text = starting_point("members_only")
    return text.replace(_USER, user).replace(_REFUSE, refuse)


MEMBERS_ONLY = [
    Answer("members_only", "untouched", None,
           "Not yet: a logged-in ada got 'Hello None', expected 'Hello ada': get_current_user should return "
           "self.get_signed_cookie('wstutorial_user') as text"),
    Answer("members_only", "the name left as bytes",
           _members(user='return self.get_signed_cookie("wstutorial_user")'),
           "Not yet: the name came as bytes (Hello b'ada'): return get_signed_cookie(...).decode()"),
    Answer("members_only", "get_cookie, which checks no signature",
           _members(user='return self.get_cookie("wstutorial_user")'),
           "Not yet: a logged-in ada was greeted with the signed cookie's raw text: read it with "
           "self.get_signed_cookie('wstutorial_user'), which checks the signature and gives the name"),
    Answer("members_only", "refused with 403",
           _members(refuse="if self.current_user is None:\n            raise HTTPError(403)"),
           "Not yet: a client without a login was refused 403; refuse it with 401 (raise HTTPError(401))"),
    Answer("members_only", "refused in open, after the upgrade",
           _members(refuse="pass").replace(
               '    def open(self):\n        self.write_message(f"Hello {self.current_user}")',
               '    def open(self):\n        if self.current_user is None:\n            self.close(4001, "log in first")\n'
               '            return\n        self.write_message(f"Hello {self.current_user}")'),
           "Not yet: a client without a login got through the upgrade and was closed only then: refuse it before the "
           "upgrade, in prepare(): raise HTTPError(401) when self.current_user is None"),
]

# -- 09: a relay ------------------------------------------------------------------------------------------------

_RELAY_SUBSCRIBE = "...  # your code here: subscribe to the channel"
_RELAY_PASS = '...  # your code here: for each message of type "message", send its data as text'


def _relay(subscribe: str = "await pubsub.subscribe(channel)",
           passing: str = 'async for message in pubsub.listen():\n        if message["type"] == "message":\n'
                          '            send(message["data"].decode())') -> str:
    text = starting_point("relay")
    return text.replace(_RELAY_SUBSCRIBE, subscribe).replace(_RELAY_PASS, passing)


RELAY = [
    Answer("relay", "untouched", None,
           "Not yet: your relay returned before subscribing to the channel; it should subscribe and then keep listening "
           "(async for message in pubsub.listen())"),
    Answer("relay", "no await before subscribe",
           _relay(subscribe="pubsub.subscribe(channel)"),
           "Not yet: you called pubsub.subscribe(...) without await, so it never ran: write await pubsub.subscribe(...)"),
    Answer("relay", "bytes passed on, not text",
           _relay(passing='async for message in pubsub.listen():\n        if message["type"] == "message":\n'
                          '            send(message["data"])'),
           "Not yet: send got bytes b'one': pass text, message['data'].decode()"),
    Answer("relay", "every message passed on, the subscription's confirmation too",
           _relay(passing='async for message in pubsub.listen():\n        send(message["data"].decode())'),
           "Not yet: your relay stopped with AttributeError at line 11 (send(message[\"data\"].decode())): the first "
           "message from listen() confirms the subscription (its type is 'subscribe', its data a number): pass on only "
           "messages whose type is 'message'"),
    Answer("relay", "returns after the first message",
           _relay(passing='async for message in pubsub.listen():\n        if message["type"] == "message":\n'
                          '            send(message["data"].decode())\n            return'),
           "Not yet: your relay returned after passing on ['one']; it should subscribe and then keep listening (async "
           "for message in pubsub.listen())"),
]

ANSWERS: list[Answer] = [
    *FREE_PORT, *UPPER_CASE, *ECHO_ROUNDTRIP, *ORIGIN_ACCEPTED, *STREAM_TIME, *COUNT_CLIENTS, *PING_PONG,
    *MINI_CHAT, *ADD_TYPE, *BACKOFF_DELAY, *MEMBERS_ONLY, *RELAY,
]

# -- 03: the student's pages (run in Chromium by tests/browser/test_page_exercises.py) -------------------------

_OPEN_LISTENER = '  // Exercise: send "hello from my page" to the server here, with ws.send(...).'
_CLOSE_LISTENER = """    // Exercise (2): try again with setTimeout(connect, delay): wait 0.5 s after
    // the first failure, double the delay after each further one (at most 8 s),
    // and start again from 0.5 s once a connection opens."""


def _page(exercise: str, old: str, new: str) -> str:
    return _replace(exercise, old, new, suffix=".html")


def _retry(close: str, open_: str = "") -> str:
    text = _page("reconnect", _CLOSE_LISTENER, close)
    text = text.replace("function connect() {", "let delay = 500;\n\nfunction connect() {")
    return text.replace('    statusLine.textContent = "open";', '    statusLine.textContent = "open";' + open_)


PAGE_ANSWERS: list[Answer] = [
    Answer("send_on_open", "untouched", None,
           'Not yet: your page connected but sent nothing within 5 s: call ws.send("hello from my page") in the open '
           "event's listener"),
    Answer("send_on_open", "sends before the socket is open",
           _page("send_on_open", "const ws = new WebSocket(url);\n",
                 'const ws = new WebSocket(url);\nws.send("hello from my page");\n'),
           'Not yet: your page\'s script stopped at line 27 (ws.send("hello from my page");) with InvalidStateError: '
           "it called ws.send(...) while the socket was still connecting: send in the open event's listener"),
    Answer("send_on_open", "the wrong text",
           _page("send_on_open", _OPEN_LISTENER, '  ws.send("hello");'),
           "Not yet: your page sent 'hello', expected 'hello from my page': send exactly that text"),
    Answer("send_on_open", "sends in the message listener, not on open",
           _page("send_on_open", 'ws.addEventListener("message", (event) => log("received: " + event.data));',
                 'ws.addEventListener("message", (event) => {\n  log("received: " + event.data);\n'
                 '  ws.send("hello from my page");\n});'),
           "Not yet: your page sent only after the server's first message came (in the message listener): send in the "
           "open event's listener, as soon as the socket opens"),
    Answer("send_on_open", "a typo in send",
           _page("send_on_open", _OPEN_LISTENER, '  ws.sned("hello from my page");'),
           'Not yet: your page\'s script stopped at line 30 (ws.sned("hello from my page");) with TypeError: a value '
           "there is not what the code expects (calling something that is not a function?)"),
    Answer("reconnect", "untouched", None,
           "Not yet: after the server went away your page never tried again: in the close event's listener, call "
           "setTimeout(connect, delay)"),
    Answer("reconnect", "tries again at once",
           _page("reconnect", _CLOSE_LISTENER, "    connect();"),
           "Not yet: your page tried … times in 5 s: wait before each new try (0.5 s, then twice as long after each "
           "failure)"),
    Answer("reconnect", "always the same delay",
           _page("reconnect", _CLOSE_LISTENER, "    setTimeout(connect, 1000);"),
           "Not yet: your page waited … between tries: double the delay after each failure (exponential backoff), so "
           "a server that restarts is not flooded by its clients"),
    Answer("reconnect", "the delay never set back on open",
           _retry("    setTimeout(connect, delay);\n    delay = Math.min(delay * 2, 8000);"),
           "Not yet: your page reconnected, but when the server went away once more it did not try again within 2 s: "
           "set the delay back to 0.5 s in the open event's listener, once a connection opens"),
]

EXERCISES = sorted({answer.exercise for answer in ANSWERS})
