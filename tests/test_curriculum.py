"""The lesson's exercises (``wstutorial.curriculum``): every check is listed, once, in the order of the notebooks."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import wstutorial.teaching
from wstutorial import curriculum
from wstutorial.tools.rehearsal import EXERCISES as REHEARSED


def checks_that_report() -> set[str]:
    """The exercise of every ``check_<exercise>`` in wstutorial.teaching that returns a CheckResult (those reach the board)."""
    names = set()
    for module_info in pkgutil.iter_modules(wstutorial.teaching.__path__):
        module = importlib.import_module(f"wstutorial.teaching.{module_info.name}")
        for name, function in inspect.getmembers(module, inspect.isfunction):
            returns = str(inspect.signature(function).return_annotation)
            if name.startswith("check_") and function.__module__ == module.__name__ and "CheckResult" in returns:
                names.add(name[len("check_"):])
    return names


def test_every_check_of_the_tutorial_is_a_known_exercise() -> None:
    """A check added to a notebook must be added to the curriculum, or the board refuses its results."""
    known = {exercise.name for exercise in curriculum.EXERCISES}
    assert checks_that_report() <= known, sorted(checks_that_report() - known)


def test_the_list_is_in_notebook_order_without_repeats_and_has_a_core_path() -> None:
    """Notebooks in order (the board's columns follow it); each name once; both core and homework exist."""
    notebooks = [exercise.notebook for exercise in curriculum.EXERCISES]
    assert notebooks == sorted(notebooks)
    names = [exercise.name for exercise in curriculum.EXERCISES]
    assert len(names) == len(set(names))
    assert curriculum.core() and curriculum.homework()
    assert set(curriculum.core()) | set(curriculum.homework()) == set(names)
    assert curriculum.known("mini_chat") and not curriculum.known("constructor")


def test_the_rehearsal_sends_only_known_exercises() -> None:
    """The simulated students' results are stored, not refused."""
    assert {name for name, _, _ in REHEARSED} <= {exercise.name for exercise in curriculum.EXERCISES}
