"""The notebook view under load: a real kernel shows a fast stream in ``StreamView``.

A kernel (``jupyter_client.KernelManager``, the one JupyterLab starts)
runs the tutorial's server with a stream of ``rate`` messages per second
and a ``StreamView`` showing it. From outside we count the widget messages
(``comm_msg``) the kernel sends on IOPub, which jupyter_server drops above
1,000 per second, and time trivial cells (``1 + 1``): how long a student
waits for the kernel while the view runs.
"""

from __future__ import annotations

import os
import queue
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

__all__ = ["measure_notebook_view"]

ROOT = Path(__file__).resolve().parent.parent

SETUP = """
import wstutorial
_server = wstutorial.start_server(port=0, interval=1 / {rate})
_view = wstutorial.StreamView(_server.ws_url("/streaming"))
_view.start()
"""

TEARDOWN = """
_view.close()
_server.stop()
"""


def _view_count(client: Any) -> int:
    """How many messages the view has received so far."""
    _, reply = _execute(client, "", count="_view.count")
    return int(reply["user_expressions"]["count"]["data"]["text/plain"])


def _execute(client: Any, code: str, timeout: float = 60.0, **expressions: str) -> tuple[float, dict[str, Any]]:
    """Run ``code``; return (seconds until the reply, the reply's content)."""
    start = time.perf_counter()
    msg_id = client.execute(code, store_history=False, user_expressions=expressions)
    while True:
        reply = client.get_shell_msg(timeout=timeout)
        if reply["parent_header"].get("msg_id") == msg_id:
            elapsed = time.perf_counter() - start
            if reply["content"]["status"] != "ok":
                raise RuntimeError(f"the kernel failed on {code.strip()!r}: {reply['content'].get('evalue')}")
            return elapsed, reply["content"]


def _drain_iopub(client: Any, counts: dict[str, int]) -> None:
    """Count the IOPub messages received so far, by type."""
    while True:
        try:
            message = client.get_iopub_msg(timeout=0)
        except queue.Empty:
            return
        kind = message["header"]["msg_type"]
        counts[kind] = counts.get(kind, 0) + 1


def measure_notebook_view(rate: float, seconds: float, cells: int) -> dict[str, float]:
    """Stream ``rate`` messages/s into a StreamView in a real kernel for ``seconds``."""
    from jupyter_client.manager import start_new_kernel

    env = dict(os.environ, PYTHONPATH=str(ROOT))
    # The kernel's own chatter (a warning about TCP without encryption) is not ours to show.
    manager, client = start_new_kernel(
        kernel_name="python3", env=env, cwd=str(ROOT), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        counts: dict[str, int] = {}
        _execute(client, "1 + 1")  # the kernel is up
        idle_times = [_execute(client, "1 + 1")[0] for _ in range(max(3, cells // 4))]
        _execute(client, SETUP.format(rate=rate))
        time.sleep(1.0)  # the stream and the view are running
        _drain_iopub(client, counts)
        counts.clear()
        cell_times = []
        count_before = _view_count(client)
        start = time.perf_counter()
        pause = seconds / max(cells, 1)
        while time.perf_counter() - start < seconds:
            cell_times.append(_execute(client, "1 + 1")[0])
            _drain_iopub(client, counts)
            time.sleep(pause)
        _drain_iopub(client, counts)
        elapsed = time.perf_counter() - start
        view_rate = (_view_count(client) - count_before) / (time.perf_counter() - start)
        widget_messages = counts.get("comm_msg", 0)
        iopub_total = sum(counts.values())
        _execute(client, TEARDOWN)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    return {
        "rate_asked": rate,
        "view_msgs_per_s": view_rate,
        "widget_msgs_per_s": widget_messages / elapsed,
        "iopub_msgs_per_s": iopub_total / elapsed,
        "cell_ms_median": statistics.median(cell_times) * 1e3,
        "cell_ms_max": max(cell_times) * 1e3,
        "cell_ms_idle_median": statistics.median(idle_times) * 1e3,
        "cells": len(cell_times),
    }
