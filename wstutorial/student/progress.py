"""Who hears about self-check results: a registry of reporters.

Every :class:`~wstutorial.teaching.exercises.CheckResult` that a
``check_<exercise>`` function makes is handed to :func:`report`. With no
reporter registered (the usual case) that is all: nothing is stored or sent.
A student's notebook that has joined the classroom under their name
(``ChatState(..., report_progress=True)``) registers one while it is in the
room, and the result goes to the teacher's progress board.

Nothing lost: every result is also kept on the student's machine, in a small
JSON file (:func:`local_file`: ``wstutorial/progress.json`` in Jupyter's
per-user data folder, or ``$WSTUTORIAL_PROGRESS_FILE``), the newest per
exercise, at most ``MAX_KEPT``. When the notebook joins the room it sends
the results kept from before (:func:`earlier_results`), so checks passed in
notebooks 01-05 reach the board too. Each kept result remembers the name it
went to the board under ('' before joining): a result belongs to the first
NAME that joins with it, never to a later, different one (another student on
the same computer account); a room of one's own (notebook 06 working alone)
does not claim them. The key to a student's row on a class's board (the
rejoin secret the room gives in its welcome, ``classroom/board.py``) is kept
beside it (:func:`rejoin_file`), per room address and name, so a kernel
restarted tomorrow rejoins as the same student. A file that cannot be written never breaks a check: one
sentence says so, once. Every kernel of the student (two notebooks open at
once) updates the same file: each read-modify-write holds a cross-process
lock (``progress.json.lock``, the ``filelock`` library of the notebook
install; a lean install's scripts have one process, and this one's threads
take turns anyway), waited for at most ``LOCK_TIMEOUT`` seconds, so a held
lock never hangs a check.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import sys
import tempfile
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any, Protocol

from ..jsontext import loads

logger = logging.getLogger("wstutorial")

__all__ = [
    "LOCK_TIMEOUT",
    "MAX_KEPT",
    "MAX_REASON_LENGTH",
    "Progress",
    "Reporter",
    "add_reporter",
    "claim",
    "earlier_results",
    "exercise_name",
    "local_file",
    "report",
    "rejoin_file",
    "rejoin_secret",
    "keep_rejoin_secret",
]

# The board shows one line per result: a long reason is cut (with "...").
MAX_REASON_LENGTH = 300
# How far up the stack report() looks for the check_* function (its callers are a few frames away).
_MAX_FRAMES = 12
# Results kept on the student's machine: the tutorial has about ten exercises; the board shows at most 40.
MAX_KEPT = 40
_FILE_VERSION = 1
# Seconds a check waits for another kernel's update of the local file (each takes milliseconds):
# past that the lock is taken to be held by a hung kernel, and the result is written without it.
LOCK_TIMEOUT = 2.0


class _Result(Protocol):
    @property
    def passed(self) -> bool: ...

    @property
    def message(self) -> str: ...


@dataclasses.dataclass(frozen=True)
class Progress:
    """One self-check result: which exercise, passed or not yet, and the one-line reason."""

    exercise: str
    passed: bool
    reason: str
    # When the check ran (seconds since 1970): the board keeps the newest result.
    at: float = dataclasses.field(default_factory=time.time, compare=False)


Reporter = Callable[[Progress], None]

_reporters: list[tuple[Reporter, str]] = []
_lock = threading.Lock()
_file_lock = threading.Lock()
_warned = False  # the sentence about an unusable local file is said once per kernel


def add_reporter(reporter: Reporter, name: str = "") -> Callable[[], None]:
    """Call ``reporter(progress)`` for every check result from now on; returns a function that removes it.

    ``name``: the student's name on the board it reports to; results kept
    locally while it is registered are marked as already sent under it.
    """
    entry = (reporter, name)
    with _lock:
        _reporters.append(entry)

    def remove() -> None:
        with _lock:
            if entry in _reporters:
                _reporters.remove(entry)

    return remove


def exercise_name(depth: int = 1) -> str:
    """The exercise a result belongs to: the name of the nearest ``check_<exercise>`` function calling us ('' if none).

    The checks are named for their exercise (``check_mini_chat`` for
    ``exercises/mini_chat.py``), so a new check is reported without registering it.
    """
    frame: FrameType | None = sys._getframe(depth)
    for _ in range(_MAX_FRAMES):
        if frame is None:
            break
        name = frame.f_code.co_name
        if name.startswith("check_") and str(frame.f_globals.get("__name__", "")).startswith("wstutorial."):
            return name[len("check_"):]
        frame = frame.f_back
    return ""


def report(result: _Result) -> None:
    """Hand ``result`` to every reporter (called when a check makes its result). Never raises."""
    exercise = exercise_name(2)
    if not exercise:
        return  # a CheckResult made outside a check (tests, examples): not an exercise result
    reason = str(result.message)
    if len(reason) > MAX_REASON_LENGTH:
        reason = reason[: MAX_REASON_LENGTH - 3] + "..."
    progress = Progress(exercise, bool(result.passed), reason)
    with _lock:
        reporters = [reporter for reporter, _ in _reporters]
        sent_as = next((name for _, name in _reporters if name), "")
    _keep(progress, sent_as)
    for reporter in reporters:
        try:
            reporter(progress)
        except Exception:  # a broken reporter must never turn a check into a traceback
            logger.exception("progress reporter %r failed", reporter)


# -- kept on the student's machine ---------------------------------------------------------------


def local_file() -> Path:
    """Where this user's results are kept: ``$WSTUTORIAL_PROGRESS_FILE``, else Jupyter's per-user data folder.

    ``jupyter --data-dir`` shows that folder (``~/.local/share/jupyter`` on
    Linux, ``%APPDATA%\\jupyter`` on Windows, ``~/Library/Jupyter`` on macOS).
    """
    chosen = os.environ.get("WSTUTORIAL_PROGRESS_FILE", "")
    if chosen:
        return Path(chosen)
    try:
        from jupyter_core.paths import jupyter_data_dir  # the notebook install has it; the lean one may not
    except ImportError:
        return Path.home() / ".wstutorial" / "progress.json"
    return Path(jupyter_data_dir()) / "wstutorial" / "progress.json"


def _say_once(sentence: str) -> None:
    global _warned
    if not _warned:
        _warned = True
        print(sentence, file=sys.stderr)


def _read(path: Path) -> dict[str, dict[str, Any]]:
    """The kept results by exercise; {} for a missing file, and for a damaged one (said once: it will be replaced).

    Raises ``OSError`` when the file cannot be read at all (the caller says so).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        data = loads(text)
        results = data["results"] if isinstance(data, dict) and data.get("version") == _FILE_VERSION else None
        if not isinstance(results, dict):
            raise ValueError("not a wstutorial progress file")
        return {
            str(exercise): {"passed": bool(kept["passed"]), "reason": str(kept["reason"])[:MAX_REASON_LENGTH],
                            "at": float(kept["at"]), "name": str(kept.get("name", ""))}
            for exercise, kept in results.items()
        }  # fmt: skip
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        _say_once(f"Your earlier check results in {path} could not be read ({error}); they start afresh there.")
        return {}


