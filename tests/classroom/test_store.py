"""A room kept in SQLite: the board and the teacher token survive a restart, a fresh class moves the old one aside, CSV out."""

from __future__ import annotations

import csv
import datetime
import io
import json
import signal
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

from helpers import free_port, poll_until, results_by_name
from wstutorial.classroom.server import start_classroom
from wstutorial.classroom.store import RoomStore, StoreError, default_data_dir, export_csv, room_file


def next_of(ws: ClientConnection, kind: str) -> dict[str, Any]:
    for _ in range(50):
        message = json.loads(ws.recv(timeout=10))
        if message["type"] == kind:
            return message
    raise AssertionError(f"no {kind!r} message in 50")


def post(ws: ClientConnection, exercise: str, passed: bool, reason: str) -> None:
    ws.send(json.dumps({"type": "progress", "exercise": exercise, "passed": passed, "reason": reason}))
    next_of(ws, "progress")


def test_a_restart_brings_back_the_board_the_token_and_each_students_row(tmp_path: Path) -> None:
    """Same room, same data folder: the same token, the same rows and results; Ada's secret still opens her row."""
    first = start_classroom(port=0, data_dir=tmp_path, room_name="monday")
    token = first.teacher_token
    try:
        with connect(first.chat_url("Ada")) as ada:
            secret = next_of(ada, "welcome")["secret"]
            post(ada, "mini_chat", True, "sent to everyone")
        with connect(first.chat_url("Bob")):
            pass
    finally:
        first.stop()
    assert room_file(tmp_path, "monday").stat().st_mode & 0o077 == 0  # the token is in it: this user's only
    second = start_classroom(port=0, data_dir=tmp_path, room_name="monday")
    try:
        assert second.teacher_token == token
        with connect(second.server.ws_url("/teacher") + f"?token={token}") as teacher:
            board = next_of(teacher, "board")
        assert results_by_name(board) == {"Ada": {"mini_chat": {"passed": True, "reason": "sent to everyone"}}, "Bob": {}}
        assert [row["present"] for row in board["students"]] == [False, False]
        with connect(second.chat_url("Ada")) as impostor:  # Ada's name without her secret: refused
            with pytest.raises(Exception, match="taken"):
                next_of(impostor, "welcome")
        with connect(second.chat_url("Ada") + f"&secret={secret}") as ada:
            assert "secret" not in next_of(ada, "welcome")
    finally:
        second.stop()


def test_a_teacher_token_given_from_python_is_kept_with_the_room(tmp_path: Path) -> None:
    """start_classroom(teacher_token=...) makes it the room's: a restart without one brings back that token."""
    chosen = "chosen-in-python-123"
    start_classroom(port=0, data_dir=tmp_path, room_name="monday").stop()  # the room, with a token of its own
    first = start_classroom(port=0, data_dir=tmp_path, room_name="monday", teacher_token=chosen)
    first.stop()
    second = start_classroom(port=0, data_dir=tmp_path, room_name="monday")
    try:
        assert second.teacher_token == chosen
        with connect(second.server.ws_url("/teacher") + f"?token={chosen}") as teacher:  # the open page reconnects
            next_of(teacher, "board")
    finally:
        second.stop()
    meta = dict(sqlite3.connect(room_file(tmp_path, "monday")).execute("SELECT key, value FROM room"))
    assert meta["token"] == chosen


def test_a_rehearsals_rows_stay_simulated_students_rows_after_a_restart(tmp_path: Path) -> None:
    """A simulated student's row, kept in a rehearsal room's file, still refuses a real student and lets the
    next rehearsal's simulated student in."""
    first = start_classroom(port=0, data_dir=tmp_path, room_name="rehearsal")
    try:
        with connect(first.chat_url("Ada-sim") + "&rehearsal=1") as sim:
            assert "secret" not in next_of(sim, "welcome")
            post(sim, "echo", True, "simulated")
    finally:
        first.stop()
    second = start_classroom(port=0, data_dir=tmp_path, room_name="rehearsal")
    try:
        with connect(second.chat_url("Ada-sim")) as real, pytest.raises(Exception, match="rehearsal's simulated student"):
            next_of(real, "welcome")
        with connect(second.chat_url("Ada-sim") + "&rehearsal=1") as sim:
            next_of(sim, "welcome")
    finally:
        second.stop()


def test_the_board_is_saved_while_the_server_runs(tmp_path: Path) -> None:
    """Not only at stop: within about a second of a result (a crash loses at most that), read by another connection."""
    classroom = start_classroom(port=0, data_dir=tmp_path)
    try:
        with connect(classroom.chat_url("Bob")) as bob:
            post(bob, "ping", False, "not yet")

        def saved() -> bool:
            out = io.StringIO()
            export_csv(tmp_path, "class", out)
            return "Bob,ping,no,not yet," in out.getvalue()

        poll_until(saved, timeout=10)
    finally:
        classroom.stop()


