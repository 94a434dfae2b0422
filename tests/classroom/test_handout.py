"""The students' handout at /handout: the classroom's real address, the install line, the name rules, what to do when stuck."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest

from wstutorial.classroom import start_classroom
from wstutorial.classroom.handout import UNKNOWN_HOST, student_hosts


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_students_type_the_machines_network_address_not_loopback() -> None:
    """Every interface: the network addresses; one address: that one; loopback only (a rehearsal): localhost."""
    assert student_hosts("0.0.0.0", ["192.168.1.5", "10.0.0.7"]) == ["192.168.1.5", "10.0.0.7"]
    assert student_hosts("0.0.0.0", []) == [UNKNOWN_HOST]
    assert student_hosts("192.168.1.5", ["10.0.0.7"]) == ["192.168.1.5"]
    assert student_hosts("127.0.0.1", ["192.168.1.5"]) == ["localhost"]


def test_the_handout_has_the_install_line_from_the_teachers_wheels(tmp_path: Path) -> None:
    """With --wheels: pip from this server only; HOST and PORT to type; the chat page; no teacher token anywhere."""
    with start_classroom(port=0, wheels=tmp_path, teacher_token="handout-secret-token") as classroom:
        status, page = get(classroom.server.page_url("handout"))
        base = f"http://localhost:{classroom.port}"
        assert status == 200
        assert f'python -m pip install --no-index --find-links {base}/wheels/ "wstutorial[notebook]"' in page.replace("&quot;", '"')
        assert f'HOST, PORT = "localhost", {classroom.port}' in page.replace("&quot;", '"')
        # The join cell for 01 to 05, so that every check reaches the board as it runs.
        assert f'lesson = await Lesson.begin("Ada L.", "localhost", {classroom.port})' in page.replace("&quot;", '"')
        assert f"{base}/chat.html" in page and "1 to 24 letters" in page and "HOST = None" in page
        assert "this machine only (a rehearsal)" in page  # the teacher sees that students cannot reach it
        assert "handout-secret-token" not in page
        # Only this server's own addresses: nobody prints a handout that sends the class to another machine.
        assert get(classroom.server.page_url("handout?host=evil.example"))[0] == 404


def test_without_wheels_the_handout_installs_from_pypi() -> None:
    """No wheelhouse served: the ordinary pip line, with nothing of /wheels/."""
    with start_classroom(port=0) as classroom:
        status, page = get(classroom.server.page_url("handout"))
    assert status == 200 and 'python -m pip install "wstutorial[notebook]"' in page.replace("&quot;", '"')
    assert "/wheels/" not in page


@pytest.mark.parametrize("bad", ["<script>", "192.168.1.5:80"])
def test_a_host_that_is_not_the_servers_is_refused(bad: str) -> None:
    """?host= is checked against the server's own addresses (here: localhost only)."""
    with start_classroom(port=0) as classroom:
        assert get(classroom.server.page_url(f"handout?host={bad}"))[0] == 404
