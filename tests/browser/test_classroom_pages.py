"""The classroom pages (chat.html, teacher.html) in a real Chromium: students' text stays text, the board reads from afar."""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
from pathlib import Path
from typing import Iterator

import pytest
from playwright.sync_api import Page, expect
from websockets.exceptions import ConnectionClosedError
from websockets.sync.client import ClientConnection, connect

from helpers import poll_until
from wstutorial.address import lan_addresses
from wstutorial.classroom import Classroom, start_classroom
from wstutorial.classroom.server import qr_code
from wstutorial.classroom.store import RoomStore, room_file
from wstutorial.curriculum import Exercise
from wstutorial.protocol import CloseCode
from wstutorial.services.redisserver import start_redis

from .test_pages import XSS_PAYLOAD, assert_not_html

TOKEN = "browser-test-teacher-token"


@pytest.fixture
def classroom() -> Iterator[Classroom]:
    running = start_classroom(port=0, interval=0.05, teacher_token=TOKEN)
    try:
        yield running
    finally:
        running.stop()


@contextlib.contextmanager
def joined(classroom: Classroom, name: str) -> Iterator[ClientConnection]:
    """A student's connection (the websockets library), once the room welcomed it."""
    with connect(classroom.chat_url(name)) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "welcome"
        yield ws


def result(ws: ClientConnection, exercise: str, passed: bool, reason: str) -> None:
    ws.send(json.dumps({"type": "progress", "exercise": exercise, "passed": passed, "reason": reason}))


def row_of(page: Page, name: str):  # type: ignore[no-untyped-def]
    return page.locator("#board-body > tr:not(.spacer)", has=page.locator("th", has_text=re.compile("^(\u26a0 )?" + re.escape(name) + "$")))


def test_chat_shows_html_message_as_text(page: Page, classroom: Classroom) -> None:
    """chat.html shows another student's message containing HTML literally and runs none of it."""
    page.goto(classroom.server.page_url("chat.html?name=Grace"))
    expect(page.locator("#status")).to_have_text("joined as Grace")
    with joined(classroom, "Mallory") as mallory:
        mallory.send(json.dumps({"type": "chat", "text": XSS_PAYLOAD}))
        mallory.send("after the payload")
        expect(page.locator("#log > *", has_text="after the payload")).to_have_count(1)
    assert_not_html(page)
    expect(page.locator("#log > *", has_text="onerror")).to_have_text(["Mallory: " + XSS_PAYLOAD])


def test_chat_page_keeps_its_key_and_rejoins_as_the_same_student(page: Page, classroom: Classroom) -> None:
    """chat.html keeps the room's secret for its name: a reload rejoins the row; another browser cannot take the name."""
    page.goto(classroom.server.page_url("chat.html?name=Grace"))
    expect(page.locator("#status")).to_have_text("joined as Grace")
    page.click("#leave")
    expect(page.locator("#status")).to_contain_text("closed")
    poll_until(lambda: classroom.members() == [])
    page.reload()
    expect(page.locator("#status")).to_have_text("joined as Grace")
    page.click("#leave")
    # The page's close event can come before the room ran on_close; until then a join is refused as "already in the room".
    poll_until(lambda: classroom.members() == [])
    with connect(classroom.chat_url("grace")) as other, pytest.raises(ConnectionClosedError, match="taken"):
        other.recv(timeout=10)


def test_teacher_page_lists_names_as_text_and_html_names_never_join(page: Page, classroom: Classroom) -> None:
    """teacher.html lists who is in the chat; a name with HTML is refused before it could be shown."""
    page.goto(classroom.server.page_url(f"teacher.html?token={TOKEN}"))
    expect(page.locator("#stream")).to_have_text("running")
    with connect(classroom.server.ws_url("/chat") + "?name=%3Cb%20class%3Dxss-probe%3E") as bad:
        with pytest.raises(ConnectionClosedError) as closed:
            bad.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == CloseCode.POLICY_VIOLATION
    with joined(classroom, "Ada O'Neil"):
        expect(page.locator("#members > li")).to_have_text(["Ada O'Neil"])
    expect(page.locator("#members > li")).to_have_count(0)
    assert_not_html(page)