def test_a_fresh_class_moves_the_old_one_aside_with_a_new_token(tmp_path: Path) -> None:
    """``fresh``: an empty board and a new token; the previous file is renamed with the date, never deleted."""
    old = start_classroom(port=0, data_dir=tmp_path)
    with connect(old.chat_url("Ada")):
        pass
    old.stop()
    fresh = start_classroom(port=0, data_dir=tmp_path, fresh=True)
    try:
        assert fresh.teacher_token != old.teacher_token
        assert fresh.room.board.students == {}
        moved = fresh.store.moved_to  # type: ignore[union-attr]
        assert moved is not None and moved.name.startswith(f"class-{datetime.date.today():%Y%m%d}-")
        out = io.StringIO()
        export_csv(tmp_path, moved.stem, out)
        assert "Ada,,,," in out.getvalue()
    finally:
        fresh.stop()


def test_a_rehearsal_and_a_class_never_share_a_board(tmp_path: Path) -> None:
    """Two rooms, two files: what the rehearsal's students did is not on the class's board."""
    rehearsal = start_classroom(port=0, data_dir=tmp_path, room_name="rehearsal")
    try:
        with connect(rehearsal.chat_url("Ada-sim") + "&rehearsal=1") as sim:
            post(sim, "echo", True, "simulated")
    finally:
        rehearsal.stop()
    lesson = start_classroom(port=0, data_dir=tmp_path)
    try:
        assert lesson.room.board.students == {} and lesson.teacher_token != rehearsal.teacher_token
        with connect(lesson.chat_url("Ada-sim") + "&rehearsal=1") as sim, pytest.raises(Exception, match="rehearse in a room of its own"):
            next_of(sim, "welcome")
    finally:
        lesson.stop()


@pytest.mark.parametrize("content", [b"not a database at all, " * 100, b"\x00" * 10])
def test_a_damaged_room_file_stops_the_start_with_its_name_and_is_left_alone(tmp_path: Path, content: bytes) -> None:
    """One sentence naming the file and saying what to do; the file is as it was."""
    path = room_file(tmp_path, "class")
    path.write_bytes(content)
    with pytest.raises(StoreError, match=r"class\.sqlite3.*(move it away|--fresh)"):
        start_classroom(port=0, data_dir=tmp_path)
    assert path.read_bytes() == content


def test_a_room_opens_in_one_server_at_a_time(tmp_path: Path) -> None:
    """A second server on the same room is refused with a sentence (the first keeps writing alone)."""
    first = start_classroom(port=0, data_dir=tmp_path)
    try:
        with pytest.raises(StoreError, match="room 'class' is open in another classroom server"):
            RoomStore.open(tmp_path, "class")
    finally:
        first.stop()
    RoomStore.open(tmp_path, "class").close()  # free again


def test_the_layout_of_a_room_file(tmp_path: Path) -> None:
    """Three tables; a secret kept as its SHA-256 only; times in seconds since 1970."""
    classroom = start_classroom(port=0, data_dir=tmp_path)
    try:
        with connect(classroom.chat_url("Ada")) as ada:
            secret = next_of(ada, "welcome")["secret"]
            post(ada, "echo", True, "ok")
    finally:
        classroom.stop()
    db = sqlite3.connect(room_file(tmp_path, "class"))
    tables = {name: [column[1] for column in db.execute(f"PRAGMA table_info({name})")] for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables == {
        "room": ["key", "value"],
        "students": ["key", "name", "secret_hash", "joined", "active"],
        "results": ["student", "exercise", "passed", "reason", "at", "first", "passed_at"],
    }
    meta = dict(db.execute("SELECT key, value FROM room"))
    assert meta["token"] == classroom.teacher_token and meta["name"] == "class" and meta["schema"] == "1"
    assert secret not in room_file(tmp_path, "class").read_text(encoding="latin-1")
    ((passed, at),) = db.execute("SELECT passed, at FROM results")
    assert passed == 1 and abs(at - datetime.datetime.now().timestamp()) < 600


def test_the_csv_export_one_row_per_student_and_exercise(tmp_path: Path) -> None:
    """student, exercise, passed, reason, ISO time; a reason that looks like a formula stays text; the same from the page."""
    classroom = start_classroom(port=0, data_dir=tmp_path, teacher_token="csv-token-123")
    try:
        with connect(classroom.chat_url("Ada")) as ada:
            post(ada, "mini_chat", False, "=HYPERLINK(\"http://x\")")
            post(ada, "upper_case", True, "HELLO, \"class\"")
        with connect(classroom.chat_url("Bob")):
            pass
        request = urllib.request.Request(classroom.server.page_url("teacher/board.csv"), headers={"X-Teacher-Token": "csv-token-123"})
        with urllib.request.urlopen(request, timeout=10) as response:
            served = response.read().decode()
            assert response.headers["Content-Disposition"] == f'attachment; filename="class-{datetime.date.today().isoformat()}.csv"'
        for headers in ({}, {"X-Teacher-Token": "wrong-token-123"}):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(urllib.request.Request(classroom.server.page_url("teacher/board.csv"), headers=headers), timeout=10)
            assert refused.value.code == 403
        with pytest.raises(urllib.error.HTTPError):  # the token in the address is not enough: it would show and stay in history
            urllib.request.urlopen(classroom.server.page_url("teacher/board.csv?token=csv-token-123"), timeout=10)
    finally:
        classroom.stop()
    out = io.StringIO()
    assert export_csv(tmp_path, "class", out) == 3
    assert out.getvalue() == served
    rows = list(csv.reader(io.StringIO(served)))
    assert rows[0] == ["student", "exercise", "passed", "reason", "time"]
    assert [row[:4] for row in rows[1:]] == [
        ["Ada", "upper_case", "yes", "HELLO, \"class\""],  # lesson order: 01 before 06
        ["Ada", "mini_chat", "no", "'=HYPERLINK(\"http://x\")"],
        ["Bob", "", "", ""],  # joined, no result yet
    ]
    assert datetime.datetime.fromisoformat(rows[1][4]).tzinfo is not None


def test_the_default_data_folder_is_per_user_or_the_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """$WSTUTORIAL_DATA_DIR when set (the tests set it), else wstutorial/classroom in Jupyter's per-user data folder."""
    monkeypatch.setenv("WSTUTORIAL_DATA_DIR", str(tmp_path))
    assert default_data_dir() == tmp_path
    monkeypatch.delenv("WSTUTORIAL_DATA_DIR")
    from jupyter_core.paths import jupyter_data_dir

    assert default_data_dir() == Path(jupyter_data_dir()) / "wstutorial" / "classroom"


# -- the command line -------------------------------------------------------------------------------


def classroom_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "wstutorial", "classroom", *args]


