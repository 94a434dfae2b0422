"""A rehearsal before class: a simulated class against the teacher's classroom server, to find problems.

``python -m wstutorial rehearse --students 30 --port 8888`` runs this
against a classroom server started for it (a room of its own:
``python -m wstutorial classroom --room rehearsal``). Like a real class:

- each simulated student (``Ada-sim``, ``Alan-sim``, ...) comes from an
  address of its own when the server is on this machine (``127.0.0.2``,
  ``127.0.0.3``, ...: the loopback range needs no other machine), so the
  room's limit on joins per address meets them as it meets thirty laptops;
  run from another machine, all come from that machine's one address;
- each joins the chat, connects to ``/ws`` and ``/streaming`` like
  notebooks 02 and 04, says a line or two, and sends self-check results
  (some "not yet" first, then passed) over ``duration`` seconds;
- some leave in the middle of the lesson (a kernel restarted, a lid closed)
  and join again under the same name;
- some first type a name that is taken, that only looks like one in the
  room (``ada-sim``, a Cyrillic ``а``), or that has characters a name may
  not have, and then their own: the room must refuse the first with a
  sentence;
- a few (``kernels``) are real Jupyter kernels running notebook 06 with
  their own ``NAME``, ``HOST`` and ``PORT``, as a student's Run All does.

The report (:class:`Rehearsal`) says what a teacher needs to know: the
time until everyone had joined, the worst chat latency (a line sent until
it came back from the room), the board's lag (a result sent until the
room confirmed it on the board, and until the teacher's page had it when
``teacher_token`` is given), and each problem met, as sentences.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import random
import socket
import statistics
import subprocess
import tempfile
import urllib.parse
from pathlib import Path
from typing import Any, Callable

from .. import curriculum
from ..address import is_loopback, ws_url
from ..chatrules import CLOSE_POLICY
from ..client import Client, ConnectionClosed, ConnectionFailed, connect
from ..messages import MessageType
from ..student.chat import ChatState

__all__ = ["Rehearsal", "rehearse", "student_names", "kernel_names", "source_addresses", "EXERCISES"]

FIRST_NAMES = (
    "Ada", "Alan", "Grace", "Linus", "Barbara", "Ken", "Margaret", "Dennis", "Frances", "Edsger",
    "Katherine", "Tim", "Radia", "Guido", "Hedy", "Donald", "Annie", "John", "Sophie", "Vint",
    "Karen", "Niklaus", "Adele", "Bjarne", "Jean", "Leslie", "Mary", "Ward", "Shafi", "Whitfield",
)  # fmt: skip

# What a student sees at the lesson's exercises (wstutorial.curriculum: the board's columns, in lesson order): a typical
# first mistake and the passing sentence, as the checks say them; one homework exercise some do ahead.
SENTENCES: dict[str, tuple[str, str]] = {
    "upper_case": ("you answered 'hello websockets' with 'hello websockets', expected 'HELLO WEBSOCKETS' (same text: call .upper() on it)",
                   "your handler answered 'hello websockets' with 'HELLO WEBSOCKETS'."),
    "echo": ("ask(url, 'is anybody there?') returned None, expected the echo 'is anybody there?': connect, send the text, then return await client.receive()",
             "ask() returned each echo and closed its connection."),
    "send_on_open": ("your page connected but sent nothing within 5 s: call ws.send(\"hello from my page\") in the open event's listener",
                     "your page connected and sent 'hello from my page' as soon as the socket opened."),
    "count_clients": ("after the second client left, the answer stayed 2, expected 1: remove the handler from your set in on_close",
                      "your handler counted 1, then 2 with a second client, then 1 again after it left."),
    "mini_chat": ("Bob got 'hello' after Ada sent 'hello', expected 'Ada: hello' (add the sender's name: self.get_argument('name') in open)",
                  "your handler sent each message to everyone as '<name>: <text>', and forgot a client that left."),
    "stream_time": ("your handler still sent 3 messages after the client left: stop the timer in on_close, self.timer.stop()",
                    "your handler sent the time 3 times and stopped when the client left."),
}  # fmt: skip
EXERCISES = tuple(
    (name, *SENTENCES.get(name, (f"the check of {name} says what to change", f"{name} passed.")))
    for name in [*curriculum.core(), "stream_time"]
)

# The shortest pause between a student's messages, in seconds: a student sends about a dozen in all (a line or
# two, two results per exercise at most), which the room's bursts of 10 and 2 a second let through even this fast;
# a rehearsal of a minute spreads them over it.
MIN_PAUSE = 0.3
# Seconds per student that a refused join (the room's per-address limit) is tried again for:
# from one machine the room lets 10 in at once, then one every 2 s.
JOIN_PATIENCE = 3.0
# About one student in six leaves in the middle of the lesson and comes back (at least one in a class of three or more).
LEAVER_SHARE = 1 / 6
# Seconds a leaver stays away, at most.
AWAY = 3.0
# Seconds to wait for a line or a result to come back before calling it lost.
ANSWER_TIMEOUT = 10.0
# The notebook the kernels run, and the cells' time limit there (a bound, not an expectation).
CLASS_NOTEBOOK = "06-classroom.ipynb"
KERNEL_CELL_TIMEOUT = 120
# What notebook 06 prints when a cell of the class did not go as it should.
KERNEL_TROUBLE = ("(skipped)", "Not finished", "nothing came within", "Traceback")


def student_names(count: int) -> list[str]:
    """``count`` distinct names that say they are simulated: ``Ada-sim``, ..., then ``Ada-sim2``, ..."""
    if count < 1:
        raise ValueError(f"a rehearsal needs at least 1 student, got {count}")
    return [
        f"{FIRST_NAMES[i % len(FIRST_NAMES)]}-sim{'' if i < len(FIRST_NAMES) else i // len(FIRST_NAMES) + 1}"
        for i in range(count)
    ]


def kernel_names(count: int) -> list[str]:
    """Names for the students in real kernels: ``Ada-nb-sim``, ... (notebook 06 adds ``-panel``, ``-code``, ...)."""
    return [f"{FIRST_NAMES[i % len(FIRST_NAMES)]}-nb{'' if i < len(FIRST_NAMES) else i // len(FIRST_NAMES) + 1}-sim" for i in range(count)]


def source_addresses(count: int, host: str) -> list[str | None]:
    """One address of this machine per student: ``127.0.0.2``, ``127.0.0.3``, ... when ``host`` is this machine.

    The whole 127.0.0.0/8 is this machine on Linux and Windows; macOS has
    only 127.0.0.1 unless more are added (``sudo ifconfig lo0 alias
    127.0.0.2``). Where the range cannot be used, or the server is on
    another machine, every student gets ``None``: the machine's own address.
    """
    if not _resolves_to_loopback(host):
        return [None] * count
    addresses = [f"127.0.{(i + 2) // 256}.{(i + 2) % 256}" for i in range(count)]
    try:
        for address in (addresses[0], addresses[-1]):
            with socket.socket() as probe:
                probe.bind((address, 0))
    except OSError:
        return [None] * count
    return list(addresses)


def _resolves_to_loopback(host: str) -> bool:
    if is_loopback(host):
        return True
    try:
        return all(is_loopback(str(info[4][0])) for info in socket.getaddrinfo(host, None, socket.AF_INET))
    except OSError:
        return False


@dataclasses.dataclass
class Rehearsal:
    """What happened, for the teacher: who joined and when, how fast the room answered, each problem as a sentence."""

    students: int = 0  # simulated students asked for (kernels not included)
    kernels: int = 0  # students in real kernels asked for
    joined: list[str] = dataclasses.field(default_factory=list)
    addresses: int = 0  # distinct addresses the simulated students came from (0: the machine's own)
    waited: int = 0  # joins the room refused at first (its limit per address) and let in later
    results: int = 0
    lines: int = 0
    all_joined_after: float | None = None  # seconds from the start until the last simulated student's first join
    everyone_in_after: float | None = None  # ... until the teacher's page had listed each, kernels too (with the token)
    chat_latencies: list[float] = dataclasses.field(default_factory=list)
    board_lags: list[float] = dataclasses.field(default_factory=list)  # result sent until the room confirmed it
    teacher_lag: float | None = None  # the last result sent until the teacher's page had them all
    rejoined: list[str] = dataclasses.field(default_factory=list)
    refused_names: list[str] = dataclasses.field(default_factory=list)  # "'ada-sim': <the room's reason>"
    kernels_done: list[str] = dataclasses.field(default_factory=list)  # who ran notebook 06 to the end
    problems: list[str] = dataclasses.field(default_factory=list)

    @property
    def worst_chat_latency(self) -> float | None:
        return max(self.chat_latencies, default=None)

    @property
    def worst_board_lag(self) -> float | None:
        return max(self.board_lags, default=None)

    def __str__(self) -> str:
        lines = [
            f"{len(self.joined)} simulated student(s) joined, sent {self.results} check result(s) and {self.lines} chat line(s)"
            + (f", {len(self.kernels_done)} of {self.kernels} in real kernels ran notebook 06 to the end" if self.kernels else "")
            + "."
        ]
        where = f"from {self.addresses} addresses of this machine" if self.addresses else "all from this machine's one address"
        if self.all_joined_after is not None:
            lines.append(f"  joining: every simulated student was in after {self.all_joined_after:.1f} s ({where})")
        if self.everyone_in_after is not None:
            lines.append(f"  the teacher's page had listed everyone{' (kernels too)' if self.kernels else ''} after {self.everyone_in_after:.1f} s")
        if self.waited:
            lines.append(f"  {self.waited} join(s) waited for the room's limit on joins from one address")
        if self.chat_latencies:
            lines.append(
                f"  chat: worst latency {max(self.chat_latencies) * 1000:.0f} ms, median "
                f"{statistics.median(self.chat_latencies) * 1000:.0f} ms (a line sent until it came back from the room)"
            )
        if self.board_lags:
            lines.append(
                f"  board: worst lag {max(self.board_lags) * 1000:.0f} ms (a result sent until the room confirmed it on the board)"
            )
        if self.teacher_lag is not None:
            lines.append(f"  teacher page: every result there {self.teacher_lag * 1000:.0f} ms after the last was sent")
        if self.rejoined:
            lines.append(f"  left and came back: {', '.join(self.rejoined)}")
        for refusal in self.refused_names:
            lines.append(f"  name refused, as it should be: {refusal}")
        if self.problems:
            lines.append(f"{len(self.problems)} problem(s):")
            lines.extend(f"  - {problem}" for problem in self.problems)
        else:
            lines.append("No problems.")
        return "\n".join(lines)


@dataclasses.dataclass
class _Class:
    """What the students of one rehearsal share: where the room is, the clock, the report, who is in."""

    host: str
    port: int
    report: Rehearsal
    start: float
    first_join: dict[str, asyncio.Event]
    everyone: frozenset[str] = frozenset()  # every name that should join, kernels' included
    sent_results: int = 0
    last_sent: float = 0.0  # when the newest result was sent (the loop's clock)

    def elapsed(self) -> float:
        return asyncio.get_running_loop().time() - self.start


async def _join(chat: ChatState, rng: random.Random, patience: float, report: Rehearsal) -> bool:
    """Join; a join the room refuses (its limit per address: all of a rehearsal from one machine) is tried again."""
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


async def _answer(chat: ChatState, matches: Callable[[dict[str, Any]], bool], send: Callable[[], Any]) -> float | None:
    """Send (``send()``), then wait for the next message from the room that ``matches``; seconds taken, None if none came."""
    loop = asyncio.get_running_loop()
    arrived: asyncio.Future[float] = loop.create_future()
    before = chat.received[-1] if chat.received else None

    def on_change(state: ChatState) -> None:  # called after each message the room sends (and each change of status)
        newest = state.received[-1] if state.received else None
        if newest is not None and newest is not before and matches(newest) and not arrived.done():
            arrived.set_result(loop.time())

    remove = chat.on_change(on_change)
    try:
        began = loop.time()
        if not await send():
            return None
        return await asyncio.wait_for(arrived, ANSWER_TIMEOUT) - began
    except asyncio.TimeoutError:
        return None
    finally:
        remove()


async def _drain(client: Client) -> None:
    """Read and forget (a stream client that does not read is a slow client to the server)."""
    async for _ in client:
        pass


def _chat_url(host: str, port: int, name: str) -> str:
    """A simulated student's door to the room: ``/chat?name=...&rehearsal=1`` (only a rehearsal room opens it)."""
    return ws_url(host, port, "/chat") + "?name=" + urllib.parse.quote(name) + "&rehearsal=1"


