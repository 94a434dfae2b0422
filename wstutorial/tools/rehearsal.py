"""A rehearsal before class: simulated students against the teacher's running classroom server.

``python -m wstutorial rehearse --students 30 --host 192.168.1.5 --port 8888``
runs this: each simulated student joins the chat under a name of its own
(``Ada-sim``, ``Alan-sim``, ...), connects to ``/ws`` and ``/streaming`` like
notebooks 02 and 04, says a line or two, and sends self-check results
(some "not yet" first, then passed) over ``duration`` seconds. The teacher
watches the teacher page fill: the progress board, the connection lists, the
chat. Each student stays within the room's rate limit. The room limits joins
per address (10 at once, then one every 2 s; not from the teacher's own
machine), and all of a rehearsal's students come from one machine: run from
another machine, a refused join is tried again after a pause, so thirty
students are all in after about 40 seconds.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import urllib.parse

from ..address import ws_url
from ..client import Client, ConnectionClosed, ConnectionFailed, connect
from ..student.chat import ChatState

__all__ = ["Rehearsal", "rehearse", "student_names", "EXERCISES"]

FIRST_NAMES = (
    "Ada", "Alan", "Grace", "Linus", "Barbara", "Ken", "Margaret", "Dennis", "Frances", "Edsger",
    "Katherine", "Tim", "Radia", "Guido", "Hedy", "Donald", "Annie", "John", "Sophie", "Vint",
    "Karen", "Niklaus", "Adele", "Bjarne", "Jean", "Leslie", "Mary", "Ward", "Shafi", "Whitfield",
)  # fmt: skip

# The tutorial's exercises (named as the board names them: check_<exercise>) in lesson order, with a typical first mistake and the passing sentence.
EXERCISES = (
    ("upper_case", "you answered 'hello websockets' with 'hello websockets', expected 'HELLO WEBSOCKETS' (same text: call .upper() on it)",
     "your handler answered 'hello websockets' with 'HELLO WEBSOCKETS'."),
    ("echo", "no answer within 3 s after sending 'hello': await client.receive() after send",
     "your ask() sent 'hello' and returned the echo 'hello'."),
    ("origin_accepted", "the page's origin was refused (403): add it to allowed_origins",
     "the page connected from its own origin."),
    ("count_clients", "after the second client left, the answer stayed 2, expected 1: remove the handler from your set in on_close",
     "your handler counted 1, then 2 with a second client, then 1 again after it left."),
    ("stream_time", "your handler still sent 3 message(s) after the client left: stop the timer or loop in on_close",
     "your handler sent the time 3 times and stopped when the client left."),
    ("mini_chat", "Bob got 'hello' after Ada sent 'hello', expected 'Ada: hello' (add the sender's name)",
     "your handler sent each message to everyone as '<name>: <text>', and forgot a client that left."),
)  # fmt: skip

# Pauses between a student's messages, in seconds: well under the room's 2 a second.
MIN_PAUSE = 0.6
# Seconds per student that a refused join (the room's per-address limit) is tried again for:
# from one machine the room lets 10 in at once, then one every 2 s.
JOIN_PATIENCE = 3.0


def student_names(count: int) -> list[str]:
    """``count`` distinct names that say they are simulated: ``Ada-sim``, ..., then ``Ada-sim2``, ..."""
    if count < 1:
        raise ValueError(f"a rehearsal needs at least 1 student, got {count}")
    return [
        f"{FIRST_NAMES[i % len(FIRST_NAMES)]}-sim{'' if i < len(FIRST_NAMES) else i // len(FIRST_NAMES) + 1}"
        for i in range(count)
    ]


@dataclasses.dataclass
class Rehearsal:
    """What happened: who joined, how many results and lines were sent, what went wrong (sentences)."""

    joined: list[str] = dataclasses.field(default_factory=list)
    waited: int = 0  # joins the room refused at first (its limit per address) and let in later
    results: int = 0
    lines: int = 0
    problems: list[str] = dataclasses.field(default_factory=list)

    def __str__(self) -> str:
        text = f"{len(self.joined)} simulated student(s) joined, sent {self.results} check result(s) and {self.lines} chat line(s)"
        if self.waited:
            text += f" ({self.waited} join(s) waited for the room's limit on joins from one address)"
        if self.problems:
            shown = "; ".join(self.problems[:5]) + (f"; and {len(self.problems) - 5} more" if len(self.problems) > 5 else "")
            return f"{text}; {len(self.problems)} problem(s): {shown}"
        return text + "; no problems."


async def _join(chat: ChatState, rng: random.Random, patience: float, report: Rehearsal) -> bool:
    """Join; a join the room refuses (its limit per address: all of a rehearsal comes from one machine) is tried again."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    refused = False
    while True:
        if await chat.join():
            report.waited += int(refused)
            return True
        if chat.close_code is None or "too many joins" not in chat.close_reason or loop.time() > deadline:
            return False  # nothing listening, a wrong address, a name taken: waiting does not help
        refused = True
        await asyncio.sleep(rng.uniform(1.0, 3.0))


