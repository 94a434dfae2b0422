"""Commands to show a student, typed the same way in cmd.exe, PowerShell, bash and zsh.

Double quotes, not ``shlex.quote``'s single quotes: cmd.exe does not know
single quotes, and ``"jupyterlab>=4,<5"`` means the same text in every shell.
This very Python is ``python`` when that word finds it (a virtual
environment that is active), else its whole path: a quoted path (one with a
space) would need ``& `` before it in PowerShell, which cmd.exe refuses.
"""

from __future__ import annotations

import os
import re
import shutil
import sys

__all__ = ["shell_quote", "python_name", "python_command", "pip_install_command"]

_PLAIN = re.compile(r"[\w./\\:@+=-]+")


def shell_quote(text: str) -> str:
    """``text`` as one argument: unchanged when plain, else in double quotes.

    Enough for what the tutorial shows (requirements, paths); a text with
    ``"``, ``$`` or a backquote would still be read by a POSIX shell.
    """
    return text if _PLAIN.fullmatch(text) else f'"{text}"'


def python_name() -> str:
    """What to type for this very Python (the one running the tutorial): ``python`` if the word finds it, else its path."""
    found = shutil.which("python")
    if found is not None and _same_path(found, sys.executable):
        return "python"
    return shell_quote(sys.executable)


def _same_path(first: str, second: str) -> bool:
    # Not samefile(): a venv's python is a link to the system's, yet another environment.
    return os.path.normcase(os.path.abspath(first)) == os.path.normcase(os.path.abspath(second))


def python_command(*args: str) -> str:
    """This very Python (see :func:`python_name`) with ``args``."""
    return " ".join((python_name(), *(shell_quote(part) for part in args)))


def pip_install_command(*requirements: str, options: tuple[str, ...] = ()) -> str:
    """``<this python> -m pip install [options] requirement...``."""
    return python_command("-m", "pip", "install", *options, *requirements)
