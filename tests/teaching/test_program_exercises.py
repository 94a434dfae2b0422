"""Notebook 03's standalone program: the starting point and typical wrong programs get 'Not yet' and what to change.

Each wrong answer is the solution with one slip a student makes, run for real
as its own process by the check (a real Tornado, a real port, a real HTTP
fetch and WebSocket handshake). The browser's side of the same program is in
tests/browser/test_program_page.py.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from helpers import ROOT
from wstutorial.teaching.program_exercises import (
    MESSAGES,
    PROGRAM_FILES,
    check_hello_app,
    student_program,
)
from wstutorial.teaching.programs import running_programs

NOTEBOOKS = ROOT / "notebooks"
SOLUTION = (NOTEBOOKS / "solutions" / "hello_app.py").read_text(encoding="utf-8")

LISTEN = '    application.listen(port, address="127.0.0.1")  # only this machine can connect\n'
RUN = '    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 8888))\n'
WAIT = "    await asyncio.Event().wait()  # serve until the program is stopped\n"
PAGE_ROUTE = '        (r"/", PageHandler),\n'
WS_ROUTE = '        (r"/ws", WSHandler),\n'
GREET = '        self.write_message("Hello World")\n'
PRINT_MESSAGE = '        print("message received %s" % message)\n'
CHECK_ORIGIN = "    def check_origin(self, origin):\n        return True\n\n    def open(self):\n"


def edited(*changes: tuple[str, str]) -> str:
    text = SOLUTION
    for old, new in changes:
        assert old in text, f"the solution no longer holds {old!r}: update this table"
        text = text.replace(old, new, 1)
    return text


def starts(key: str) -> str:
    """The fixed start of a MESSAGES sentence (up to its first placeholder)."""
    return MESSAGES[key].split("{", 1)[0]


# (what the student did, the program, the start of the sentence the check must give)
WRONG_ANSWERS = [
    ("the untouched starting point", (NOTEBOOKS / "exercises" / "hello_app.py").read_text(encoding="utf-8"),
     starts("never_runs_main")),
    ("asyncio.run missing: the program exits at once", edited((RUN, "    pass\n")), starts("never_runs_main")),
    ("main returns right after listen", edited((WAIT, "")), starts("main_returns")),
    ("listen missing", edited((LISTEN, "")), starts("never_listens")),
    ("a fixed port, not the one it was given",
     edited((LISTEN, '    application.listen(8888 if port else 0, address="127.0.0.1")\n'),
            (RUN, "    asyncio.run(main(8888))\n")),
     starts("fixed_port")),
    ("the page not served", edited((PAGE_ROUTE, "")), starts("no_page")),
    ("the handler on the wrong route", edited((WS_ROUTE, '        (r"/websocket", WSHandler),\n')), starts("no_websocket")),
    ("page and WebSocket routes swapped",
     edited((PAGE_ROUTE, '        (r"/", WSHandler),\n'), (WS_ROUTE, '        (r"/ws", PageHandler),\n')),
     "/ answers like a WebSocket (HTTP 400)"),
    ("imports wstutorial", edited(("import tornado.web\n", "import tornado.web\nimport wstutorial\n")),
     starts("imports_wstutorial")),
    ("check_origin returns True (the tempting fix for Origin: null)",
     edited(("    def open(self):\n", CHECK_ORIGIN)), starts("accepts_null")),
    ("no greeting on open", edited((GREET, "")), starts("no_greeting")),
    ("on_message prints nothing", edited((PRINT_MESSAGE, "        pass\n")), "your program did not print \"message received"),
    ("a typo that stops the program",
     edited(("tornado.web.Application([", "tornado.web.Aplication([")),
     "your program stopped with an AttributeError at line 41 (application = tornado.web.Aplication([)"),
    ("not Python", edited(("async def main(port):", "async def main(port)")), "line 40 of hello_app.py is not valid Python"),
    ("the page handler writes nothing", edited(('        self.write(PAGE.read_text(encoding="utf-8"))\n', "        pass\n")),
     starts("page_empty")),
]


@pytest.fixture
def program_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "my-program"
    student_program(folder, NOTEBOOKS / "exercises")
    return folder


@pytest.mark.parametrize("what, program, expected", WRONG_ANSWERS, ids=[row[0] for row in WRONG_ANSWERS])
def test_a_wrong_program_gets_not_yet_and_what_to_change(program_folder: Path, what: str, program: str, expected: str) -> None:
    """The check runs the program as its own process and names the fix; the program is stopped afterwards."""
    (program_folder / "hello_app.py").write_text(program, encoding="utf-8")
    shown: list[str] = []
    result = check_hello_app(program_folder / "hello_app.py", show=shown.append, listen_timeout=5.0)
    text = str(result)
    assert text.startswith("Not yet: " + expected), f"{what}: {text}"
    assert "Traceback" not in text and "0x" not in text and "the check stopped" not in text, text
    assert not shown, "a failing program's page is not shown"
    assert not [p for p in running_programs() if p.path.parent == program_folder.resolve()]


def test_the_solution_passes_and_keeps_running(program_folder: Path) -> None:
    """The solution passes; its program keeps running and its page is shown, until the check runs again."""
    shutil.copyfile(NOTEBOOKS / "solutions" / "hello_app.py", program_folder / "hello_app.py")
    shown: list[str] = []
    result = check_hello_app(program_folder / "hello_app.py", show=shown.append)
    try:
        assert str(result).startswith("Passed: your program serves its page at / and its WebSocket at /ws"), str(result)
        assert len(shown) == 1 and shown[0].startswith("http://127.0.0.1:")
        running = [p for p in running_programs() if p.path == (program_folder / "hello_app.py").resolve()]
        assert len(running) == 1
        assert "new connection" in running[0].output and "connection closed" in running[0].output
    finally:
        for program in running_programs():
            if program.path.parent == program_folder.resolve():
                program.stop()


def test_student_program_copies_only_what_is_missing(tmp_path: Path) -> None:
    """The starting files are copied once; a file the student changed is never overwritten."""
    folder = tmp_path / "my-program"
    shown = student_program(folder, NOTEBOOKS / "exercises")
    assert sorted(path.name for path in folder.iterdir()) == sorted(PROGRAM_FILES)
    (folder / "hello_app.py").write_text("mine")
    (folder / "hello_app.html").unlink()
    student_program(folder, NOTEBOOKS / "exercises")
    assert (folder / "hello_app.py").read_text() == "mine"
    assert (folder / "hello_app.html").is_file()
    assert str(shown).startswith("Your program: my-program/hello_app.py, my-program/hello_app.html.")


def test_a_missing_program_gets_a_sentence(tmp_path: Path) -> None:
    """No file: Not yet, naming the cell that makes it."""
    result = check_hello_app(tmp_path / "nowhere.py", show=None)
    assert str(result).startswith("Not yet: there is no ") and "student_program()" in str(result)


def test_the_program_files_come_in_pairs() -> None:
    """exercises/ and solutions/ both hold the program and its page; the page is the same in both."""
    for name in PROGRAM_FILES:
        assert (NOTEBOOKS / "exercises" / name).is_file() and (NOTEBOOKS / "solutions" / name).is_file()
    assert (NOTEBOOKS / "exercises" / "hello_app.html").read_bytes() == (NOTEBOOKS / "solutions" / "hello_app.html").read_bytes()
