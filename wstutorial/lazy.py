"""Names of a package imported on first use, so that importing the package loads nothing else.

Every ``__init__.py`` of wstutorial uses it: ``import wstutorial`` loads no
server, ``import wstutorial.client`` no classroom, and the panels load
ipywidgets only when a notebook asks for one. Type checkers and editors see
the names through an ``if TYPE_CHECKING:`` import beside the call, as in the
``websockets`` library (``websockets/imports.py``).
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

__all__ = ["lazy_import"]


def lazy_import(namespace: dict[str, Any], where: dict[str, str]) -> None:
    """Give the package whose globals are ``namespace`` a ``__getattr__`` that imports on first use.

    Args:
        namespace: the package's ``globals()``.
        where: each public name and the submodule (relative, without the dot) that holds it.

    A submodule is an attribute too (``wstutorial.address`` after only
    ``import wstutorial``), as it would be after an eager import.
    """
    package = namespace["__name__"]

    def __getattr__(name: str) -> Any:
        if name in where:
            value = getattr(importlib.import_module(f".{where[name]}", package), name)
        elif not name.startswith("_") and importlib.util.find_spec(f"{package}.{name}") is not None:
            value = importlib.import_module(f".{name}", package)
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        namespace[name] = value  # the next use finds it without this function
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(where))

    namespace["__getattr__"] = __getattr__
    namespace["__dir__"] = __dir__
