"""Shared fixtures: a real tutorial server on a free loopback port (helpers are in helpers.py)."""

from __future__ import annotations

from typing import Iterator

import pytest

import wstutorial


@pytest.fixture
def server() -> Iterator[wstutorial.TutorialServer]:
    """The tutorial's server on a free port, with a fast stream (0.05 s)."""
    running = wstutorial.start_server(port=0, interval=0.05)
    try:
        yield running
    finally:
        running.stop()