# What a class's room says to a rehearsal's student (classroom/room.py, WrongRoom).
WRONG_ROOM = "rehearse in a room of its own"


async def _room_lets_rehearsals_in(lesson: _Class, name: str, source_address: str | None) -> bool:
    """Knock once, as ``name``, before the class arrives: False (one problem said) if the room is a class's or out of reach."""
    report = lesson.report
    try:
        knock = await connect(_chat_url(lesson.host, lesson.port, name), timeout=5, source_address=source_address)
    except ConnectionFailed as error:
        report.problems.append(f"{name} could not join: {error.reason}")
        return False
    try:
        await knock.receive(timeout=5)
    except ConnectionClosed:
        if WRONG_ROOM in (knock.close_reason or ""):
            report.problems.append(f"nobody joined: {knock.close_reason} (a rehearsal never mixes into a class's board)")
            return False
        return True  # refused for another reason: the student meets it and says it
    except TimeoutError:
        return True
    await knock.close()
    return True


def _look_alike(name: str) -> str:
    """``name`` with a Latin letter swapped for a Cyrillic one that looks the same (``a`` → ``а``), else case-folded."""
    for latin, cyrillic in (("a", "\u0430"), ("e", "\u0435"), ("o", "\u043e"), ("A", "\u0410"), ("E", "\u0415")):
        if latin in name:
            return name.replace(latin, cyrillic, 1)
    return name.swapcase()


