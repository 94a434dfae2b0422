"""The application's routes: the student's pages at /my/ serve only the files meant for the class."""

from __future__ import annotations

from pathlib import Path

import wstutorial
from helpers import raw_http_get


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