def test_a_row_from_joining_reasons_by_click_and_the_lessons_columns(page: Page, classroom: Classroom) -> None:
    """A row appears on joining (notebook or chat.html); columns are the core exercises in order, homework apart;
    a click shows the reason as text; a student who left is greyed."""
    page.goto(classroom.server.page_url(f"teacher.html?token={TOKEN}"))
    expect(page.locator("#board-empty")).to_be_visible()
    expect(page.locator("#board-head > th")).to_have_text(
        ["student", "last active", "01upper_case", "02echo", "03send_on_open", "04count_clients", "06mini_chat", "10 exerciseshomework"]
    )
    student = page.context.new_page()
    student.goto(classroom.server.page_url("chat.html?name=Lin"))  # a browser student: a row too, from joining
    expect(row_of(page, "Lin")).to_have_count(1)
    expect(row_of(page, "Lin").locator("td")).to_have_text(["< 1 min", "\u2013", "\u2013", "\u2013", "\u2013", "\u2013", "\u2013"])
    with joined(classroom, "Ada") as ada, connect(classroom.server.ws_url("/ws") + "?name=Ada"):
        expect(row_of(page, "Ada")).to_have_count(1)  # before any result
        result(ada, "upper_case", False, XSS_PAYLOAD)
        row = row_of(page, "Ada")
        expect(row.locator("td").nth(1)).to_have_text("not yet")
        row.locator("td").nth(1).click()
        expect(page.locator("#detail-title")).to_have_text("Ada \u00b7 upper_case")
        expect(page.locator("#detail-text")).to_contain_text(XSS_PAYLOAD)
        result(ada, "mini_chat", True, "sent to everyone")
        result(ada, "ping", True, "pong")  # homework: apart, counted
        expect(row.locator("td")).to_have_text(["< 1 min", "not yet", "\u2013", "\u2013", "\u2013", "passed", "1 passed"])
        row.locator("th").click()
        expect(page.locator("#detail-list > li")).to_have_text(
            [f"01 upper_case: not yet \u2013 {XSS_PAYLOAD}", "05 ping: passed \u2013 pong", "06 mini_chat: passed \u2013 sent to everyone"]
        )
        with joined(classroom, "Bob") as bob:
            result(bob, "upper_case", True, "HI")
            expect(page.locator("#board-foot > td")).to_have_text(["", "1 of 3", "0 of 3", "0 of 3", "0 of 3", "1 of 3", "1"])
        expect(page.locator("ul[data-path='/ws'] > li")).to_have_text(["Ada"])
    expect(row_of(page, "Ada")).to_have_class(re.compile(r"\bgone\b"))
    expect(row_of(page, "Ada").locator("td").first).to_have_text("left < 1 min")
    expect(page.locator("ul[data-path='/ws'] > li")).to_have_count(0)
    assert_not_html(page)


