"""JSON that others wrote (a client's message, a file on disk), read with one sentence for every way it can be too much.

``json.loads`` has two limits that do not raise ``json.JSONDecodeError``:
arrays or objects nested deeper than Python's recursion limit (about a
thousand levels: ``RecursionError``) and integers of more than 4,300 digits
(``ValueError``, Python's guard against slow conversions). :func:`loads`
turns both into :class:`JsonTooComplex`, a ``ValueError`` whose text is a
sentence for the one who sent the data, so every caller that already
refuses bad JSON refuses these too, in one line, as the sender's error.
"""

from __future__ import annotations

import json
import sys
from typing import Any

__all__ = ["JsonTooComplex", "loads"]


class JsonTooComplex(ValueError):
    """JSON nested too deeply, or with a number too long to convert; ``str()`` says which."""


def loads(text: str | bytes) -> Any:
    """``json.loads(text)``; :class:`JsonTooComplex` for too deep nesting or too long integers, ``ValueError`` for the rest."""
    try:
        return json.loads(text)
    except RecursionError:
        raise JsonTooComplex(
            "the JSON is nested too deeply (lists or objects inside each other hundreds of levels deep); send flatter data"
        ) from None
    except ValueError as error:
        if isinstance(error, json.JSONDecodeError) or "integer string conversion" not in str(error):
            raise
        raise JsonTooComplex(
            f"the JSON has a number with more than {sys.get_int_max_str_digits()} digits; send it as a string, or a shorter one"
        ) from None