async def _wrong_name_first(wrong: str, why: str, target: str | None, lesson: _Class, source_address: str | None) -> None:
    """Try ``wrong`` (once ``target`` is in the room) before one's own name: the room must refuse it with a reason."""
    if target is not None:
        await lesson.first_join[target].wait()
        if target not in lesson.report.joined:
            return  # the name to copy never got in (a problem said already): nothing to try
    url = _chat_url(lesson.host, lesson.port, wrong)
    try:
        attempt = await connect(url, timeout=5, source_address=source_address)
    except ConnectionFailed as error:
        lesson.report.problems.append(f"trying the name {wrong!r}, the room could not be reached: {error.reason}")
        return
    try:
        welcome = await attempt.receive(timeout=5)
    except ConnectionClosed:
        reason = attempt.close_reason or ""
        if attempt.close_code == CLOSE_POLICY and reason:
            lesson.report.refused_names.append(f"{wrong!r} ({why}): {reason}")
        else:
            lesson.report.problems.append(f"the name {wrong!r} ({why}) was refused without a reason (code {attempt.close_code})")
        return
    except TimeoutError:
        lesson.report.problems.append(f"the room neither welcomed nor refused the name {wrong!r} within 5 s")
    else:
        lesson.report.problems.append(f"the room let {wrong!r} in ({why}): its name check is not working ({str(welcome)[:80]})")
    await attempt.close()


