"""Commands shown to a student: plain words as they are, anything else in double quotes, read back by a real shell."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from wstutorial.teaching.commands import pip_install_command, python_command, shell_quote

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


def test_pip_install_is_this_python_with_options_before_the_requirements() -> None:
    """The command names the Python running the tutorial, then -m pip install, the options, the quoted requirements."""
    assert pip_install_command("jupyterlab>=4,<5", "ipywidgets", options=("--upgrade",)) == (
        f'{shell_quote(sys.executable)} -m pip install --upgrade "jupyterlab>=4,<5" ipywidgets'
    )
    assert python_command() == shell_quote(sys.executable)


@pytest.mark.parametrize("shell", ["/bin/sh", "/bin/bash"])
def test_a_shell_gives_python_each_text_as_one_argument_unchanged(shell: str) -> None:
    """Typed into a real POSIX shell, the command reaches this Python with exactly the texts as its arguments."""
    command = python_command("-c", "import json, sys; print(json.dumps(sys.argv[1:]))", *TEXTS)
    result = subprocess.run(command, shell=True, executable=shell, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == TEXTS
