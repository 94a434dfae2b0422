"""What every exercise check shares: its result, its one way to stop early, and how it speaks.

A check (``check_upper_case``, ``check_echo``, ...) runs the student's code
for real and returns a :class:`CheckResult`, one sentence: ``Passed: ...``
or ``Not yet: ...`` with what to change. It never raises and never lets a
Python or Tornado message through: the check's code ends early with
:class:`NotYet` (the one check-failure type), and :func:`run_check` /
:func:`run_check_async` turn everything else into a sentence too:

- a coroutine the student's code made and never awaited (a missing
  ``await``): Python would warn about it whenever the object is collected,
  often in a later cell; here the warning is caught within the check's run
  and becomes "you called client.send(...) without await";
- an exception in the student's code: its kind, the student's function and
  the line it stopped at, never the exception's text;
- a value the student's code returned: shown by :func:`describe`, text as
  text, anything else by its kind, never an object's repr.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import inspect
import linecache
import sysconfig
import warnings
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterator

from ..student import progress
from ..wording import a_or_an

__all__ = [
    "CheckResult",
    "NotYet",
    "Raised",
    "describe",
    "coroutine_name",
    "missing_await",
    "run_check",
    "run_check_async",
]


@dataclasses.dataclass(frozen=True)
class CheckResult:
    """The outcome of a check: ``passed`` and one sentence saying why."""

    passed: bool
    message: str

    def __post_init__(self) -> None:
        progress.report(self)  # to the teacher's board, only when this notebook joined a classroom

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        return f"{'Passed' if self.passed else 'Not yet'}: {self.message}"

    def __repr__(self) -> str:
        return str(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))


class NotYet(Exception):
    """Ends a check early; ``str()`` is the sentence for the student: what is wrong and what to change.

    ``generic``: the sentence says only what the check saw ("no answer
    within 3 s"); a cause found in the student's code (an exception there,
    a missing ``await``) is then said instead.
    """

    def __init__(self, sentence: str, *, generic: bool = False) -> None:
        super().__init__(sentence)
        self.generic = generic


# -- what the student's code is -----------------------------------------------------------------

_PACKAGE = Path(__file__).resolve().parents[1]
_LIBRARIES = tuple(
    str(Path(path).resolve()) for path in {sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"],
                                           sysconfig.get_paths()["platlib"]}
)


def _is_students(filename: str) -> bool:
    """True for code the student wrote (a notebook cell, an exercise file), not Python's, a library's or ours."""
    if filename.startswith("<frozen"):
        return False
    if filename.startswith("<"):
        return True  # "<string>", "<ipython-input-...>": typed code
    try:
        path = Path(filename).resolve()
    except (OSError, ValueError):
        return True  # "<string>", "<ipython-input-...>": typed code
    text = str(path)
    if path.is_relative_to(_PACKAGE) or "site-packages" in path.parts or "dist-packages" in path.parts:
        return False
    return not any(text.startswith(library + "/") or text.startswith(library + "\\") for library in _LIBRARIES)


@dataclasses.dataclass(frozen=True)
class Raised:
    """Where the student's code stopped with an exception: its kind, the function, the line.

    Only words and the student's own line are kept (no exception object, so
    no frame outlives the check).
    """

    kind: str
    function: str = ""
    line: int | None = None
    code: str = ""

    @classmethod
    def of(cls, error: BaseException, function: str = "") -> "Raised":
        """Read ``error``'s traceback for the deepest line of the student's code."""
        line: int | None = None
        code = ""
        traceback = error.__traceback__
        while traceback is not None:
            frame_code = traceback.tb_frame.f_code
            if _is_students(frame_code.co_filename):
                line = traceback.tb_lineno
                code = linecache.getline(frame_code.co_filename, line).strip()
                if not function or frame_code.co_name not in ("<module>", "wrapper"):
                    function = frame_code.co_name
            traceback = traceback.tb_next
        return cls(type(error).__name__, function, line, code)

    def where(self) -> str:
        """``"on_message stopped with TypeError at line 9 (self.write_message(len(x)))"``."""
        who = f"your {self.function}" if self.function and self.function != "<module>" else "your code"
        at = f" at line {self.line} ({self.code})" if self.line is not None and self.code else ""
        return f"{who} stopped with {self.kind}{at}"

    def sentence(self) -> str:
        """What happened, and the usual fix for this kind of error."""
        if self.kind == "TypeError" and "await" in self.code.split():
            # e.g. await client.close() where client = wstutorial.connect(...) lacked its await
            return f"{self.where()}: a value on that line cannot be awaited; is an await missing where it was made?"
        return f"{self.where()}: {_FIXES.get(self.kind, 'correct that line, run its cell again, then the check')}"


_FIXES = {
    "NameError": "a name on that line is not defined there (a typo, or a variable of another method: keep it on self)",
    "AttributeError": "a name after a dot on that line does not exist (a typo, or an attribute never set)",
    "TypeError": "a value on that line has the wrong type, or a call has the wrong arguments",
    "KeyError": "a key on that line is not in the dictionary",
    "IndexError": "an index on that line is past the end of the list",
    "ValueError": "a value on that line is not one the call accepts",
    "ZeroDivisionError": "that line divides by zero",
    "NotImplementedError": "a method the check calls is not written yet",
    "RecursionError": "a function on that line calls itself without end",
}


def describe(value: object) -> str:
    """``value`` as a sentence shows it: text and numbers as written, anything else by its kind, never a repr."""
    if value is None or isinstance(value, bool):
        return str(value)
    if value is Ellipsis:
        return "... (the starting point's placeholder)"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return repr(value) if len(value) <= 60 else repr(value[:57]) + "..."
    if isinstance(value, (bytes, bytearray)):
        return f"bytes {bytes(value[:40])!r}" + ("..." if len(value) > 40 else "")
    if inspect.iscoroutine(value):
        return f"a coroutine ({_call_of(*coroutine_name(value))} without await)"
    if isinstance(value, type):
        return f"the class {value.__name__}"
    if callable(value) and hasattr(value, "__name__"):
        return f"the function {value.__name__} itself (not called)"
    if isinstance(value, (list, tuple, set, dict)):
        return f"{a_or_an(type(value).__name__)} of {len(value)}"
    return f"{a_or_an(type(value).__name__)} object"


# -- a missing await --------------------------------------------------------------------------


def _call_of(qualname: str, module: str = "") -> str:
    """``Client.send`` -> ``client.send(...)``; ``connect`` of wstutorial.client -> ``wstutorial.connect(...)``."""
    owner, _, name = qualname.rpartition(".")
    owner = owner.rpartition(".")[2]
    if owner and owner != "<locals>":
        return f"{owner.lower()}.{name}(...)"
    if module.startswith("wstutorial."):
        return f"wstutorial.{name}(...)"  # the package's functions are used as wstutorial.connect
    return f"{name}(...)"


def missing_await(qualname: str, module: str = "") -> str:
    """The sentence for a coroutine that was called without ``await``."""
    call = _call_of(qualname, module)
    return f"you called {call} without await, so it never ran: write await {call}"


def coroutine_name(coroutine: object) -> tuple[str, str]:
    """A coroutine's qualified name and the module of its code, as :func:`missing_await` takes them."""
    frame = getattr(coroutine, "cr_frame", None)
    module = str(frame.f_globals.get("__name__", "")) if frame is not None else ""
    return str(getattr(coroutine, "__qualname__", "")), module


