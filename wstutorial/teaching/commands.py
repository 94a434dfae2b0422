"""Commands to show a student, typed the same way in cmd.exe, PowerShell, bash and zsh.

Double quotes, not ``shlex.quote``'s single quotes: cmd.exe does not know
single quotes, and ``"jupyterlab>=4,<5"`` means the same text in every shell.
"""

from __future__ import annotations

import re
import sys

__all__ = ["shell_quote", "python_command", "pip_install_command"]

_PLAIN = re.compile(r"[\w./\\:@+=-]+")


def shell_quote(text: str) -> str:
    """``text`` as one argument: unchanged when plain, else in double quotes."""
    return text if _PLAIN.fullmatch(text) else f'"{text}"'


def python_command(*args: str) -> str:
    """This very Python (the one running the tutorial) with ``args``."""
    return " ".join(shell_quote(part) for part in (sys.executable, *args))


def pip_install_command(*requirements: str, options: tuple[str, ...] = ()) -> str:
    """``<this python> -m pip install [options] requirement...``."""
    return python_command("-m", "pip", "install", *options, *requirements)
