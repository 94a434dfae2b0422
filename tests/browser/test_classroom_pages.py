"""The classroom pages (chat.html, teacher.html) in a real Chromium: students' text stays text."""

from __future__ import annotations

import json
import re
from typing import Iterator

import pytest
from playwright.sync_api import Page, expect
from websockets.exceptions import ConnectionClosedError
from websockets.sync.client import connect

from wstutorial.classroom import Classroom, start_classroom
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


def test_chat_shows_html_message_as_text(page: Page, classroom: Classroom) -> None:
    """chat.html shows another student's message containing HTML literally and runs none of it."""
    page.goto(classroom.server.page_url("chat.html?name=Grace"))
    expect(page.locator("#status")).to_have_text("joined as Grace")
    with connect(classroom.chat_url("Mallory")) as mallory:
        mallory.recv(timeout=10)
        mallory.send(json.dumps({"type": "chat", "text": XSS_PAYLOAD}))
        mallory.send("after the payload")
        expect(page.locator("#log > *", has_text="after the payload")).to_have_count(1)
    assert_not_html(page)
    expect(page.locator("#log > *", has_text="onerror")).to_have_text(["Mallory: " + XSS_PAYLOAD])


def test_teacher_page_lists_names_as_text_and_html_names_never_join(page: Page, classroom: Classroom) -> None:
    """teacher.html lists who is in the chat; a name with HTML is refused before it could be shown."""
    page.goto(classroom.server.page_url(f"teacher.html?token={TOKEN}"))
    expect(page.locator("#stream")).to_have_text("running")
    with connect(classroom.server.ws_url("/chat") + "?name=%3Cb%20class%3Dxss-probe%3E") as bad:
        with pytest.raises(ConnectionClosedError) as closed:
            bad.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == CloseCode.POLICY_VIOLATION
    with connect(classroom.chat_url("Ada O'Neil")):
        expect(page.locator("#members > li")).to_have_text(["Ada O'Neil"])
    expect(page.locator("#members > li")).to_have_count(0)
    assert_not_html(page)


def test_teacher_board_shows_results_live_and_reasons_as_text(page: Page, classroom: Classroom) -> None:
    """A result appears in its student's row and exercise's column as it comes; a reason with HTML stays text."""
    page.goto(classroom.server.page_url(f"teacher.html?token={TOKEN}"))
    expect(page.locator("#board-empty")).to_be_visible()
    with connect(classroom.chat_url("Ada")) as ada, connect(classroom.server.ws_url("/ws") + "?name=Ada"):
        ada.send(json.dumps({"type": "progress", "exercise": "upper_case", "passed": False, "reason": XSS_PAYLOAD}))
        row = page.locator("#board-body > tr", has=page.locator("th", has_text="Ada"))
        expect(row.locator("td")).to_have_text(["not yet"])
        expect(row.locator("td")).to_have_attribute("title", XSS_PAYLOAD)
        ada.send(json.dumps({"type": "progress", "exercise": "mini_chat", "passed": True, "reason": "sent to everyone"}))
        expect(page.locator("#board-head > th")).to_have_text(["student", "upper_case", "mini_chat"])
        expect(row.locator("td")).to_have_text(["not yet", "passed"])
        with connect(classroom.chat_url("Bob")) as bob:
            bob.send(json.dumps({"type": "progress", "exercise": "upper_case", "passed": True, "reason": "HI"}))
            expect(page.locator("#board-foot > td")).to_have_text(["1 of 2", "1 of 2"])
        expect(page.locator("ul[data-path='/ws'] > li")).to_have_text(["Ada"])
        expect(page.locator("#board-empty")).to_be_hidden()
    expect(row).to_have_class("gone")
    expect(page.locator("ul[data-path='/ws'] > li")).to_have_count(0)
    assert_not_html(page)


def test_teacher_page_without_token_does_nothing(page: Page, classroom: Classroom) -> None:
    """A student who opens teacher.html with a wrong token sees the refusal, and the buttons stay off."""
    page.goto(classroom.server.page_url("teacher.html?token=guess"))
    expect(page.locator("#status")).to_contain_text("wrong or missing teacher token")
    expect(page.locator("#stop")).to_be_disabled()


def test_teacher_page_tells_unnamed_clients_of_two_workers_apart(page: Page) -> None:
    """With --workers 2 (a real redis-server), each worker's unnamed /ws client is listed with its worker, as text."""
    redis = start_redis()
    running = start_classroom(port=0, teacher_token=TOKEN, workers=2, redis_url=redis.url)
    try:
        page.goto(running.server.page_url(f"teacher.html?token={TOKEN}"))
        expect(page.locator("#stream")).to_have_text("running")
        with connect(running.workers[0].ws_url("/ws")), connect(running.workers[1].ws_url("/ws")):
            listed = page.locator('.path-list[data-path="/ws"] > li')
            expect(listed).to_have_count(2)
            expect(listed.filter(has_text=re.compile(r"^client-\d+ from 127\.0\.0\.1 \(worker 1\)$"))).to_have_count(1)
            expect(listed.filter(has_text=re.compile(r"^client-\d+ from 127\.0\.0\.1 \(worker 2\)$"))).to_have_count(1)
        expect(listed).to_have_count(0)
    finally:
        running.stop()
        redis.stop()
