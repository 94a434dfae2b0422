"""The teacher's page with 1,000 students: it draws only the rows in view, and every row is still there.

Counts, not times (the machine is shared): how many table rows exist in the
page, which students they are, the totals over all 1,000. The time an update
costs the page is measured by ``python -m bench teacher-page``.
"""

from __future__ import annotations

import json
import random
from typing import Iterator

import pytest
from playwright.sync_api import Page, expect

from bench.teacher_page import _fill
from wstutorial.classroom import Classroom, start_classroom

STUDENTS = 1000
DRAWN_AT_MOST = 50  # the rows in a 800-px view and a few around


@pytest.fixture
def hall() -> Iterator[Classroom]:
    running = start_classroom(port=0)
    running.server.call(_fill, running.room, STUDENTS, random.Random(5), timeout=120)
    try:
        yield running
    finally:
        running.stop()


def drawn(page: Page) -> list[str]:
    return page.eval_on_selector_all("#board-body > tr:not(.spacer) > th", "cells => cells.map(c => c.textContent)")


def test_a_thousand_rows_are_kept_and_only_those_in_view_are_drawn(page: Page, hall: Classroom) -> None:
    """1,000 rows known to the page, at most 50 in its table, at the top and after scrolling to the end; totals over all."""
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(hall.teacher_url)
    page.wait_for_function(f"() => window.teacherRows && window.teacherRows().length === {STUDENTS}")
    top = drawn(page)
    assert top[0] == "Student 0000" and len(top) <= DRAWN_AT_MOST
    echo = hall.server.call(lambda: sum(1 for s in hall.room.board.students.values() if s.results.get("echo") and s.results["echo"].passed))
    expect(page.locator("#board-foot td").nth(2)).to_have_text(f"{echo} of {STUDENTS}")
    # A result of a student far below the view: the totals move, the table does not grow.
    name = "Student 0900"

    def post() -> None:
        member = hall.room.members[name]
        member.bucket._tokens = member.bucket.burst
        hall.room.receive(name, json.dumps({"type": "progress", "exercise": "echo", "passed": True, "reason": "late"}))

    was_passed = hall.server.call(lambda: bool(hall.room.board.find(name).results.get("echo") and hall.room.board.find(name).results["echo"].passed))  # type: ignore[union-attr]
    hall.server.call(post)
    expect(page.locator("#board-foot td").nth(2)).to_have_text(f"{echo + (not was_passed)} of {STUDENTS}")
    assert len(drawn(page)) <= DRAWN_AT_MOST
    page.eval_on_selector("#board-scroll", "s => { s.scrollTop = s.scrollHeight; }")
    page.wait_for_function("() => { const c = document.querySelectorAll('#board-body > tr:not(.spacer) > th'); return c.length && c[c.length - 1].textContent === 'Student 0999'; }")
    bottom = drawn(page)
    assert len(bottom) <= DRAWN_AT_MOST and "Student 0900" not in bottom[:1]
    page.locator("#board-body > tr:not(.spacer)", has=page.locator("th", has_text="Student 0999")).locator("th").click()
    expect(page.locator("#detail-title")).to_have_text("Student 0999")
