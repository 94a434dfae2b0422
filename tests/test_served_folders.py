"""``/wheels/`` and ``/my/``: only the files meant for the class, by their decoded names (issue 24, item 7)."""

from __future__ import annotations

from pathlib import Path

import pytest

import wstutorial
from helpers import raw_http_get
from wstutorial.classroom import start_classroom


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


def test_my_pages_serve_no_dotfiles_or_dot_folders(tmp_path: Path) -> None:
    """/my/.env, /my/.git/config (and their encoded spellings): 404; the student's page: 200; NUL: 400."""
    (tmp_path / "page.html").write_text("<p>mine</p>")
    (tmp_path / ".env").write_text("PASSWORD=hunter2")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text("[remote] url = secret")
    with wstutorial.start_server(port=0, student_dir=tmp_path) as server:
        assert raw_http_get(server.port, "/my/page.html") == (200, b"<p>mine</p>")
        for path in ("/my/.env", "/my/.git/config", "/my/%2Eenv", "/my/.git%2Fconfig", "/my/sub/../.env"):
            status, body = raw_http_get(server.port, path)
            assert status == 404, (path, status)
            assert b"hunter2" not in body and b"secret" not in body
        assert raw_http_get(server.port, "/my/page%00.html")[0] == 400
