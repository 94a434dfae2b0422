"""Shared fixtures: a real tutorial server, a classroom and a redis-server, on free loopback ports (helpers are in helpers.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

import pytest

import wstutorial

if TYPE_CHECKING:
    from wstutorial.classroom import Classroom
    from wstutorial.services.redisserver import RedisServer


@pytest.fixture
def server() -> Iterator[wstutorial.TutorialServer]:
    """The tutorial's server on a free port, with a fast stream (0.05 s)."""
    running = wstutorial.start_server(port=0, interval=0.05)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def classroom() -> Iterator[Classroom]:
    """A classroom (the room, its pages and the teacher's) on a free port, with a fast stream (0.05 s)."""
    from wstutorial.classroom import start_classroom  # only the tests that use a classroom load it

    running = start_classroom(port=0, interval=0.05)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    """A real redis-server on a free loopback port, one per test module that asks for it."""
    from wstutorial.services.redisserver import start_redis

    running = start_redis()
    try:
        yield running
    finally:
        running.stop()
