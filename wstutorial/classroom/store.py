"""A room's board and teacher token, kept in SQLite (the standard library's ``sqlite3``) between classes.

``python -m wstutorial classroom --room NAME`` keeps room ``NAME`` (default
``class``) in ``DATA_DIR/NAME.sqlite3``; ``DATA_DIR`` is ``--data-dir``, else
``$WSTUTORIAL_DATA_DIR``, else ``classroom`` in the per-user data folder
(:func:`default_data_dir`). A restart with the same room brings back the
board and the same teacher token, so an open teacher page reconnects. The
layout::

    room(key TEXT PRIMARY KEY, value TEXT)            -- schema, name, token, created, current, current_since
    students(key TEXT PRIMARY KEY, name, secret_hash, joined REAL, active REAL)
    results(student, exercise, passed INTEGER, reason, at REAL, first REAL, passed_at REAL,
            PRIMARY KEY (student, exercise))

Times are seconds since 1970 (the server's clock; ``at`` is when the check
ran, by the student's clock but never later than the server's). A secret is
kept as its SHA-256 only (``secret_hash``; ``simulated`` for a rehearsal's
simulated student, '' for a name the teacher released). A teacher token
chosen when the server starts (``start_classroom(teacher_token=...)``)
replaces the room's: a restart keeps it. The server writes what changed about once a second
and at stop, in one transaction each, from its own thread; nothing else
writes while it runs (a lock file beside the database keeps a second server
off the same room). ``--fresh`` moves the room's file aside
(``NAME-YYYYMMDD-HHMMSS.sqlite3``: nothing is deleted) and starts an empty
board with a new token. :func:`export_csv` reads a room without a server.
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import os
import re
import secrets
import sqlite3
import time
from pathlib import Path
from typing import IO, Any, Iterator

from ..chatrules import EXERCISE_NAME
from ..curriculum import EXERCISES, Exercise
from .board import ProgressBoard, Result, Student

__all__ = [
    "DATA_DIR_VARIABLE",
    "DEFAULT_ROOM",
    "REHEARSAL_ROOM",
    "RoomStore",
    "StoreError",
    "default_data_dir",
    "export_csv",
    "is_rehearsal_room",
    "room_file",
    "validate_room_name",
]

DEFAULT_ROOM = "class"
# A rehearsal's simulated students join only a room with this name (or one starting with it plus "-").
REHEARSAL_ROOM = "rehearsal"
DATA_DIR_VARIABLE = "WSTUTORIAL_DATA_DIR"
SCHEMA_VERSION = "1"
ROOM_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}\Z")
CSV_HEADER = ("student", "exercise", "passed", "reason", "time")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS room (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS students (
    key TEXT PRIMARY KEY, name TEXT NOT NULL, secret_hash TEXT NOT NULL, joined REAL NOT NULL, active REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS results (
    student TEXT NOT NULL, exercise TEXT NOT NULL, passed INTEGER NOT NULL, reason TEXT NOT NULL,
    at REAL NOT NULL, first REAL NOT NULL, passed_at REAL, PRIMARY KEY (student, exercise)
);
"""


class StoreError(Exception):
    """A room's data that cannot be used; ``str()`` names the file and says what to do."""


def validate_room_name(name: str) -> str:
    """``name`` if it can name a room (and its file): 1-40 letters, digits, ``-`` and ``_``; ``ValueError`` otherwise."""
    if not isinstance(name, str) or not ROOM_NAME.match(name):
        raise ValueError(
            f"a room's name is 1 to 40 letters, digits, - and _, starting with a letter or digit, got {str(name)[:60]!r}"
        )
    return name


def is_rehearsal_room(name: str) -> bool:
    """True for ``rehearsal`` and ``rehearsal-...``: the rooms a rehearsal's simulated students may join."""
    return name == REHEARSAL_ROOM or name.startswith(REHEARSAL_ROOM + "-")


def default_data_dir() -> Path:
    """Where rooms are kept without ``--data-dir``: ``$WSTUTORIAL_DATA_DIR``, else ``classroom`` in the per-user data folder.

    The per-user folder is Jupyter's (``jupyter --data-dir``: ``~/.local/share/jupyter``
    on Linux, ``%APPDATA%\\jupyter`` on Windows, ``~/Library/Jupyter`` on macOS),
    as for the students' kept results; ``~/.wstutorial`` without Jupyter.
    """
    chosen = os.environ.get(DATA_DIR_VARIABLE, "")
    if chosen:
        return Path(chosen)
    try:
        from jupyter_core.paths import jupyter_data_dir  # the notebook install has it; the lean one may not
    except ImportError:
        return Path.home() / ".wstutorial" / "classroom"
    return Path(jupyter_data_dir()) / "wstutorial" / "classroom"


