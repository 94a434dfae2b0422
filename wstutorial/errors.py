"""The package's own errors show as one sentence in a notebook, not as a traceback.

Errors a learner can cause and fix (a port in use, a bad address, a server
that cannot be reached) already say what went wrong and what to do. In
IPython and Jupyter an exception with a ``_render_traceback_`` method is shown
by what that method returns (IPython's documented hook, also used by
ipyparallel), so these errors show their sentence alone; everywhere else
they are ordinary exceptions with their full traceback.
"""

from __future__ import annotations

__all__ = ["Explained"]

_RED = "\x1b[0;31m"
_RESET = "\x1b[0m"


class Explained:
    """Mixin for errors whose message is the whole story: in a notebook, only the sentence shows."""

    def _render_traceback_(self) -> list[str]:
        return [f"{_RED}{type(self).__name__}{_RESET}: {self}"]