async def _drain(client: Client) -> None:
    """Read and forget (a stream client that does not read is a slow client to the server)."""
    async for _ in client:
        pass


async def _student(
    host: str, port: int, name: str, duration: float, patience: float, rng: random.Random, report: Rehearsal
) -> None:
    end = asyncio.get_running_loop().time() + duration
    await asyncio.sleep(rng.uniform(0, min(3.0, duration / 4)))  # a class does not press Run All in the same millisecond
    chat = ChatState(host, port, name, max_lines=20)
    if not await _join(chat, rng, patience, report):
        report.problems.append(f"{name} could not join: {chat.error}")
        return
    report.joined.append(name)
    others: list[Client] = []
    readers: list[asyncio.Task[None]] = []
    try:
        for path in ("/ws", "/streaming"):
            try:
                client = await connect(ws_url(host, port, f"{path}?name={urllib.parse.quote(name)}"), timeout=5)
            except ConnectionFailed as error:
                report.problems.append(f"{name} could not open {path}: {error.reason}")
                continue
            others.append(client)
            readers.append(asyncio.get_running_loop().create_task(_drain(client)))
        if await chat.say(f"hello, {name} here (a rehearsal)"):
            report.lines += 1
        pause = max(MIN_PAUSE, duration / (len(EXERCISES) * 2 + 1))
        for exercise, mistake, success in EXERCISES:
            if rng.random() < 0.4:  # a first try that is not there yet
                await asyncio.sleep(pause * rng.uniform(0.5, 1.5))
                if await chat.send_progress(exercise, False, mistake):
                    report.results += 1
            await asyncio.sleep(pause * rng.uniform(0.5, 1.5))
            if rng.random() < 0.85 and await chat.send_progress(exercise, True, success):
                report.results += 1
        await asyncio.sleep(max(0.0, end - asyncio.get_running_loop().time()))  # stay until the lesson ends
        if chat.status != "open":
            report.problems.append(f"{name} was disconnected: {chat.summary}")
    finally:
        for client in others:
            try:
                await client.close()
            except ConnectionClosed:
                pass
        for reader in readers:
            reader.cancel()
        await chat.leave()


async def rehearse(host: str, port: int, students: int = 30, duration: float = 30.0, seed: int | None = None) -> Rehearsal:
    """Run ``students`` simulated students for about ``duration`` seconds against the classroom at ``host``:``port``."""
    if not duration > 0:
        raise ValueError(f"duration must be a positive number of seconds, got {duration!r}")
    rng = random.Random(seed)
    report = Rehearsal()
    names = student_names(students)
    patience = max(duration, JOIN_PATIENCE * students)
    await asyncio.gather(
        *(_student(host, port, name, duration, patience, random.Random(rng.random()), report) for name in names)
    )
    return report
