"""A real Redis server on a free loopback port, for notebook 09 and its tests.

    >>> from wstutorial.services.redisserver import start_redis
    >>> redis = start_redis()          # needs redis-server installed
    >>> redis.url
    'redis://127.0.0.1:PORT/0'
    >>> redis.stop()

It keeps nothing on disk (no snapshots, no append-only file): pub/sub needs no
storage, and a temporary folder is removed on stop.

Running the cell again gives the same Redis while it runs (its repr says
``reused``): the notebook's cluster and relays keep their address.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from ..address import free_port, port_is_free
from .local import LocalService, OnePerKey, ServiceError, find_program, start_process, wait_for_port

__all__ = ["RedisServer", "start_redis", "INSTALL_REDIS"]

INSTALL_REDIS = (
    "on Debian/Ubuntu 'sudo apt-get install redis-server', on macOS 'brew install redis', "
    "with conda 'conda install -c conda-forge redis-server'; or pass the URL of a Redis you already run"
)


class RedisServer(LocalService):
    """A running redis-server; ``url`` is what clients connect to."""

    name = "redis-server"

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    @property
    def log(self) -> Path:
        return self.folder / "redis.log"


# The Redis each port argument (0: a free port) started, for a re-run cell to reuse.
_started: OnePerKey[RedisServer] = OnePerKey()


def start_redis(port: int = 0, timeout: float = 10.0, *, reuse: bool = True) -> RedisServer:
    """Start ``redis-server`` on ``port`` (0: a free one) of 127.0.0.1; return once it accepts connections.

    In one process, ``start_redis()`` again (with the same ``port``) while
    the Redis it started before still runs returns that Redis, and its repr
    says ``reused``: a re-run notebook cell keeps one Redis, at the same
    address, so what already uses it (a cluster, a relay) keeps working.
    Once it was stopped, the next call starts a new one. ``reuse=False``
    always starts another one (e.g. one that a cluster owns and stops).

    Raises:
        ServiceMissing: redis-server is not installed (the message says how to install it).
        ServiceError: it did not start (the message shows the end of its log).
    """
    if reuse:
        previous = _started.get(port)
        if previous is not None and previous.running:
            previous.note = "reused: an earlier start_redis() in this process started it"
            return previous
    program = find_program("redis-server", INSTALL_REDIS)
    requested = port
    host, port = "127.0.0.1", port or free_port()
    # Else the wait below would reach the program that holds the port, while
    # redis-server exits with "Address already in use".
    if requested and not port_is_free(port, host):
        raise ServiceError(f"port {port} of {host} is taken by another program: give start_redis another port, or none")
    folder = tempfile.TemporaryDirectory(prefix="wstutorial-redis-")
    args = [
        program,
        "--bind", host,
        "--port", str(port),
        "--save", "",  # no snapshots: pub/sub keeps no data
        "--appendonly", "no",
        "--dir", folder.name,
        "--protected-mode", "yes",
        "--daemonize", "no",
    ]
    process = start_process(args, folder, "redis.log")
    try:
        wait_for_port(host, port, process, timeout, Path(folder.name) / "redis.log")
    except BaseException:
        process.kill()
        process.wait()
        folder.cleanup()
        raise
    server = RedisServer(process, folder, host, port)
    if reuse:
        _started.put(requested, server)
    return server