def test_names_and_exercises_that_are_object_properties_are_ordinary(page: Page, tmp_path: Path) -> None:
    """Students named constructor, __proto__ and toString, an exercise named constructor: rows and cells like any other.

    The room refuses the name ``__proto__`` (a name starts with a letter or a
    digit); the page must not count on that: its row comes from the room's file.
    """
    exercises = (Exercise("constructor", "01", core=True), Exercise("echo", "02", core=True))
    RoomStore.open(tmp_path, "class").close()  # the room's file, then a row written into it as any data
    with sqlite3.connect(room_file(tmp_path, "class")) as db:
        db.execute("INSERT INTO students VALUES ('__proto__', '__proto__', '', 1700000000.0, 1700000000.0)")
    running = start_classroom(port=0, teacher_token=TOKEN, exercises=exercises, data_dir=tmp_path)
    try:
        page.goto(running.server.page_url(f"teacher.html?token={TOKEN}"))
        expect(page.locator("#board-head > th")).to_have_text(["student", "last active", "01constructor", "02echo", "0 exerciseshomework"])
        names = ["constructor", "toString"]
        with contextlib.ExitStack() as stack:
            students = [stack.enter_context(joined(running, name)) for name in names]
            for ws in students:
                result(ws, "constructor", True, "fine")
            for name in names:
                expect(row_of(page, name).locator("td").nth(1)).to_have_text("passed")
            expect(row_of(page, "__proto__").locator("td").nth(1)).to_have_text("\u2013")
            expect(page.locator("#board-foot > td").nth(1)).to_have_text("2 of 3")
            rows = page.evaluate("() => window.teacherRows()")
            assert sorted(row["name"] for row in rows) == sorted([*names, "__proto__"])
            assert [row["results"]["constructor"]["passed"] for row in rows if row["name"] != "__proto__"] == [True, True]
            row_of(page, "__proto__").locator("th").click()
            expect(page.locator("#detail-title")).to_have_text("__proto__ (left)")
    finally:
        running.stop()


def test_a_student_without_a_pass_for_a_while_is_marked_stuck(page: Page) -> None:
    """No pass on the current exercise for stuck_after: a mark on the row, the cell and the list, in words too."""
    running = start_classroom(port=0, teacher_token=TOKEN, stuck_after=1.0)
    try:
        page.goto(running.server.page_url(f"teacher.html?token={TOKEN}"))
        with joined(running, "Ada") as ada, joined(running, "Bob") as bob:
            result(ada, "echo", False, "no answer within 3 s")
            result(bob, "echo", True, "ok")
            expect(page.locator("#board-head th.current")).to_have_text("02echo")  # automatic: the furthest tried
            expect(row_of(page, "Ada")).to_have_class(re.compile(r"\bstuck\b"), timeout=15_000)
            expect(row_of(page, "Ada").locator("td.stuck")).to_have_text("stuck < 1 min")
            expect(row_of(page, "Ada").locator("th")).to_have_text("\u26a0 Ada")
            expect(page.locator("#stuck-line")).to_have_text("stuck (< 1 min without a pass on echo): Ada")
            expect(row_of(page, "Bob")).not_to_have_class(re.compile(r"\bstuck\b"))
            page.select_option("#current", "mini_chat")  # the teacher moves the class on: nobody passed it yet
            expect(page.locator("#board-head th.current")).to_have_text("06mini_chat")
            expect(page.locator("#stuck-line")).to_have_text(re.compile(r"on mini_chat\): Ada, Bob$"), timeout=15_000)
            result(ada, "mini_chat", True, "done")
            expect(page.locator("#stuck-line")).to_have_text(re.compile(r"on mini_chat\): Bob$"))
    finally:
        running.stop()


def test_the_token_leaves_the_address_bar_and_a_reload_still_works(page: Page, classroom: Classroom) -> None:
    """After loading, the address and the page show no token; a reload (same tab) connects again; a new tab does not."""
    page.goto(classroom.server.page_url(f"teacher.html?token={TOKEN}"))
    expect(page.locator("#status")).to_have_text("connected")
    assert page.url == classroom.server.page_url("teacher.html")
    assert TOKEN not in page.content() and TOKEN not in page.evaluate("() => history.state === null ? '' : JSON.stringify(history.state)")
    page.reload()
    expect(page.locator("#status")).to_have_text("connected")
    other = page.context.new_page()  # sessionStorage is per tab: another tab has no token
    other.goto(classroom.server.page_url("teacher.html"))
    expect(other.locator("#status")).to_contain_text("No token")