def room_file(data_dir: Path | str, room: str) -> Path:
    return Path(data_dir) / f"{validate_room_name(room)}.sqlite3"


def _connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    what_to_do = "move it away, or start a fresh class with --fresh (the file is moved aside, not deleted)"
    try:
        if read_only:
            connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
        else:
            connection = sqlite3.connect(path, timeout=5, check_same_thread=False, isolation_level=None)
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()  # a file that is no database fails here
    except sqlite3.Error as error:
        raise StoreError(f"cannot read the room's data file {str(path)!r} ({error}): {what_to_do}") from None
    return connection


class RoomStore:
    """One room's SQLite file, open for a running classroom server. Create it with :meth:`open`.

    ``token``: the room's teacher token (made when the room was). ``path``:
    the file. ``moved_to``: with ``fresh``, where the previous class's file went.
    """

    def __init__(self, path: Path, room: str, connection: sqlite3.Connection, lock: Any) -> None:
        self.path = path
        self.room = room
        self._db = connection
        self._lock = lock
        self.token = ""
        self.created = 0.0
        self.moved_to: Path | None = None
        self.saved_changes = 0
        self._meta: dict[str, str] = {}

    @classmethod
    def open(cls, data_dir: Path | str, room: str = DEFAULT_ROOM, *, fresh: bool = False) -> "RoomStore":
        """Open (or make) room ``room`` in ``data_dir``; ``fresh``: move its old file aside first.

        Raises :class:`StoreError` with a sentence for a folder that cannot
        be made, a damaged file, or a room another server has open.
        """
        path = room_file(data_dir, room)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(f"cannot make the data folder {str(path.parent)!r} ({error}): pass another --data-dir") from None
        lock = _lock_room(path, room)
        try:
            moved_to = _move_aside(path) if fresh else None
            if not path.exists():
                # Only this user may read it: it holds the teacher token.
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
            store = cls(path, room, _connect(path), lock)
            store.moved_to = moved_to
            store._prepare()
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        return store

    def _prepare(self) -> None:
        try:
            with self._transaction() as db:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
                meta = dict(db.execute("SELECT key, value FROM room").fetchall())
                if meta and meta.get("schema") != SCHEMA_VERSION:
                    raise StoreError(
                        f"the room's data file {str(self.path)!r} has schema {meta.get('schema')!r}, this version reads "
                        f"{SCHEMA_VERSION!r}: export it with the version that made it, or start a fresh class with --fresh"
                    )
                if not meta:
                    meta = {"schema": SCHEMA_VERSION, "name": self.room, "token": secrets.token_urlsafe(16),
                            "created": repr(time.time()), "current": "", "current_since": "0"}  # fmt: skip
                    db.executemany("INSERT INTO room (key, value) VALUES (?, ?)", meta.items())
        except sqlite3.Error as error:
            raise StoreError(f"cannot use the room's data file {str(self.path)!r} ({error}): move it away or use --fresh") from None
        self.token = meta["token"]
        self.created = float(meta.get("created", "0"))
        self._meta = meta

    def keep_token(self, token: str) -> None:
        """Make ``token`` the room's teacher token, kept with it: a restart without one brings back this one."""
        if token == self.token:
            return
        try:
            with self._transaction() as db:
                db.execute("INSERT OR REPLACE INTO room (key, value) VALUES ('token', ?)", (token,))
        except sqlite3.Error as error:
            raise StoreError(f"cannot keep the teacher token in {str(self.path)!r} ({error}): move the file away or use --fresh") from None
        self.token = self._meta["token"] = token

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def load(self, board: ProgressBoard) -> int:
        """Fill ``board`` with the room's rows and results (of the board's exercises); returns how many results."""
        known = {exercise.name for exercise in board.exercises}
        for key, name, secret_hash, joined, active in self._db.execute("SELECT key, name, secret_hash, joined, active FROM students"):
            board.students[key] = Student(key, name, secret_hash, joined, active)
        count = 0
        rows = self._db.execute("SELECT student, exercise, passed, reason, at, first, passed_at FROM results")
        for key, exercise, passed, reason, at, first, passed_at in rows:
            student = board.students.get(key)
            if student is not None and exercise in known:
                student.results[exercise] = Result(bool(passed), reason, at, first, passed_at)
                count += 1
        current = self._meta.get("current", "")
        board.current = current if current in known else ""
        board.current_since = float(self._meta.get("current_since", "0"))
        board.dirty.clear()
        self.saved_changes = board.changes
        return count

    def save(self, board: ProgressBoard) -> bool:
        """Write what changed on ``board`` since the last save, in one transaction. False if nothing did."""
        if board.changes == self.saved_changes:
            return False
        changes, keys = board.changes, list(board.dirty)
        board.dirty.clear()
        try:
            with self._transaction() as db:
                for key in keys:
                    student = board.students.get(key)
                    if student is None:
                        continue
                    db.execute(
                        "INSERT OR REPLACE INTO students (key, name, secret_hash, joined, active) VALUES (?, ?, ?, ?, ?)",
                        (student.key, student.name, student.secret_hash, student.joined, student.active),
                    )
                    db.executemany(
                        "INSERT OR REPLACE INTO results (student, exercise, passed, reason, at, first, passed_at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [(key, exercise, int(r.passed), r.reason, r.at, r.first, r.passed_at) for exercise, r in student.results.items()],
                    )
                db.executemany(
                    "INSERT OR REPLACE INTO room (key, value) VALUES (?, ?)",
                    [("current", board.current), ("current_since", repr(board.current_since))],
                )
        except BaseException:
            board.dirty.update(keys)  # written next time
            raise
        self.saved_changes = changes
        return True

    def close(self) -> None:
        self._db.close()
        if self._lock is not None:
            self._lock.release()
            self._lock = None