async def _student(
    name: str,
    duration: float,
    patience: float,
    rng: random.Random,
    lesson: _Class,
    *,
    source_address: str | None,
    leaves: bool,
    wrong_first: tuple[str, str, str | None] | None,
) -> None:
    report = lesson.report
    loop = asyncio.get_running_loop()
    end = lesson.start + duration
    await asyncio.sleep(rng.uniform(0, min(3.0, duration / 4)))  # a class does not press Run All in the same millisecond
    # rehearsal=True: only a rehearsal room lets it in
    chat = ChatState(lesson.host, lesson.port, name, max_lines=40, source_address=source_address, rehearsal=True)
    if wrong_first is not None:
        await _wrong_name_first(*wrong_first, lesson=lesson, source_address=source_address)
    if not await _join(chat, rng, patience, report):
        report.problems.append(f"{name} could not join: {chat.error}")
        lesson.first_join[name].set()  # who waits to copy this name stops waiting
        return
    report.joined.append(name)
    report.all_joined_after = max(report.all_joined_after or 0.0, lesson.elapsed())
    lesson.first_join[name].set()
    others: list[Client] = []
    readers: list[asyncio.Task[None]] = []

    async def open_others() -> None:
        for path in ("/ws", "/streaming"):
            try:
                client = await connect(
                    ws_url(lesson.host, lesson.port, f"{path}?name={urllib.parse.quote(name)}"),
                    timeout=5, source_address=source_address,
                )
            except ConnectionFailed as error:
                report.problems.append(f"{name} could not open {path}: {error.reason}")
                continue
            others.append(client)
            readers.append(loop.create_task(_drain(client)))

    async def close_others() -> None:
        for client in others:
            try:
                await client.close()
            except ConnectionClosed:
                pass
        for reader in readers:
            reader.cancel()
        others.clear()
        readers.clear()

    async def say(text: str) -> None:
        latency = await _answer(
            chat, lambda m: m.get("type") == MessageType.CHAT and m.get("name") == chat.name and m.get("text") == text,
            lambda: chat.say(text),
        )
        if latency is None:
            report.problems.append(f"{name}'s chat line {text!r} did not come back within {ANSWER_TIMEOUT:g} s: {chat.summary}")
        else:
            report.lines += 1
            report.chat_latencies.append(latency)

    async def result(exercise: str, passed: bool, reason: str) -> None:
        lesson.sent_results += 1
        lesson.last_sent = loop.time()
        lag = await _answer(
            chat, lambda m: m.get("type") == MessageType.PROGRESS and m.get("exercise") == exercise and m.get("passed") == passed,
            lambda: chat.send_progress(exercise, passed, reason),
        )
        if lag is None:
            report.problems.append(f"{name}'s result for {exercise} did not reach the board within {ANSWER_TIMEOUT:g} s: {chat.summary}")
        else:
            report.results += 1
            report.board_lags.append(lag)

    try:
        await open_others()
        await say(f"hello, {name} here (a rehearsal)")
        steps = len(EXERCISES) * 2 + 1
        pause = max(MIN_PAUSE, duration / steps)
        leave_after = rng.randrange(1, len(EXERCISES)) if leaves else None
        for number, (exercise, mistake, success) in enumerate(EXERCISES):
            if number == leave_after:
                await close_others()
                await chat.leave()
                await asyncio.sleep(rng.uniform(0.5, AWAY))
                if not await _join(chat, rng, patience, report):
                    report.problems.append(f"{name} left and could not join again: {chat.error}")
                    return
                report.rejoined.append(name)
                await open_others()
                await say(f"{name} is back")
            if rng.random() < 0.4:  # a first try that is not there yet
                await asyncio.sleep(pause * rng.uniform(0.5, 1.5))
                await result(exercise, False, mistake)
            await asyncio.sleep(pause * rng.uniform(0.5, 1.5))
            if rng.random() < 0.85:
                await result(exercise, True, success)
        await asyncio.sleep(max(0.0, end - loop.time()))  # stay until the lesson ends
        if chat.status != "open":
            report.problems.append(f"{name} was disconnected: {chat.summary}")
    finally:
        await close_others()
        await chat.leave()


