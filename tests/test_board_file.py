"""The progress board kept in a file (``classroom --board-file``): survives a restart, saved atomically, a bad file stops the start."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

from helpers import free_port, poll_until
from wstutorial.classroom.board import BoardFileError, ProgressBoard
from wstutorial.classroom.server import start_classroom

TOKEN = "board-file-token-123"


def next_of(ws: ClientConnection, kind: str) -> dict[str, Any]:
    for _ in range(50):
        message = json.loads(ws.recv(timeout=10))
        if message["type"] == kind:
            return message
    raise AssertionError(f"no {kind!r} message in 50")


def test_results_survive_a_classroom_restart(tmp_path: Path) -> None:
    """A result sent before the stop is on the teacher's board after the start, from the file."""
    path = tmp_path / "board.json"
    first = start_classroom(port=0, teacher_token=TOKEN, board_file=path)
    try:
        with connect(first.chat_url("Ada")) as ada:
            ada.send(json.dumps({"type": "progress", "exercise": "mini_chat", "passed": True, "reason": "sent to everyone"}))
            next_of(ada, "progress")
    finally:
        first.stop()
    assert not list(tmp_path.glob(".*.tmp"))  # the temporary file was renamed, not left behind
    second = start_classroom(port=0, teacher_token=TOKEN, board_file=path)
    try:
        with connect(second.server.ws_url("/teacher") + f"?token={TOKEN}") as teacher:
            board = next_of(teacher, "board")
        assert board["students"] == {"Ada": {"mini_chat": {"passed": True, "reason": "sent to everyone"}}}
    finally:
        second.stop()


def test_the_board_is_saved_while_the_server_runs(tmp_path: Path) -> None:
    """Not only at stop: within about a second of a result (a crash loses at most that)."""
    path = tmp_path / "board.json"
    classroom = start_classroom(port=0, teacher_token=TOKEN, board_file=path)
    try:
        with connect(classroom.chat_url("Bob")) as bob:
            bob.send(json.dumps({"type": "progress", "exercise": "ping_pong", "passed": False, "reason": "not yet"}))
            next_of(bob, "progress")
        # No event per save (one a second would flood the teacher's terminal): read the file.
        poll_until(lambda: path.exists() and "ping_pong" in path.read_text(encoding="utf-8"), timeout=10)
        assert ProgressBoard.load(path).rows["Bob"]["ping_pong"]["passed"] is False
    finally:
        classroom.stop()


def test_a_failed_save_leaves_the_old_file_whole(tmp_path: Path) -> None:
    """Atomic: the JSON goes to a temporary file that replaces the board file only once complete."""
    path = tmp_path / "board.json"
    board = ProgressBoard()
    board.record("Ada", "mini_chat", True, "ok", 1.0)
    board.save(path)
    before = path.read_bytes()
    board.rows["Ada"]["mini_chat"]["reason"] = {1, 2}  # not JSON: the dump fails half-way
    with pytest.raises(TypeError):
        board.save(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["board.json"]


@pytest.mark.parametrize("content", [b"{not json", b'{"version": 1, "exercises": [], "students": {"Ada": {"x": {"passed": "yes"}}}}', b"\xff\xfe"])
def test_a_corrupt_board_file_stops_the_start_with_its_name(tmp_path: Path, content: bytes) -> None:
    """One sentence naming the file and what to do; the file is not touched."""
    path = tmp_path / "board.json"
    path.write_bytes(content)
    with pytest.raises(BoardFileError, match="board.json.*move it away"):
        start_classroom(port=0, board_file=path)
    assert path.read_bytes() == content


def test_the_command_line_reads_and_refuses_board_files(tmp_path: Path) -> None:
    """``classroom --board-file``: a bad file is one line on stderr and exit 1, no traceback, file untouched."""
    path = tmp_path / "board.json"
    path.write_text("{broken", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "wstutorial", "classroom", "--host", "127.0.0.1", "--port", "0", "--board-file", str(path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1, result
    assert str(path) in result.stderr and "Traceback" not in result.stderr
    assert path.read_text(encoding="utf-8") == "{broken"


def test_the_command_line_keeps_the_board_over_ctrl_c_and_a_restart(tmp_path: Path) -> None:
    """``classroom --board-file``: says where the board is kept, saves at Ctrl-C, reads it back on the next start."""
    path = tmp_path / "board.json"
    port = free_port()

    def start() -> tuple[subprocess.Popen[str], list[str]]:
        process = subprocess.Popen(
            [sys.executable, "-m", "wstutorial", "classroom", "--host", "127.0.0.1", "--port", str(port), "--board-file", str(path)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONUNBUFFERED="1"),
        )  # fmt: skip
        assert process.stdout is not None
        lines: list[str] = []
        while not any("Press Ctrl-C" in line for line in lines):
            line = process.stdout.readline()
            assert line, f"classroom ended early: {lines} {process.stderr.read()}"  # type: ignore[union-attr]
            lines.append(line)
        return process, lines

    first, lines = start()
    try:
        assert any(f"Progress board kept in {path} (0 results read from it)" in line for line in lines), lines
        with connect(f"ws://127.0.0.1:{port}/chat?name=Ada") as ada:
            ada.send(json.dumps({"type": "progress", "exercise": "mini_chat", "passed": True, "reason": "ok"}))
            next_of(ada, "progress")
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=30)
    assert first.returncode == 0
    second, lines = start()
    try:
        assert any("(1 result read from it)" in line for line in lines), lines
    finally:
        second.send_signal(signal.SIGINT)
        second.communicate(timeout=30)