def _lock_room(path: Path, room: str) -> Any:
    """Hold the room for this server (a lock file beside it); None where ``filelock`` is missing (the lean install)."""
    try:
        import filelock  # the [notebook] extra
    except ImportError:
        return None
    lock = filelock.FileLock(path.with_name(path.name + ".lock"), timeout=0)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise StoreError(
            f"room {room!r} is open in another classroom server on this machine ({path}): "
            "stop that one first, or use another --room"
        ) from None
    return lock


def _move_aside(path: Path) -> Path | None:
    """``--fresh``: the room's file becomes ``NAME-YYYYMMDD-HHMMSS.sqlite3`` beside it (nothing is deleted)."""
    if not path.exists():
        return None
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.stem}-{stamp}{path.suffix}")
    number = 2
    while target.exists():
        target = path.with_name(f"{path.stem}-{stamp}-{number}{path.suffix}")
        number += 1
    try:
        os.replace(path, target)
    except OSError as error:
        raise StoreError(f"cannot move the previous class's file {str(path)!r} aside ({error})") from None
    return target


def iso_time(seconds: float | None) -> str:
    """``2025-03-04T10:15:02+01:00``: local time with its offset, to the second ('' for None)."""
    if seconds is None:
        return ""
    return datetime.datetime.fromtimestamp(seconds).astimezone().isoformat(timespec="seconds")


def write_csv(board: ProgressBoard, out: IO[str]) -> int:
    """One row per student and exercise (student, exercise, passed, reason, time) into ``out``; returns how many rows."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    lines = board.rows()
    for name, exercise, passed, reason, at in lines:
        shown = "" if passed is None else ("yes" if passed else "no")
        writer.writerow((_cell(name), exercise, shown, _cell(reason), iso_time(at)))
    return len(lines)


def _cell(text: str) -> str:
    # A spreadsheet runs a cell that starts with = + - @ as a formula: a student's text must stay text.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def export_csv(data_dir: Path | str, room: str, out: IO[str]) -> int:
    """Write room ``room``'s board as CSV into ``out``, reading its file only (a server may be running); returns the rows.

    :class:`StoreError` when the room has no file or it cannot be read.
    """
    path = room_file(data_dir, room)
    if not path.is_file():
        rooms = sorted(p.stem for p in Path(data_dir).glob("*.sqlite3")) if Path(data_dir).is_dir() else []
        have = f"; rooms there: {', '.join(rooms)}" if rooms else ""
        raise StoreError(f"no room {room!r} in {str(Path(data_dir))!r}{have}")
    connection = _connect(path, read_only=True)
    try:
        board = ProgressBoard(_exercises_in(connection))
        reader = RoomStore(path, room, connection, None)
        reader._meta = dict(connection.execute("SELECT key, value FROM room").fetchall())
        reader.load(board)
    except sqlite3.Error as error:
        raise StoreError(f"cannot read the room's data file {str(path)!r} ({error})") from None
    finally:
        connection.close()
    return write_csv(board, out)


def _exercises_in(connection: sqlite3.Connection) -> tuple[Exercise, ...]:
    """The lesson's exercises, then any others the file holds (an older lesson's): the export loses nothing."""
    names = {exercise.name for exercise in EXERCISES}
    extra = [
        Exercise(name, "", core=False)
        for (name,) in connection.execute("SELECT DISTINCT exercise FROM results ORDER BY exercise")
        if name not in names and EXERCISE_NAME.match(name)
    ]
    return (*EXERCISES, *extra)
