"""The teacher's page with a lecture hall on the board: ``python -m bench teacher-page`` (about half a minute).

What an update costs the page's main thread in Chromium when the board holds
``--students`` rows (default 1,000): a classroom server in this process gets
that many students (joined on its own loop, as the room does for sockets),
each with a few results; Chromium (Debian's, driven by Playwright) opens the
teacher's page at 1280x800; then for ``--seconds`` the students post results
(``--rate`` a second, spread over random students) while the page also gets the
room's activity message every second. The page times its own work
(``window.teacherTiming``: each message's handling and each redraw, with
``performance.now()``), and a ``PerformanceObserver`` counts long tasks (the
browser's own: any task over 50 ms); a redraw's time includes the style and
layout it causes (the bench asks the page to force them inside the timing).
Then the teacher scrolls down with the mouse wheel (40 steps). Printed: the
first load of the whole board, p50/p99/max of handling and of a redraw, the
long tasks, the redraws while scrolling, and how many table rows the page drew
(it draws only those in view). The goal
(issue 26): an update costs at most 50 ms of the main thread.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import time
from typing import Any

__all__ = ["main", "measure_teacher_page"]

COLLECT = """() => ({handle: window.teacherTiming.handle.slice(), render: window.teacherTiming.render.slice(),
  longTasks: window.__longTasks.slice(), rows: document.querySelectorAll('#board-body > tr:not(.spacer)').length})"""

LONG_TASKS = """
window.__longTasks = [];
new PerformanceObserver(function (list) {
  list.getEntries().forEach(function (entry) { window.__longTasks.push(entry.duration); });
}).observe({ type: "longtask", buffered: true });
"""


def _fill(room: Any, students: int, rng: random.Random) -> None:
    """``students`` members with one to four results each. Server loop only."""
    from wstutorial.curriculum import EXERCISES

    for number in range(students):
        name = f"Student {number:04d}"
        room.join(name, lambda text: None)
        for exercise in rng.sample(EXERCISES, rng.randint(1, 4)):
            room.receive(name, json.dumps({"type": "progress", "exercise": exercise.name, "passed": rng.random() < 0.7, "reason": "x" * 80}))


def _post(room: Any, name: str, exercise: str, passed: bool) -> None:
    member = room.members.get(name)
    if member is not None:
        member.bucket._tokens = member.bucket.burst  # a bench, not a class: the rate limit is not what is measured
    room.receive(name, json.dumps({"type": "progress", "exercise": exercise, "passed": passed, "reason": "measured"}))


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def measure_teacher_page(students: int, seconds: float, rate: float, seed: int = 1) -> dict[str, Any]:
    """Fill a board with ``students`` rows, open the teacher's page, post ``rate`` results a second for ``seconds``."""
    from playwright.sync_api import sync_playwright

    from wstutorial.classroom.server import start_classroom
    from wstutorial.curriculum import EXERCISES

    chromium = os.environ.get("WSTUTORIAL_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        raise SystemExit("bench teacher-page needs Chromium: sudo apt-get install chromium (or set WSTUTORIAL_CHROMIUM)")
    rng = random.Random(seed)
    classroom = start_classroom(port=0)
    try:
        classroom.server.call(_fill, classroom.room, students, rng, timeout=120)
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.add_init_script(LONG_TASKS)
            started = time.monotonic()
            page.goto(classroom.teacher_url)
            page.wait_for_function(f"() => window.teacherRows && window.teacherRows().length === {students}", timeout=60_000)
            page.wait_for_function("() => window.teacherTiming.render.length > 0")
            loaded_s = time.monotonic() - started
            first = page.evaluate("() => ({handle: Math.max(...window.teacherTiming.handle), render: window.teacherTiming.render[0]})")
            page.evaluate("() => { const t = window.teacherTiming; t.handle.length = 0; t.render.length = 0; t.withLayout = true; window.__longTasks.length = 0; }")
            names = [f"Student {number:04d}" for number in range(students)]
            end = time.monotonic() + seconds
            posted = 0
            while time.monotonic() < end:
                exercise = rng.choice(EXERCISES).name
                classroom.server.call(_post, classroom.room, rng.choice(names), exercise, rng.random() < 0.7)
                posted += 1
                time.sleep(1 / rate)
            page.wait_for_timeout(1500)  # the last activity message and redraw
            timing = page.evaluate(COLLECT)
            # Then the teacher scrolls down the board with the mouse wheel, a few rows at a time.
            page.evaluate("() => { const t = window.teacherTiming; t.handle.length = 0; t.render.length = 0; window.__longTasks.length = 0; }")
            page.mouse.move(400, 400)
            for _ in range(40):
                page.mouse.wheel(0, 120)
                page.wait_for_timeout(100)
            scrolled = page.evaluate(COLLECT)
            browser.close()
    finally:
        classroom.stop()
    handle, render = timing["handle"], timing["render"]
    return {
        "students": students,
        "seconds": seconds,
        "results_posted": posted,
        "load_s": round(loaded_s, 2),
        "first_board_handle_ms": round(first["handle"], 1),
        "first_render_ms": round(first["render"], 1),
        "handle_p50_ms": round(statistics.median(handle), 2) if handle else 0.0,
        "handle_p99_ms": round(_percentile(handle, 0.99), 2),
        "handle_max_ms": round(max(handle, default=0.0), 2),
        "render_p50_ms": round(statistics.median(render), 2) if render else 0.0,
        "render_p99_ms": round(_percentile(render, 0.99), 2),
        "render_max_ms": round(max(render, default=0.0), 2),
        "renders": len(render),
        "long_tasks": len(timing["longTasks"]),
        "longest_task_ms": round(max(timing["longTasks"], default=0.0), 1),
        "rows_drawn": timing["rows"],
        "scroll_render_p50_ms": round(statistics.median(scrolled["render"]), 2) if scrolled["render"] else 0.0,
        "scroll_render_max_ms": round(max(scrolled["render"], default=0.0), 2),
        "scroll_long_tasks": len(scrolled["longTasks"]),
        "load_average": round(os.getloadavg()[0], 2),
    }


def table(r: dict[str, Any]) -> str:
    return "\n".join(
        [
            f"The teacher's page with {r['students']:,} students on the board, {r['results_posted']} results over {r['seconds']:.0f} s "
            f"(Chromium, 1280x800; load average {r['load_average']}):",
            "| figure | ms |",
            "| --- | --- |",
            f"| first board (all rows) handled | {r['first_board_handle_ms']} |",
            f"| first redraw | {r['first_render_ms']} |",
            f"| an update handled: p50 / p99 / max | {r['handle_p50_ms']} / {r['handle_p99_ms']} / {r['handle_max_ms']} |",
            f"| a redraw: p50 / p99 / max | {r['render_p50_ms']} / {r['render_p99_ms']} / {r['render_max_ms']} |",
            f"| long tasks (over 50 ms) while updating | {r['long_tasks']} (longest {r['longest_task_ms']}) |",
            f"| a redraw while scrolling (40 wheel steps): p50 / max | {r['scroll_render_p50_ms']} / {r['scroll_render_max_ms']} |",
            f"| long tasks while scrolling | {r['scroll_long_tasks']} |",
            f"| table rows drawn | {r['rows_drawn']} of {r['students']:,} |",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench teacher-page", description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=1000, help="rows on the board (default 1000)")
    parser.add_argument("--seconds", type=float, default=15.0, help="how long results come in (default 15)")
    parser.add_argument("--rate", type=float, default=20.0, help="results a second (default 20)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args(argv)
    result = measure_teacher_page(args.students, args.seconds, args.rate)
    print(json.dumps(result) if args.json else table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
