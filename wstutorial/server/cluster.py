"""Several server processes that broadcast together through Redis (notebook 09).

    >>> from wstutorial.server.cluster import start_cluster
    >>> cluster = start_cluster(workers=4)       # starts redis-server too, when installed
    >>> cluster.ws_urls("/updates")              # one address per process
    >>> cluster.broadcast("/updates", "hello")   # reaches the clients of all four
    4
    >>> cluster.stop()

Each worker is a separate Python process (``python -m
wstutorial.server.worker``), started with ``subprocess`` — no ``fork``, so it
works the same on Windows — with its own port, event loop and clients. Their
events arrive here, in ``cluster.events``, tagged with the worker's number.
In production a load balancer (nginx, HAProxy, a cloud's) spreads new
connections over the workers' ports; here the notebook does that itself.
"""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import IO, Any, Sequence

from ..address import check_ws_url, parse_host, parse_port
from ..events import EventKind, EventLog
from ..services.local import ServiceError
from .options import ServerOptions, with_overrides
from .relay import DEFAULT_CHANNEL, encode

__all__ = ["Cluster", "Worker", "start_cluster", "MAX_WORKERS"]

# More processes than this on a laptop only compete for its cores.
MAX_WORKERS = 32

_clusters: list["Cluster"] = []
_clusters_lock = threading.Lock()


class Worker:
    """One server process of a cluster."""

    def __init__(self, index: int, process: subprocess.Popen[str], host: str, stderr_log: Path) -> None:
        self.index = index
        self.name = f"worker {index}"
        self.process = process
        self.host = host
        self.port = 0
        self.stderr_log = stderr_log
        self._listening = threading.Event()
        self.error: str | None = None
        self.closed_clients = 0  # how many clients it closed with 1001 when it stopped

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def ws_url(self, path: str = "/ws") -> str:
        # Listening on every interface: this machine reaches it on 127.0.0.1.
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        host = "[::1]" if host == "::" else (f"[{host}]" if ":" in host else host)
        return check_ws_url(f"ws://{host}:{self.port}{path}")

    def __repr__(self) -> str:
        return f"<Worker {self.index} pid {self.process.pid} port {self.port} {'running' if self.running else 'stopped'}>"


class Cluster:
    """Worker processes sharing one Redis channel. Create it with :func:`start_cluster`."""

    def __init__(
        self,
        redis_url: str,
        channel: str,
        events: EventLog,
        owned_redis: object | None,
        module: str = "wstutorial.server.worker",
        extra_args: Sequence[str] = (),
    ) -> None:
        self.redis_url = redis_url
        self.module = module
        self.extra_args = tuple(extra_args)
        self.channel = channel
        self.events = events
        self.workers: list[Worker] = []
        self._owned_redis = owned_redis  # a RedisServer we started, stopped with us
        self._folder = tempfile.TemporaryDirectory(prefix="wstutorial-cluster-")
        self._readers: list[threading.Thread] = []
        self._publisher: Any = None
        self._stopping = False

    # -- addresses ------------------------------------------------------------------

    def ws_urls(self, path: str = "/ws") -> list[str]:
        """The WebSocket address of ``path`` on every worker (what a load balancer spreads over)."""
        return [worker.ws_url(path) for worker in self.workers]

    def ws_url(self, path: str = "/ws", client: int = 0) -> str:
        """The address client number ``client`` uses: round robin over the workers, as a balancer would."""
        return self.workers[client % len(self.workers)].ws_url(path)

    # -- broadcasting -------------------------------------------------------------

    def broadcast(self, path: str, text: str) -> int:
        """Publish ``text`` for every client on ``path`` in every worker; returns how many workers got it."""
        if not self.workers:
            raise ServiceError("the cluster is stopped; start a new one with start_cluster()")
        if self._publisher is None:
            import redis  # the blocking client: callable from any thread, no event loop needed

            self._publisher = redis.Redis.from_url(self.redis_url)
        return int(self._publisher.publish(self.channel, encode(path, text)))

    # -- life cycle -----------------------------------------------------------------

    @property
    def running(self) -> bool:
        return bool(self.workers) and all(worker.running for worker in self.workers)

    def _spawn(self, index: int, host: str, port: int) -> Worker:
        package_parent = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        # The child finds this same wstutorial, installed or not.
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH")) if p)
        env["PYTHONUNBUFFERED"] = "1"
        stderr_log = Path(self._folder.name) / f"worker-{index}.log"
        args = [
            sys.executable, "-m", self.module,
            "--host", host, "--port", str(port), "--redis", self.redis_url,
            "--channel", self.channel, *self.extra_args,
        ]
        with stderr_log.open("w") as err:
            process = subprocess.Popen(
                args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, text=True, env=env, bufsize=1
            )
        worker = Worker(index, process, host, stderr_log)
        assert process.stdout is not None
        reader = threading.Thread(
            target=self._read_lines, args=(worker, process.stdout), name=f"wstutorial-{worker.name}", daemon=True
        )
        reader.start()
        self._readers.append(reader)
        return worker

    def _read_lines(self, worker: Worker, stdout: IO[str]) -> None:
        """Turn a worker's JSON lines into events of ``cluster.events`` (a thread per worker)."""
        for line in stdout:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if "listening" in message:
                worker.port = int(message["listening"])
                worker._listening.set()
            elif "stopped" in message:
                worker.closed_clients = int(message["stopped"])
            elif "error" in message:
                worker.error = str(message["error"])
            elif "event" in message:
                event = message["event"]
                client = f"{worker.name} {event.get('client') or ''}".strip()
                self.events.record(
                    str(event["text"]), kind=EventKind(event["kind"]), client=client, path=str(event.get("path", ""))
                )
        worker._listening.set()  # the process ended: nobody waits in vain
        code = worker.process.wait()
        if not self._stopping:
            self.events.record(f"{worker.name} exited unexpectedly (exit code {code}); its clients lost their connection", kind=EventKind.ERROR)

    def _wait_listening(self, worker: Worker, timeout: float) -> None:
        if not worker._listening.wait(timeout) or not worker.port:
            log = worker.stderr_log.read_text(errors="replace").strip().splitlines()[-5:] if worker.stderr_log.is_file() else []
            why = worker.error or (f"it did not start within {timeout} s" if worker.running else "it exited")
            detail = ("; its error output ends with:\n" + "\n".join(log)) if log else ""
            raise ServiceError(f"{worker.name} of the cluster failed: {why}{detail}")
        self.events.record(f"{worker.name} listening on port {worker.port} (pid {worker.process.pid})", kind=EventKind.SERVER)

    def stop(self, timeout: float = 10.0) -> int:
        """Stop every worker (each closes its clients with 1001), then the Redis we started. Safe twice.

        Returns how many WebSocket clients the workers closed, all together.
        """
        with _clusters_lock:
            if self in _clusters:
                _clusters.remove(self)
        stopped = 0
        self._stopping = True
        for worker in self.workers:
            if worker.process.stdin is not None and not worker.process.stdin.closed:
                try:
                    worker.process.stdin.close()  # the worker's signal to stop, on every OS
                except OSError:
                    pass
        for worker in self.workers:
            try:
                worker.process.wait(timeout)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait(timeout)
            stopped += 1
        for reader in self._readers:
            reader.join(timeout)
        closed = sum(worker.closed_clients for worker in self.workers)
        if self._publisher is not None:
            self._publisher.close()
            self._publisher = None
        if self._owned_redis is not None:
            self._owned_redis.stop()  # type: ignore[attr-defined]
            self._owned_redis = None
        self._folder.cleanup()
        if stopped:
            self.events.record(f"cluster stopped ({stopped} workers, {closed} clients closed with 1001)", kind=EventKind.SERVER)
        self.workers = []
        return closed

    def __enter__(self) -> "Cluster":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        ports = ", ".join(str(worker.port) for worker in self.workers)
        return f"<Cluster {len(self.workers)} workers (ports {ports}) via {self.redis_url}>"