def test_the_teacher_page_offers_the_board_as_csv(page: Page, classroom: Classroom, tmp_path: Path) -> None:
    """The button downloads the same CSV as the command line, with the token in a header, never in an address."""
    page.goto(classroom.server.page_url(f"teacher.html?token={TOKEN}"))
    with joined(classroom, "Ada") as ada:
        result(ada, "echo", True, "ok")
        expect(row_of(page, "Ada").locator("td").nth(2)).to_have_text("passed")
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    with page.expect_download() as download:
        page.click("#csv")
    saved = tmp_path / "board.csv"
    download.value.save_as(saved)
    assert re.fullmatch(r"class-\d{4}-\d\d-\d\d\.csv", download.value.suggested_filename)
    lines = saved.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "student,exercise,passed,reason,time" and lines[1].startswith("Ada,echo,yes,ok,")
    assert not [url for url in requested if TOKEN in url]


def test_the_join_banner_shows_the_address_students_reach_with_its_qr_code(page: Page) -> None:
    """Listening on every interface: the banner shows this machine's network address, not the teacher's 127.0.0.1."""
    hosts = lan_addresses()
    assert hosts, "this machine has no network address: the class could not reach it either"
    running = start_classroom("0.0.0.0", 0, teacher_token=TOKEN)
    try:
        page.goto(f"http://127.0.0.1:{running.port}/teacher.html?token={TOKEN}")
        url = f"http://{hosts[0]}:{running.port}/chat.html"
        expect(page.locator("#join-url")).to_have_text(url)
        expect(page.locator("#join-host")).to_have_text(hosts[0])
        expect(page.locator("#join-port")).to_have_text(str(running.port))
        expect(page.locator("#join-qr")).to_be_visible()
        assert page.get_attribute("#join-qr", "src") == qr_code(url)
        assert "127.0.0.1" not in page.inner_text(".join")
    finally:
        running.stop()


def test_a_restarted_server_brings_the_open_page_back_with_the_same_board(page: Page, tmp_path: Path) -> None:
    """Stop the server with the page open, start it again on the same room: the page reconnects by itself, board and all."""
    first = start_classroom(port=0, data_dir=tmp_path)
    port = first.port
    page.goto(first.teacher_url)
    with joined(first, "Ada") as ada:
        result(ada, "echo", True, "before the restart")
        expect(row_of(page, "Ada").locator("td").nth(2)).to_have_text("passed")
    first.stop()
    expect(page.locator("#status")).to_contain_text("trying again")
    second = start_classroom(port=port, data_dir=tmp_path)
    try:
        expect(page.locator("#status")).to_have_text("connected", timeout=30_000)
        expect(row_of(page, "Ada").locator("td").nth(2)).to_have_text("passed")
        with joined(second, "Bob"):
            expect(row_of(page, "Bob")).to_have_count(1)
    finally:
        second.stop()


def test_teacher_page_without_token_does_nothing(page: Page, classroom: Classroom) -> None:
    """A student who opens teacher.html with a wrong token sees the refusal, and the buttons stay off."""
    page.goto(classroom.server.page_url("teacher.html?token=guess-guess"))
    expect(page.locator("#status")).to_contain_text("wrong or missing teacher token")
    expect(page.locator("#stop")).to_be_disabled()


def test_teacher_page_tells_unnamed_clients_of_two_workers_apart(page: Page) -> None:
    """With --workers 2 (a real redis-server), each worker's unnamed /ws client is listed with its worker, as text."""
    redis = start_redis()
    running = start_classroom(port=0, teacher_token=TOKEN, workers=2, redis_url=redis.url)
    try:
        page.goto(running.server.page_url(f"teacher.html?token={TOKEN}"))
        expect(page.locator("#stream")).to_have_text("running")
        page.click(".paths summary")
        with connect(running.workers[0].ws_url("/ws")), connect(running.workers[1].ws_url("/ws")):
            listed = page.locator('.path-list[data-path="/ws"] > li')
            expect(listed).to_have_count(2)
            expect(listed.filter(has_text=re.compile(r"^client-\d+ from 127\.0\.0\.1 \(worker 1\)$"))).to_have_count(1)
            expect(listed.filter(has_text=re.compile(r"^client-\d+ from 127\.0\.0\.1 \(worker 2\)$"))).to_have_count(1)
        expect(listed).to_have_count(0)
    finally:
        running.stop()
        redis.stop()
