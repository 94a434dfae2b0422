"""The rehearsal: a simulated class against a running classroom, as the teacher runs it before class, finding problems."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import Iterator

import pytest

from helpers import free_port, results_by_name
from notebook_run import NOTEBOOKS
from wstutorial import curriculum
from wstutorial.classroom.room import ChatRoom
from wstutorial.classroom.server import Classroom, start_classroom
from wstutorial.tools.rehearsal import EXERCISES, kernel_names, rehearse, source_addresses, student_names

TOKEN = "rehearsal-token"


@pytest.fixture
def classroom() -> Iterator[Classroom]:
    running = start_classroom(port=0, teacher_token=TOKEN, room_name="rehearsal")  # a rehearsal's own room
    try:
        yield running
    finally:
        running.stop()


def test_student_names_are_distinct_valid_and_say_simulated() -> None:
    """Thirty and more names, none twice, each marked -sim; the kernels' names apart from them."""
    names = student_names(65) + kernel_names(35)
    assert len(set(n.casefold() for n in names)) == 100 and all("-sim" in n and len(n) <= 24 - len("-browser") for n in names)
    with pytest.raises(ValueError, match="at least 1"):
        student_names(0)


def test_each_student_has_an_address_of_its_own_on_this_machine() -> None:
    """127.0.0.2, 127.0.0.3, ... for a server on this machine; None (the machine's own) for one elsewhere."""
    assert source_addresses(3, "localhost") == ["127.0.0.2", "127.0.0.3", "127.0.0.4"]
    assert source_addresses(300, "127.0.0.1")[-1] == "127.0.1.45"
    assert source_addresses(2, "192.0.2.1") == [None, None]


def test_a_rehearsal_fills_the_board_tries_bad_names_and_reports(classroom: Classroom) -> None:
    """Everyone joins from their own address, says hello, reports results, one leaves and comes back; bad names are refused."""
    report = asyncio.run(rehearse("localhost", classroom.port, students=6, duration=1.0, seed=7, teacher_token=TOKEN))
    assert report.problems == [] and sorted(set(report.joined)) == sorted(student_names(6))
    assert report.addresses == 6 and report.all_joined_after is not None and report.everyone_in_after is not None
    assert report.lines >= 6 and report.results >= 6 and len(report.board_lags) == report.results
    assert report.teacher_lag is not None and report.worst_chat_latency is not None
    assert len(report.rejoined) == 1
    refused = "\n".join(report.refused_names)
    assert "'Ada-sim' (taken): name 'Ada-sim' is already in the room" in refused
    assert "looks like 'Ada-sim', who is in the room" in refused
    assert "characters that are not allowed" in refused
    rows = classroom.room.board.snapshot()["students"]
    assert sorted(row["name"] for row in rows) == sorted(student_names(6))
    assert {name for name, _, _ in EXERCISES} <= {exercise.name for exercise in curriculum.EXERCISES}  # all stored
    assert classroom.members() == [] and classroom.room.refused == 0
    text = str(report)
    assert "every simulated student was in after" in text and "from 6 addresses of this machine" in text
    assert "worst latency" in text and "worst lag" in text and text.endswith("No problems.")


def test_a_rehearsal_finds_a_limit_that_keeps_a_student_out() -> None:
    """One join per address: three addresses let three students in at once, and the one who leaves cannot come back."""
    strict = start_classroom(port=0, room=ChatRoom(join_rate=0.001, join_burst=1), room_name="rehearsal")
    try:
        report = asyncio.run(rehearse("localhost", strict.port, students=3, duration=0.5, seed=3))
    finally:
        strict.stop()
    assert len(set(report.joined)) == 3 and report.rejoined == []
    (problem,) = report.problems
    assert "left and could not join again" in problem and "too many joins from 127.0.0." in problem
    assert "1 problem(s):" in str(report)


