"""The benchmark (bench/) runs end to end with tiny sizes and writes every figure.

No timing is asserted: the machine is shared; only that each figure exists.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

from helpers import ROOT


def test_benchmark_writes_every_figure(tmp_path: Path) -> None:
    """python -m bench with tiny sizes prints the table and writes each target's figure as a number."""
    output = tmp_path / "bench.json"
    tiny = "--rounds 1 --echo-messages 50 --stream-seconds 0.2 --clients 10 --broadcasts 2 "
    tiny += "--slow-seconds 0.5 --cycles 2 --notebook-rate 1000 --notebook-seconds 1"
    result = subprocess.run(
        [sys.executable, "-m", "bench", *tiny.split(), "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "| target | measured | target | met |" in result.stdout
    figures = json.loads(output.read_text())
    sys.path.insert(0, str(ROOT))
    from bench.run import TARGETS, lookup
    from bench.servers import KINDS

    for _, path, _, _ in TARGETS:
        assert math.isfinite(lookup(figures, path)), path
    for section in ("rtt_us",):
        assert set(figures["echo"][section]) == set(KINDS)
    for section in ("rate", "dropped"):
        assert set(figures["stream"][section]) == set(KINDS)
    for section in ("p50_ms", "p99_ms"):
        assert set(figures["broadcast"][section]) == set(KINDS)
    assert [row["figure"] for row in figures["targets"]] == [path for _, path, _, _ in TARGETS]
    assert figures["slow_client"]["rate_with_slow"] > 0 and figures["notebook"]["view_msgs_per_s"] > 0


def test_broadcast_comparison_writes_every_figure(tmp_path: Path) -> None:
    """python -m bench broadcast with tiny sizes prints the ratios and writes latency, memory and collector figures."""
    output = tmp_path / "broadcast.json"
    result = subprocess.run(
        [sys.executable, "-m", "bench", "broadcast", "--clients", "10", "20", "--broadcasts", "2", "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "| p99 / websockets' |" in result.stdout
    runs = json.loads(output.read_text())["results"]
    assert [run["clients"] for run in runs] == [10, 20]
    sys.path.insert(0, str(ROOT))
    from bench.broadcast import BROADCAST_KINDS

    for run in runs:
        for figure in ("p50_ms", "p99_ms", "memory_per_connection_kb"):
            assert set(run[figure]) == set(BROADCAST_KINDS), figure
            assert all(math.isfinite(value) for value in run[figure].values()), figure
        assert set(run["gc_during_broadcasts"]) == set(BROADCAST_KINDS)
        assert set(run["tracked_objects_per_connection"]) == set(BROADCAST_KINDS)


def test_idle_comparison_writes_every_figure(tmp_path: Path) -> None:
    """python -m bench idle with tiny sizes prints the collector's figures for each server (pings every 0.2 s answered)."""
    output = tmp_path / "idle.json"
    result = subprocess.run(
        [sys.executable, "-m", "bench", "idle", "--clients", "10", "--seconds", "1", "--ping-interval", "0.2", "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "| full collections |" in result.stdout
    run = json.loads(output.read_text())["result"]
    sys.path.insert(0, str(ROOT))
    from bench.idle import IDLE_KINDS

    for figure in ("full_collections", "longest_pause_ms", "collector_ms", "still_connected"):
        assert set(run[figure]) == set(IDLE_KINDS), figure
    bad = subprocess.run([sys.executable, "-m", "bench", "idle", "--seconds", "0"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "--seconds" in bad.stderr


def test_classroom_benchmark_prints_every_figure_as_json() -> None:
    """python -m bench classroom with a tiny class (one process, then two workers) prints one JSON object with every figure."""
    for workers in ("0", "2"):
        result = subprocess.run(
            [sys.executable, "-m", "bench", "classroom", "--students", "12", "--chats", "3", "--per-process", "5", "--workers", workers, "--json"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        figures = json.loads(result.stdout)
        assert figures["students"] == 12 and figures["workers"] == int(workers)
        for name in ("join_s", "chat_p50_ms", "chat_p99_ms", "board_lag_p99_ms", "broadcast_p99_ms", "kib_per_student"):
            assert math.isfinite(figures[name]) and figures[name] >= 0, name


def test_bench_without_the_test_tools_says_what_to_install(tmp_path: Path) -> None:
    """In an environment without the test extra (no websockets), python -m bench says in one line what to install."""
    hide = tmp_path / "hide"
    hide.mkdir()
    (hide / "sitecustomize.py").write_text("import sys\nsys.modules['websockets'] = None  # as if not installed\n")
    for command in ([], ["broadcast"], ["echo"], ["idle"]):
        result = subprocess.run(
            [sys.executable, "-m", "bench", *command],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "PYTHONPATH": str(hide)},
        )
        assert result.returncode != 0
        assert "Traceback" not in result.stderr, result.stderr
        assert result.stderr.strip().count("\n") == 0 and "scripts/setup-env.sh test" in result.stderr, result.stderr
