"""ProgramView: a standalone program's output, live in a notebook."""

from __future__ import annotations

from pathlib import Path

from wstutorial.teaching.programs import run_program


def test_program_view_shows_the_lines_and_the_end(tmp_path: Path) -> None:
    """ProgramView shows what the program printed and, once it ended with an error, why."""
    from wstutorial.widgets import ProgramView

    script = tmp_path / "count.py"
    script.write_text("for n in range(3):\n    print('line', n, flush=True)\nraise SystemExit(3)\n")
    program = run_program(script)
    try:
        view = ProgramView(program)
        assert program._reader is not None
        program._reader.join(10)
        view.flush()
        assert view.text == "line 0\nline 1\nline 2"
        assert view.status.value == "count.py ended with exit code 3: line 2"
        assert view.stop_button.disabled
        assert repr(view).startswith("ProgramView: what count.py prints (a widget:")
        view.close()
    finally:
        program.stop()