def test_a_rehearsal_from_one_address_waits_for_the_rooms_limit_on_joins() -> None:
    """All simulated students from one address (as from another machine): joins the limit refused are tried again."""
    limited = start_classroom(port=0, room=ChatRoom(join_rate=2.0, join_burst=2, limit_local_joins=True), room_name="rehearsal")
    try:
        report = asyncio.run(rehearse("localhost", limited.port, students=3, duration=0.5, seed=1, addresses=False))
    finally:
        limited.stop()
    assert report.problems == [] and len(set(report.joined)) == 3 and report.addresses == 0
    assert report.waited >= 1 and "waited for the room's limit on joins" in str(report)


def test_a_rehearsal_never_mixes_into_a_class() -> None:
    """Against a class's room: one sentence, nobody joined, no row on the class's board, no kernel started."""
    with start_classroom(port=0) as class_room:  # the default room: a class
        report = asyncio.run(
            rehearse("localhost", class_room.port, students=30, duration=5, kernels=1, notebook=NOTEBOOKS / "06-classroom.ipynb")
        )
        rows = class_room.room.board.snapshot()["students"]
    (problem,) = report.problems
    assert "nobody joined" in problem and "rehearse in a room of its own (classroom --room rehearsal)" in problem
    assert report.joined == [] and report.kernels_done == [] and rows == []


def test_a_wrong_teacher_token_is_a_problem_in_the_report(classroom: Classroom) -> None:
    """The rehearsal watching the board with a wrong token says the teacher's page was closed, and why."""
    report = asyncio.run(rehearse("localhost", classroom.port, students=1, duration=0.3, teacher_token="not-the-token"))
    assert any("teacher's page was closed: code 1008" in problem for problem in report.problems), report.problems


@pytest.mark.timeout(300)
def test_a_student_in_a_real_kernel_runs_notebook_06_in_the_rehearsal(classroom: Classroom) -> None:
    """A real Jupyter kernel runs notebook 06 as Ada-nb-sim next to the simulated students; its result reaches the board;
    a second rehearsal's kernel rejoins that row."""
    report = asyncio.run(
        rehearse(
            "localhost", classroom.port, students=2, duration=1.0, seed=5, kernels=1,
            notebook=NOTEBOOKS / "06-classroom.ipynb", teacher_token=TOKEN,
        )
    )
    assert report.problems == [] and report.kernels_done == ["Ada-nb-sim"]
    assert report.everyone_in_after is not None and "1 of 1 in real kernels ran notebook 06 to the end" in str(report)
    assert "mini_chat" in results_by_name(classroom.room.board.snapshot())["Ada-nb-sim"]
    # The teacher rehearses again (from a student's machine, or the next day): the kernel's row, bound to
    # the secret the room gave it, is still its own.
    again = asyncio.run(
        rehearse("localhost", classroom.port, students=1, duration=0.5, seed=6, kernels=1, notebook=NOTEBOOKS / "06-classroom.ipynb")
    )
    assert again.problems == [] and again.kernels_done == ["Ada-nb-sim"]


def test_the_rehearse_command_reports_and_fails_without_a_server(classroom: Classroom) -> None:
    """`python -m wstutorial rehearse`: the report; nothing listening or a bad token: exit 1 with the reason."""
    command = [sys.executable, "-m", "wstutorial", "rehearse", "--host", "127.0.0.1", "--duration", "0.5", "--kernels", "0", "--students"]
    teacher = f"http://127.0.0.1:{classroom.port}/teacher.html?token={TOKEN}"
    done = subprocess.run([*command, "3", "--port", str(classroom.port), "--teacher-url", teacher], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "3 simulated student(s) joined" in done.stdout and "teacher page: every result there" in done.stdout
    assert done.stdout.rstrip().endswith("No problems.")
    nobody = subprocess.run([*command, "2", "--port", str(free_port())], capture_output=True, text=True, timeout=60)
    assert nobody.returncode == 1 and "0 simulated student(s) joined" in nobody.stdout and "could not join" in nobody.stdout
    bad = subprocess.run([*command, "0"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "students must be a whole number from 1 to 500, got '0'" in bad.stderr
    no_token = subprocess.run([*command, "1", "--teacher-url", "http://127.0.0.1:8888/teacher.html"], capture_output=True, text=True, timeout=60)
    assert no_token.returncode == 2 and "no token in --teacher-url" in no_token.stderr
