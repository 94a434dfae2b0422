"""The rehearsal: simulated students against a running classroom, as the teacher runs it before class."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import Iterator

import pytest

from helpers import free_port
from wstutorial.classroom.room import ChatRoom
from wstutorial.classroom.server import Classroom, start_classroom
from wstutorial.tools.rehearsal import EXERCISES, rehearse, student_names


@pytest.fixture
def classroom() -> Iterator[Classroom]:
    running = start_classroom(port=0, teacher_token="rehearsal-token")
    try:
        yield running
    finally:
        running.stop()


def test_student_names_are_distinct_valid_and_say_simulated() -> None:
    """Thirty and more names, none twice, each marked -sim."""
    names = student_names(65)
    assert len(set(n.casefold() for n in names)) == 65 and all("-sim" in n and len(n) <= 24 for n in names)
    with pytest.raises(ValueError, match="at least 1"):
        student_names(0)


def test_a_rehearsal_fills_the_board_and_leaves(classroom: Classroom) -> None:
    """Every simulated student joins, says hello, reports results for the tutorial's exercises, and leaves."""
    report = asyncio.run(rehearse("localhost", classroom.port, students=6, duration=1.0, seed=7))
    assert report.problems == [] and sorted(report.joined) == sorted(student_names(6))
    assert report.lines == 6 and report.results >= 6
    rows = classroom.room.board.snapshot()["students"]
    assert sorted(rows) == sorted(student_names(6))
    assert set(classroom.room.board.exercises) <= {name for name, _, _ in EXERCISES}
    assert classroom.members() == [] and classroom.room.refused == 0
    assert classroom.server.events.find("Ada-sim left the chat") is not None


def test_a_rehearsal_waits_for_the_rooms_limit_on_joins_from_one_address() -> None:
    """All simulated students come from one machine: joins refused by the per-address limit are tried again."""
    limited = start_classroom(port=0, room=ChatRoom(join_rate=2.0, join_burst=2, limit_local_joins=True))
    try:
        report = asyncio.run(rehearse("localhost", limited.port, students=5, duration=0.5, seed=1))
    finally:
        limited.stop()
    assert report.problems == [] and len(report.joined) == 5
    assert report.waited >= 1 and "waited for the room's limit on joins" in str(report)


def test_the_rehearse_command_reports_and_fails_without_a_server(classroom: Classroom) -> None:
    """`python -m wstutorial rehearse`: a one-line summary; nothing listening: exit 1 with the reason."""
    command = [sys.executable, "-m", "wstutorial", "rehearse", "--host", "127.0.0.1", "--duration", "0.5", "--students"]
    done = subprocess.run([*command, "3", "--port", str(classroom.port)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "3 simulated student(s) joined" in done.stdout and "no problems" in done.stdout
    nobody = subprocess.run([*command, "2", "--port", str(free_port())], capture_output=True, text=True, timeout=60)
    assert nobody.returncode == 1 and "0 simulated student(s) joined" in nobody.stdout and "could not join" in nobody.stdout
    bad = subprocess.run([*command, "0"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "students must be a whole number from 1 to 500, got '0'" in bad.stderr