def start_cluster(
    workers: int = 4,
    redis_url: str | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    channel: str = DEFAULT_CHANNEL,
    timeout: float = 30.0,
    events: EventLog | None = None,
    module: str = "wstutorial.server.worker",
    extra_args: Sequence[str] = (),
    options: ServerOptions | None = None,
    **overrides: Any,
) -> Cluster:
    """Start ``workers`` server processes that broadcast to each other through Redis.

    Args:
        workers: how many processes (1 to 32).
        redis_url: the Redis to use, e.g. ``redis://127.0.0.1:6379/0``; by
            default a redis-server is started on a free loopback port (and
            stopped with the cluster).
        host: address the workers listen on (loopback unless you mean otherwise).
        port: the first worker's port, the next ones count up from it
            (``port``, ``port + 1``, ...); 0 (the default): free ports.
        channel: the Redis channel the workers share.
        timeout: seconds the workers may take to start.
        events: the log the workers' events go to (default: a new one).
        module: the worker program (``python -m MODULE``), e.g. the
            classroom's ``wstutorial.classroom.worker``; it takes the
            options of ``wstutorial.server.worker`` plus ``extra_args``.
        options: the settings every worker gets (interval, origins, xheaders,
            limits, ...: ``ServerOptions.worker_settings()``, passed as
            ``--options JSON``); the routes are set apart.
        **overrides: settings of ``options`` to change, e.g. ``interval=0.5``
            (as ``start_server``'s).

    Returns once every worker listens and is subscribed. A cluster this
    process already runs on the same ``channel`` is stopped first, so
    re-running a notebook cell replaces it instead of adding four processes.

    Raises:
        ServiceMissing: no redis_url and redis-server is not installed.
        ServiceError: a worker did not start (the message says why).
        ValueError: a setting that cannot reach another process (``ssl_context``).
        TypeError, ValueError: a setting is not one, or its value is wrong.
    """
    if not isinstance(workers, int) or not 1 <= workers <= MAX_WORKERS:
        raise ValueError(f"workers must be a whole number from 1 to {MAX_WORKERS}, got {workers!r}")
    host = parse_host(host)
    port = parse_port(port)
    if port and port + workers - 1 > 65535:
        raise ValueError(f"ports {port} to {port + workers - 1} do not all exist; choose a lower port, or 0")
    settings = with_overrides(options, overrides, "start_cluster")  # checked before anything starts
    extra_args = ["--options", json.dumps(settings.worker_settings()), *extra_args]
    with _clusters_lock:
        previous = [running for running in _clusters if running.channel == channel]
    for running in previous:
        running.stop()
    owned = None
    if redis_url is None:
        from ..services.redisserver import start_redis

        owned = start_redis(reuse=False)  # this cluster owns it and stops it
        redis_url = owned.url
    cluster = Cluster(redis_url, channel, events if events is not None else EventLog(), owned, module, extra_args)
    try:
        ports = [port + index if port else 0 for index in range(workers)]
        cluster.workers = [cluster._spawn(index + 1, host, ports[index]) for index in range(workers)]
        for worker in cluster.workers:
            cluster._wait_listening(worker, timeout)
    except BaseException:
        cluster.stop()
        raise
    with _clusters_lock:
        _clusters.append(cluster)
    return cluster


def stop_all_clusters() -> None:
    """Stop every cluster this process started (also done at exit)."""
    with _clusters_lock:
        clusters = list(_clusters)
    for cluster in clusters:
        cluster.stop()


atexit.register(stop_all_clusters)