def test_the_command_says_where_the_room_is_kept_at_start_and_at_ctrl_c(tmp_path: Path) -> None:
    """Start: the file and what it holds; Ctrl-C: the file again and the export line; the next start reads it back."""
    port = free_port()
    for run in (1, 2):
        process = subprocess.Popen(
            classroom_command("--host", "127.0.0.1", "--port", str(port), "--data-dir", str(tmp_path), "--room", "tuesday"),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        assert process.stdout is not None
        lines = []
        while "Press Ctrl-C" not in (line := process.stdout.readline()):
            assert line, (lines, process.stderr.read() if process.stderr else "")
            lines.append(line)
        started = "".join(lines)
        where = room_file(tmp_path, "tuesday")
        if run == 1:
            assert f"Room 'tuesday': board and teacher token kept in {where} (0 students, 0 results)" in started
            assert f"python -m wstutorial classroom --room rehearsal --port {port}, then python -m wstutorial rehearse" in started
            with connect(f"ws://127.0.0.1:{port}/chat?name=Ada") as ada:
                post(ada, "echo", True, "ok")
        else:
            assert f"kept in {where} (1 student, 1 result)" in started
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
        assert process.returncode == 0 and "Traceback" not in err
        assert f"Room 'tuesday' kept in {where} (1 student, 1 result)." in out
        assert "python -m wstutorial classroom --room tuesday --export tuesday.csv" in out


def test_the_command_exports_without_a_server_and_refuses_the_old_board_file(tmp_path: Path) -> None:
    """``--export FILE.csv`` reads the room's file and exits; an unknown room names those there; ``--board-file`` says what replaced it."""
    with start_classroom(port=0, data_dir=tmp_path, room_name="wednesday") as classroom:
        with connect(classroom.chat_url("Grace")) as grace:
            post(grace, "echo", True, "ok")
    target = tmp_path / "out.csv"
    done = subprocess.run(classroom_command("--data-dir", str(tmp_path), "--room", "wednesday", "--export", str(target)),
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0 and f"Wrote 1 row(s) of room 'wednesday' to {target}" in done.stdout
    assert target.read_text(encoding="utf-8").splitlines()[1].startswith("Grace,echo,yes,ok,")
    unknown = subprocess.run(classroom_command("--data-dir", str(tmp_path), "--room", "thursday", "--export", "-"),
                             capture_output=True, text=True, timeout=60)  # fmt: skip
    assert unknown.returncode == 1 and "no room 'thursday'" in unknown.stderr and "rooms there: wednesday" in unknown.stderr
    missing = subprocess.run(classroom_command("--data-dir", str(tmp_path), "--room", "thursday", "--export", str(tmp_path / "t.csv")),
                             capture_output=True, text=True, timeout=60)  # fmt: skip
    assert missing.returncode == 1 and not (tmp_path / "t.csv").exists()  # no empty file left behind
    gone = subprocess.run(classroom_command("--board-file", "board.json"), capture_output=True, text=True, timeout=60)
    assert gone.returncode == 2 and "--board-file is gone" in gone.stderr and "Traceback" not in gone.stderr
    bad = subprocess.run(classroom_command("--room", "../etc"), capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "a room's name is 1 to 40 letters" in bad.stderr
