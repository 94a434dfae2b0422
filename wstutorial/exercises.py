"""``wstutorial.exercises`` (the name the notebooks and older scripts use): see :mod:`wstutorial.teaching.exercises`."""

from .teaching.exercises import *  # noqa: F403
from .teaching.exercises import __all__  # noqa: F401
