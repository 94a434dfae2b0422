"""Shared fixtures: a real tutorial server on a free loopback port."""

from __future__ import annotations

import os
import socket
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


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rss_bytes() -> int:
    """Resident memory of this process (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def open_fds() -> int:
    """How many file descriptors this process has open (Linux)."""
    return len(os.listdir("/proc/self/fd"))
