"""Commands shown to a student: plain words as they are, anything else in double quotes, read back by a real shell."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from wstutorial.teaching.commands import pip_install_command, python_command, python_name, shell_quote

# Texts a command shows: requirements with comparisons, globs and commas, a path with a space, an empty argument.
TEXTS = ["jupyterlab>=4,<5", "ipywidgets==8.*", "notebook<7; python_version<'3.9'", "/home/ada/my notebooks", "50%", ""]


@pytest.mark.parametrize("text", ["jupyterlab", "-m", "--upgrade", "wstutorial==1.0", "/usr/bin/python3.11", "user@host:8888"])
def test_plain_text_is_left_as_it_is(text: str) -> None:
    """Letters, digits and . / : @ + = - need no quotes in any shell, so none are added."""
    assert shell_quote(text) == text


@pytest.mark.parametrize("text", TEXTS)
def test_other_text_is_put_in_double_quotes(text: str) -> None:
    """Spaces, < > , * ; % or nothing at all: double quotes (cmd.exe knows no single quotes)."""
    assert shell_quote(text) == f'"{text}"'


def test_pip_install_is_this_python_with_options_before_the_requirements(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command names the Python running the tutorial, then -m pip install, the options, the quoted requirements."""
    monkeypatch.setenv("PATH", "")  # the word python finds nothing: the path it is
    assert pip_install_command("jupyterlab>=4,<5", "ipywidgets", options=("--upgrade",)) == (
        f'{shell_quote(sys.executable)} -m pip install --upgrade "jupyterlab>=4,<5" ipywidgets'
    )
    assert python_command() == python_name() == shell_quote(sys.executable)


def test_an_active_environments_python_is_the_word_python(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the word python finds this very Python (an active venv), the command says python; another one, the path."""
    active = tmp_path / "my env" / "bin"
    active.mkdir(parents=True)
    (active / "python").symlink_to(sys.executable)
    monkeypatch.setattr(sys, "executable", str(active / "python"))
    monkeypatch.setenv("PATH", str(active))
    assert pip_install_command("ipywidgets") == "python -m pip install ipywidgets"
    other = tmp_path / "other"
    other.mkdir()
    (other / "python").symlink_to(active / "python")  # the same program, another environment's name
    monkeypatch.setenv("PATH", str(other))
    assert python_name() == f'"{active / "python"}"'


@pytest.mark.parametrize("shell", ["/bin/sh", "/bin/bash"])
def test_a_shell_gives_python_each_text_as_one_argument_unchanged(shell: str) -> None:
    """Typed into a real POSIX shell, the command reaches this Python with exactly the texts as its arguments."""
    command = python_command("-c", "import json, sys; print(json.dumps(sys.argv[1:]))", *TEXTS)
    result = subprocess.run(command, shell=True, executable=shell, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == TEXTS