def _ours(coroutine: object) -> bool:
    """A coroutine of the checks themselves (not the student's doing)."""
    code = getattr(coroutine, "cr_code", None)
    return code is not None and Path(code.co_filename).resolve().parent == Path(__file__).resolve().parent


@contextlib.contextmanager
def _catching_unawaited() -> Iterator[list[tuple[str, str]]]:
    """Collects (qualified name, module) of each coroutine made and never awaited inside; no such warning escapes.

    Python warns when such a coroutine is garbage-collected, which may be a
    cell later; a collection at the end of the block makes it happen here.
    Other warnings are passed on as they would have been.
    """
    found: list[tuple[str, str]] = []
    with warnings.catch_warnings(record=True) as caught:
        # "always": the default shows a warning once per place, and a student runs a check many times.
        warnings.simplefilter("always", RuntimeWarning)
        try:
            yield found
        finally:
            gc.collect()
    for warning in caught:
        source = getattr(warning, "source", None)
        if issubclass(warning.category, RuntimeWarning) and "was never awaited" in str(warning.message):
            if not _ours(source):
                name, module = coroutine_name(source)
                found.append((name or str(warning.message).split("'")[1], module))
            continue
        warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno, source=source)


# -- running a check ----------------------------------------------------------------------------

Body = Callable[[], str]
# Given what ended the check (None: it passed), a sentence that names the cause better, or None.
Explain = Callable[["BaseException | None"], "str | None"]


@dataclasses.dataclass(frozen=True)
class _Pending:
    """A result not made yet: a CheckResult reports itself to the board once made, so only the final one is."""

    passed: bool
    message: str


def _pending(sentence: str | None, failure: BaseException | None, explain: Explain | None) -> _Pending:
    better = explain(failure) if explain is not None else None
    if better:
        return _Pending(False, better)
    if failure is None:
        assert sentence is not None
        return _Pending(True, sentence)
    if isinstance(failure, NotYet):
        return _Pending(False, str(failure))
    return _Pending(False, Raised.of(failure).sentence())


def _finish(found: list[tuple[str, str]], pending: _Pending) -> CheckResult:
    if found:  # a missing await is the cause of whatever else went wrong
        return CheckResult(False, missing_await(*found[0]))
    return CheckResult(pending.passed, pending.message)


def run_check(body: Body, explain: Explain | None = None) -> CheckResult:
    """Run ``body`` (it returns the "Passed" sentence or raises :class:`NotYet`) and make its result.

    ``explain(error)`` may give a better sentence for a failure (a
    :class:`NotYet`, or any other exception, which otherwise becomes the
    student's line and the usual fix), or, called with None after a run that
    passed, a reason it still is "Not yet". A coroutine left unawaited wins
    over everything: it is the cause.
    """
    sentence: str | None = None
    failure: BaseException | None = None
    with _catching_unawaited() as found:
        try:
            sentence = body()
        except Exception as error:  # never a traceback for the student
            failure = error
        result = _pending(sentence, failure, explain)
        failure = None  # drop the traceback's frames before the collection
    return _finish(found, result)


async def run_check_async(body: Callable[[], Awaitable[str]], explain: Explain | None = None) -> CheckResult:
    """:func:`run_check` for a check that awaits the student's coroutine."""
    sentence: str | None = None
    failure: BaseException | None = None
    with _catching_unawaited() as found:
        try:
            sentence = await body()
        except Exception as error:  # never a traceback for the student
            failure = error
        result = _pending(sentence, failure, explain)
        failure = None
    return _finish(found, result)
