"""The wheelhouse at ``/wheels/`` on the classroom server: a find-links page of the wheels only, by their decoded names (issue 24, item 7)."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest

from class_wheels import fake_wheel
from helpers import raw_http_get
from wstutorial.classroom import start_classroom
from wstutorial.classroom.wheels import student_install_command


def test_wheels_serves_only_plain_wheels_of_the_folder(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """NUL: 400; a subfolder's wheel through %2F, a hidden wheel, a linked wheel: 404 and not listed; the real one: 200."""
    wheels = tmp_path / "wheels"
    (wheels / "sub").mkdir(parents=True)
    (wheels / "app-1.0-py3-none-any.whl").write_bytes(b"the wheel")
    (wheels / "sub" / "x.whl").write_bytes(b"from a subfolder")
    (wheels / ".hidden.whl").write_bytes(b"hidden")
    outside = tmp_path / "secret.whl"
    outside.write_bytes(b"outside the folder")
    (wheels / "linked-1.0-py3-none-any.whl").symlink_to(outside)
    with start_classroom(port=0, wheels=wheels) as classroom:
        port = classroom.port
        status, page = raw_http_get(port, "/wheels/")
        assert status == 200 and b"app-1.0-py3-none-any.whl" in page
        assert b"linked" not in page and b"hidden" not in page
        assert raw_http_get(port, "/wheels/app-1.0-py3-none-any.whl") == (200, b"the wheel")
        assert raw_http_get(port, "/wheels/x%00.whl")[0] == 400
        for path in ("/wheels/sub%2Fx.whl", "/wheels/sub%5Cx.whl", "/wheels/.hidden.whl", "/wheels/linked-1.0-py3-none-any.whl"):
            status, body = raw_http_get(port, path)
            assert status == 404, (path, status)
            assert b"from a subfolder" not in body and b"outside" not in body and b"hidden" not in body
        assert not [event for event in classroom.events.snapshot() if event.kind == "error"]
    # Refusals are events, not Tornado's warnings printed from the server's thread.
    assert not [record.getMessage() for record in caplog.records if record.name.startswith("tornado")]


def get(url: str) -> tuple[int, bytes, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read(), response.url
    except urllib.error.HTTPError as error:
        return error.code, b"", url


def test_classroom_serves_only_the_wheels_as_a_find_links_page(tmp_path: Path) -> None:
    wheel = fake_wheel(tmp_path, "app", "1.0", [])
    (tmp_path / "<b>bold-1.0-py3-none-any.whl").write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("not for students")
    with start_classroom(port=0, wheels=tmp_path) as classroom:
        base = classroom.server.url.rstrip("/")
        status, page, _ = get(base + "/wheels/")
        assert status == 200
        text = page.decode()
        assert '<a href="app-1.0-py3-none-any.whl">app-1.0-py3-none-any.whl</a>' in text
        assert "&lt;b&gt;bold" in text and "<b>" not in text and "notes.txt" not in text
        assert get(base + "/wheels/app-1.0-py3-none-any.whl")[:2] == (200, wheel.read_bytes())
        assert get(base + "/wheels")[2] == base + "/wheels/"  # relative links need the slash
        assert get(base + "/wheels/notes.txt")[0] == 404
        assert get(base + "/wheels/..%2fnotes.txt")[0] in (403, 404)
        assert get(base + "/hello.html")[0] == 200  # the pages still work
    assert student_install_command(base) == (
        f'python -m pip install --no-index --find-links {base}/wheels/ "wstutorial[notebook]"'
    )


def test_a_missing_wheel_folder_is_a_sentence_before_the_server_starts(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="make it first: python -m wstutorial wheelhouse"):
        start_classroom(port=0, wheels=tmp_path / "nowhere")