# -- students in real kernels -------------------------------------------------------------------


def run_class_notebook(notebook: Path, name: str, host: str, port: int, progress_file: Path) -> list[str]:
    """Run notebook 06 in a fresh Jupyter kernel as student ``name`` (as a Run All does); return what it printed.

    ``NAME``, ``HOST`` and ``PORT`` go into a cell after the one tagged
    ``parameters`` (as papermill does); the notebook on disk is not changed.
    The kernel keeps its self-check results in ``progress_file``, not in
    the teacher's own. Runs in the calling thread (with its own event loop).
    """
    import nbformat  # the notebook part (JupyterLab brings them)
    from nbclient import NotebookClient

    book = nbformat.read(notebook, as_version=4)
    index = next(i for i, cell in enumerate(book.cells) if "parameters" in cell.metadata.get("tags", []))
    injected = nbformat.v4.new_code_cell(f"NAME = {name!r}\nHOST, PORT = {host!r}, {port!r}")
    injected.metadata["tags"] = ["injected-parameters"]
    book.cells.insert(index + 1, injected)
    env = dict(os.environ, WSTUTORIAL_PROGRESS_FILE=str(progress_file))
    client = NotebookClient(
        book, timeout=KERNEL_CELL_TIMEOUT, kernel_name="python3", resources={"metadata": {"path": str(notebook.parent)}}
    )
    # The kernel's own log lines (a warning about TCP on this machine) would only mix into the teacher's terminal.
    client.execute(env=env, stderr=subprocess.DEVNULL)
    said: list[str] = []
    for cell in book.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if output["output_type"] == "error":
                said.append(f"Traceback: {output.get('ename')}: {output.get('evalue')}")
            elif output.get("name") == "stderr":
                said.append(f"Traceback (stderr): {output.get('text', '')}")
            else:
                said.append(str(output.get("text", "")) + str(output.get("data", {}).get("text/plain", "")))
    return said