def _write(path: Path, results: dict[str, dict[str, Any]]) -> None:
    """Atomically (a temporary file, then replaced), the newest ``MAX_KEPT`` results."""
    newest = dict(sorted(results.items(), key=lambda item: item[1]["at"])[-MAX_KEPT:])
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=".progress.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            json.dump({"version": _FILE_VERSION, "results": newest}, file, ensure_ascii=False)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@contextmanager
def _updating(path: Path) -> Iterator[None]:
    """Hold the local file for one read-modify-write: this kernel's threads, then every other kernel's.

    Bounded: after ``LOCK_TIMEOUT`` seconds it goes on without the other
    kernels' lock (at worst one of their updates is lost), never hangs a check.
    """
    with _file_lock:
        try:
            import filelock  # the notebook install has it ([notebook] extra); the lean one may not
        except ImportError:
            yield
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = filelock.FileLock(path.with_name(path.name + ".lock"), timeout=LOCK_TIMEOUT)
        try:
            lock.acquire()
        except filelock.Timeout:
            logger.warning("%s is held for more than %s s by another kernel: updating %s without it",
                           lock.lock_file, LOCK_TIMEOUT, path)  # fmt: skip
            yield
            return
        try:
            yield
        finally:
            lock.release()


def _keep(progress: Progress, sent_as: str) -> None:
    """Add ``progress`` to the local file. Never raises: a file that cannot be written is said once."""
    try:
        path = local_file()
        with _updating(path):
            results = _read(path)
            results[progress.exercise] = {"passed": progress.passed, "reason": progress.reason, "at": progress.at, "name": sent_as}
            _write(path, results)
    except Exception as error:  # a full disk or a read-only home must not turn a check into a traceback
        _say_once(
            f"Could not keep your check results on this computer ({error}); the checks work as before, but results "
            "checked before joining the classroom will not reach the teacher's board. "
            "Set WSTUTORIAL_PROGRESS_FILE to a file you can write to fix it."
        )


