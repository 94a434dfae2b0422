"""A static check for POSIX-only code on the student's path (Windows and macOS laptops).

CI runs on Linux only, where ``os.fork`` or ``loop.add_signal_handler`` work;
on a Windows laptop they raise. :func:`posix_only_uses` reads Python source
(a module, or a notebook cell) with :mod:`ast` and names every such use that
is not inside code guarded by a platform check: an ``if``/``while``/conditional
expression whose test looks at ``sys.platform``, ``os.name``,
``platform.system()``, ``hasattr``/``getattr`` or ``TYPE_CHECKING``, a
``try`` that catches ``ImportError``/``AttributeError``, or a function named
for its platform (``_read_linux``, ``_stop_posix``), which its callers pick
under such a check.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Iterator, Sequence

__all__ = ["posix_only_uses", "notebook_sources", "student_path_files"]

MODULES = {
    "fcntl": "fcntl (no Windows version)",
    "termios": "termios (no Windows version)",
    "tty": "tty (needs termios)",
    "pty": "pty (POSIX only)",
    "pwd": "pwd (no Windows version; use getpass.getuser())",
    "grp": "grp (no Windows version)",
    "resource": "resource (no Windows version)",
    "posix": "posix (use os)",
    "crypt": "crypt (POSIX only)",
    "syslog": "syslog (POSIX only)",
}

ATTRIBUTES = {
    ("os", name): f"os.{name} (POSIX only)"
    for name in (
        "fork", "forkpty", "setsid", "setpgrp", "setpgid", "getpgid", "killpg", "geteuid", "getuid",
        "getegid", "getgid", "chown", "lchown", "mkfifo", "getloadavg", "nice", "sync", "WNOHANG",
    )
}
ATTRIBUTES.update(
    {
        ("signal", name): f"signal.{name} (not on Windows)"
        for name in (
            "SIGKILL", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGALRM", "SIGCHLD", "SIGQUIT", "SIGPIPE",
            "SIGSTOP", "SIGCONT", "SIGTSTP", "SIGWINCH", "alarm", "pause", "setitimer", "getitimer",
            "siginterrupt", "pthread_kill", "pthread_sigmask", "sigwait",
        )
    }
)
ATTRIBUTES[("os", "kill")] = "os.kill (on Windows it ends the process at once; use Popen.terminate())"
ATTRIBUTES[("os", "system")] = "os.system (runs a shell: cmd.exe on Windows; use subprocess with a list)"
ATTRIBUTES[("time", "tzset")] = "time.tzset (not on Windows)"

# Any object's method of these names (asyncio loops on Windows raise NotImplementedError).
METHODS = {
    "add_signal_handler": "loop.add_signal_handler (not on Windows; use signal.signal in the main thread)",
    "remove_signal_handler": "loop.remove_signal_handler (not on Windows)",
}

KEYWORDS = {
    "preexec_fn": "preexec_fn= (POSIX only)",
    "start_new_session": "start_new_session= (POSIX only)",
    "process_group": "process_group= (POSIX only)",
    "pass_fds": "pass_fds= (POSIX only)",
}

# String constants: hard-coded POSIX paths and shells.
POSIX_PATH = re.compile(r"^(/tmp|/dev/|/bin/|/usr/bin/|/proc/|/etc/|/var/)")
SHELL_COMMAND = re.compile(r"(^|[\s'\"`:(])(bash|/bin/sh)(\s|$)|^sh(\s|$)")

# sys.platform, os.name, platform.system(), and names like hasattr(...), TYPE_CHECKING, WINDOWS.
GUARD_ATTRIBUTES = {("sys", "platform"), ("os", "name"), ("platform", "system"), ("platform", "platform")}
GUARD_NAMES = {"hasattr", "getattr", "TYPE_CHECKING", "WINDOWS", "ON_WINDOWS", "POSIX"}
PLATFORM_SUFFIXES = ("_posix", "_linux", "_darwin", "_macos", "_windows")
GUARD_ERRORS = {"ImportError", "ModuleNotFoundError", "AttributeError"}


def _is_guard(test: ast.AST) -> bool:
    """Does a condition look at the platform (sys.platform, os.name, platform.system(), hasattr ...)?"""
    for node in ast.walk(test):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if (node.value.id, node.attr) in GUARD_ATTRIBUTES:
                return True
        if isinstance(node, ast.Name) and node.id in GUARD_NAMES:
            return True
    return False


def _catches_platform_errors(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    names = [handler.type] if not isinstance(handler.type, ast.Tuple) else list(handler.type.elts)
    return any(isinstance(name, ast.Name) and name.id in GUARD_ERRORS for name in names)


def _docstring_ids(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            ids.add(id(node.value))
    return ids


class _Finder(ast.NodeVisitor):
    def __init__(self, docstrings: set[int]) -> None:
        self.guarded = 0
        self.docstrings = docstrings
        self.found: list[tuple[int, str]] = []

    def _report(self, node: ast.AST, what: str) -> None:
        if not self.guarded:
            self.found.append((getattr(node, "lineno", 0), what))

    def _visit_guarded(self, nodes: Sequence[ast.AST]) -> None:
        self.guarded += 1
        for node in nodes:
            self.visit(node)
        self.guarded -= 1

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        # A function named for its platform (_stop_posix, _read_linux) is that platform's
        # branch: its callers choose it under a platform check.
        if node.name.endswith(PLATFORM_SUFFIXES):
            self._visit_guarded([*node.decorator_list, *node.body])
        else:
            self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_If(self, node: ast.If | ast.While) -> None:
        if _is_guard(node.test):
            self._visit_guarded([node.test, *node.body, *node.orelse])
        else:
            self.generic_visit(node)

    visit_While = visit_If

    def visit_IfExp(self, node: ast.IfExp) -> None:
        if _is_guard(node.test):
            self._visit_guarded([node.test, node.body, node.orelse])
        else:
            self.generic_visit(node)

    def visit_Try(self, node: ast.Try) -> None:
        if any(_catches_platform_errors(handler) for handler in node.handlers):
            self._visit_guarded(node.body)
            for rest in (*node.handlers, *node.orelse, *node.finalbody):
                self.visit(rest)
        else:
            self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            top = alias.name.split(".")[0]
            if top in MODULES:
                self._report(node, f"import {MODULES[top]}")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        top = (node.module or "").split(".")[0]
        if node.level == 0 and top in MODULES:
            self._report(node, f"import {MODULES[top]}")
        for alias in node.names:
            if (top, alias.name) in ATTRIBUTES:
                self._report(node, ATTRIBUTES[(top, alias.name)])

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if isinstance(node.value, ast.Name) and (node.value.id, node.attr) in ATTRIBUTES:
            self._report(node, ATTRIBUTES[(node.value.id, node.attr)])
        elif node.attr in METHODS:
            self._report(node, METHODS[node.attr])
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        for keyword in node.keywords:
            if keyword.arg in KEYWORDS:
                self._report(node, KEYWORDS[keyword.arg])
            if keyword.arg == "shell" and isinstance(keyword.value, ast.Constant) and keyword.value.value is True:
                self._report(node, "shell=True (a different shell on Windows; pass a list of arguments)")
        function = node.func
        name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")
        if name in ("get_context", "set_start_method") and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and first.value in ("fork", "forkserver"):
                self._report(node, f"multiprocessing start method {first.value!r} (not on Windows)")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and id(node) not in self.docstrings:
            text = node.value.strip()
            if POSIX_PATH.match(text):
                self._report(node, f"hard-coded POSIX path {text[:40]!r} (use pathlib / tempfile)")
            elif SHELL_COMMAND.search(text):
                self._report(node, f"bash/sh command {text[:40]!r} (no bash on Windows; use Python)")


def posix_only_uses(source: str, filename: str = "<source>") -> list[str]:
    """Every unguarded POSIX-only use in ``source``, as ``filename:line: what``."""
    tree = compile(source, filename, "exec", flags=ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)
    finder = _Finder(_docstring_ids(tree))
    finder.visit(tree)
    return [f"{filename}:{line}: {what}" for line, what in finder.found]


def notebook_sources(path: Path) -> Iterator[tuple[str, str]]:
    """(name, source) of each code cell, IPython magics and shell escapes blanked (they are not Python)."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        lines = []
        for line in source.splitlines():
            stripped = line.lstrip()
            if stripped.startswith("!"):
                lines.append(f"{line[: len(line) - len(stripped)]}_shell({stripped[1:]!r})")
            elif stripped.startswith("%"):
                lines.append(line[: len(line) - len(stripped)] + "pass")
            else:
                lines.append(line)
        yield f"{path.name}[cell {index}]", "\n".join(lines)


def student_path_files(root: Path) -> list[Path]:
    """What runs on a student's laptop: the package, and everything under notebooks/."""
    files = sorted((root / "wstutorial").rglob("*.py"))
    notebooks = root / "notebooks"
    files += sorted(p for p in notebooks.rglob("*.py") if ".ipynb_checkpoints" not in p.parts)
    files += sorted(p for p in notebooks.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    return files