async def _kernel_student(notebook: Path, name: str, lesson: _Class, folder: Path) -> None:
    report = lesson.report
    try:
        said = await asyncio.get_running_loop().run_in_executor(
            None, run_class_notebook, notebook, name, lesson.host, lesson.port, folder / f"{name}.json"
        )
    except Exception as error:  # a kernel that could not start or a cell past its time limit: one sentence
        report.problems.append(f"{name} (a kernel running notebook 06) stopped: {type(error).__name__}: {str(error)[:300]}")
        return
    trouble = [line.strip() for text in said for line in text.splitlines() if any(mark in line for mark in KERNEL_TROUBLE)]
    if trouble:
        report.problems.append(f"{name} (a kernel running notebook 06) met: {'; '.join(trouble[:3])[:400]}")
    elif not any(f"as {name!r}" in text for text in said):
        report.problems.append(f"{name} (a kernel running notebook 06) never said it was in the room as {name!r}")
    else:
        report.kernels_done.append(name)


# -- the teacher's page ---------------------------------------------------------------------------


async def _watch_board(url: str, lesson: _Class, done: asyncio.Event) -> None:
    """As the teacher's page: note when each result arrives; at the end, how long after the last one was sent all were there."""
    report = lesson.report
    try:
        teacher = await connect(url, timeout=5)
    except ConnectionFailed as error:
        report.problems.append(f"the rehearsal could not open the teacher's page: {error.reason}")
        return
    loop = asyncio.get_running_loop()
    arrivals: list[float] = []
    listed: set[str] = set()
    try:
        while not done.is_set() or len(arrivals) < lesson.sent_results:
            if done.is_set() and loop.time() > lesson.last_sent + ANSWER_TIMEOUT:
                report.problems.append(
                    f"the teacher's page had {len(arrivals)} of {lesson.sent_results} results {ANSWER_TIMEOUT:g} s after the last was sent"
                )
                return
            try:
                raw = await teacher.receive(timeout=0.5)
            except TimeoutError:
                continue
            except ConnectionClosed:
                report.problems.append(f"the teacher's page was closed: code {teacher.close_code}, {teacher.close_reason or 'no reason'}")
                return
            try:
                message = json.loads(raw)
            except ValueError:
                continue
            if isinstance(message, dict) and message.get("type") == MessageType.PROGRESS:
                arrivals.append(loop.time())
            elif isinstance(message, dict) and message.get("type") == MessageType.MEMBERS and report.everyone_in_after is None:
                listed.update(map(str, message.get("members") or []))
                if lesson.everyone <= listed:  # each has been in (a quick student may have left already)
                    report.everyone_in_after = lesson.elapsed()
        # Results of the kernels' notebooks come too: the last of the rehearsal's own is at least the count-th.
        report.teacher_lag = max(0.0, arrivals[lesson.sent_results - 1] - lesson.last_sent) if lesson.sent_results else None
    finally:
        await teacher.close()