def earlier_results(name: str) -> list[Progress]:
    """The kept results that ``name`` may send on joining: those not yet on the board, and ``name``'s own; oldest first."""
    try:
        path = local_file()
        with _file_lock:
            results = _read(path)
    except Exception:
        return []
    kept = sorted(results.items(), key=lambda item: item[1]["at"])
    return [Progress(exercise, r["passed"], r["reason"], r["at"]) for exercise, r in kept if r["name"] in ("", name)]


def claim(sent: Iterable[Progress], name: str) -> None:
    """Mark results sent on joining as ``name``'s: a later, different NAME on this computer account will not send them."""
    try:
        path = local_file()
        with _updating(path):
            results = _read(path)
            for progress in sent:
                kept = results.get(progress.exercise)
                if kept is not None and kept["at"] == progress.at and not kept["name"]:
                    kept["name"] = name
            _write(path, results)
    except Exception as error:
        _say_once(f"Could not update your kept check results ({error}); they may be sent again on the next join.")


# -- rejoin secrets: the key to this student's row on a class's board ----------------------------

# Rooms whose secrets are kept (the newest): a student meets a few classrooms, not hundreds.
MAX_ROOMS_KEPT = 20


def rejoin_file() -> Path:
    """Where this user's rejoin secrets are kept: beside :func:`local_file` (``rejoin-keys.json``)."""
    return local_file().with_name("rejoin-keys.json")


def _name_key(name: str) -> str:
    return unicodedata.normalize("NFKC", name).casefold()


def _read_keys(path: Path) -> dict[str, dict[str, Any]]:
    try:
        data = loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (ValueError, UnicodeDecodeError):
        return {}  # damaged: the room gives new secrets to names it does not know yet
    rooms = data.get("rooms") if isinstance(data, dict) and data.get("version") == _FILE_VERSION else None
    if not isinstance(rooms, dict):
        return {}
    return {str(room): kept for room, kept in rooms.items() if isinstance(kept, dict) and isinstance(kept.get("names"), dict)}


def rejoin_secret(room: str, name: str) -> str:
    """The secret the room at ``room`` (``host:port``) gave ``name`` when it first joined there ('' if none). Never raises."""
    try:
        path = rejoin_file()
        with _file_lock:
            kept = _read_keys(path).get(room, {})
        secret = kept.get("names", {}).get(_name_key(name), "")
        return secret if isinstance(secret, str) else ""
    except Exception:
        return ""


def keep_rejoin_secret(room: str, name: str, secret: str) -> None:
    """Keep the secret the room at ``room`` gave ``name``, for the next join (another kernel, another day). Never raises.

    Like the results, the file is written atomically under the cross-process
    lock; a file that cannot be written is said once (the student can still
    rejoin from this kernel, which keeps the secret too).
    """
    try:
        path = rejoin_file()
        with _updating(path):
            rooms = _read_keys(path)
            entry = rooms.setdefault(room, {"names": {}})
            entry["names"][_name_key(name)] = secret
            entry["at"] = time.time()
            newest = dict(sorted(rooms.items(), key=lambda item: float(item[1].get("at", 0)))[-MAX_ROOMS_KEPT:])
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(prefix=".rejoin-keys.", suffix=".tmp", dir=path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as file:
                    json.dump({"version": _FILE_VERSION, "rooms": newest}, file)
                os.replace(temporary, path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
    except Exception as error:
        _say_once(f"Could not keep your key to the class's board ({error}); rejoining from another notebook may need a new name.")