async def rehearse(
    host: str,
    port: int,
    students: int = 30,
    duration: float = 30.0,
    seed: int | None = None,
    *,
    kernels: int = 0,
    notebook: Path | None = None,
    teacher_token: str | None = None,
    addresses: bool = True,
) -> Rehearsal:
    """Run ``students`` simulated students (and ``kernels`` real ones) for about ``duration`` seconds at ``host``:``port``.

    Args:
        kernels: students in real Jupyter kernels running ``notebook``
            (notebook 06; needs the notebook part: nbclient, ipykernel).
        teacher_token: the classroom's teacher token: the rehearsal then
            watches the board as the teacher's page does, and says how
            long results took to reach it.
        addresses: each simulated student from an address of its own when
            the server is on this machine (see :func:`source_addresses`).
    """
    if not duration > 0:
        raise ValueError(f"duration must be a positive number of seconds, got {duration!r}")
    if kernels and notebook is None:
        raise ValueError("kernels need the notebook they run (notebook 06): pass notebook=...")
    rng = random.Random(seed)
    report = Rehearsal(students=students, kernels=kernels)
    names = student_names(students)
    sources = source_addresses(students, host) if addresses else [None] * students
    report.addresses = len({source for source in sources if source is not None})
    # From one address the room lets 10 in at once, then one every 2 s: thirty wait their turn. From addresses
    # of their own nobody should wait longer than one refill of the limit (a student who rejoined too often).
    patience = JOIN_PATIENCE if report.addresses else max(duration, JOIN_PATIENCE * students)
    loop = asyncio.get_running_loop()
    lesson = _Class(
        host, port, report, loop.time(), {name: asyncio.Event() for name in names},
        everyone=frozenset([*names, *kernel_names(kernels)]),
    )
    # Who does what: about one in six leaves and comes back; three try a wrong name first (a taken one,
    # a look-alike, one with a character names may not have), each after the name they copy is in.
    leavers = set(rng.sample(names, max(1 if students >= 3 else 0, round(students * LEAVER_SHARE))))
    wrong: dict[str, tuple[str, str, str | None]] = {}
    if students >= 4:
        first, second, third = rng.sample(names[1:], 3)
        wrong[first] = (names[0], "taken", names[0])
        wrong[second] = (_look_alike(names[0]), f"looks like {names[0]!r}", names[0])
        wrong[third] = (f"<b>{third}</b>", "characters a name may not have", None)
    # Knock first, from an address none of the students uses: a class's room refuses the whole rehearsal with one
    # sentence, before any kernel joins it.
    knocker = source_addresses(students + 1, host)[-1] if report.addresses else None
    if not await _room_lets_rehearsals_in(lesson, names[0], knocker):
        return report
    done = asyncio.Event()
    watcher = None
    if teacher_token is not None:
        watcher = loop.create_task(
            _watch_board(ws_url(host, port, "/teacher") + "?token=" + urllib.parse.quote(teacher_token), lesson, done)
        )
    with tempfile.TemporaryDirectory(prefix="wstutorial-rehearsal-") as folder:
        crowd = [
            _student(
                name, duration, patience, random.Random(rng.random()), lesson,
                source_address=source, leaves=name in leavers, wrong_first=wrong.get(name),
            )
            for name, source in zip(names, sources, strict=True)
        ]
        if notebook is not None:
            crowd += [_kernel_student(notebook, name, lesson, Path(folder)) for name in kernel_names(kernels)]
        await asyncio.gather(*crowd)
    done.set()
    if watcher is not None:
        await watcher
    if len(report.joined) < students:
        report.all_joined_after = None
    return report
