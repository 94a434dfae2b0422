"""permessage-deflate with a real Chromium, which offers it on every WebSocket: agreed, both ways, and limited."""

from __future__ import annotations

from playwright.sync_api import Page

import wstutorial

# Opens a WebSocket from the page, runs the steps, and resolves with what happened.
ROUND_TRIP = """async ([url, messages]) => {
    const ws = new WebSocket(url);
    ws.binaryType = "arraybuffer";
    const received = [];
    const closed = new Promise(resolve => { ws.onclose = event => resolve(event.code); });
    await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
    for (const message of messages) {
        const answer = new Promise(resolve => { ws.onmessage = event => resolve(event.data); });
        ws.send(message.binary ? new Uint8Array(message.size).fill(7) : message.text);
        const data = await answer;
        received.push(typeof data === "string" ? data : "binary:" + data.byteLength);
    }
    const extensions = ws.extensions;
    ws.close(1000);
    return {extensions, received, code: await closed};
}"""


def test_chromium_agrees_to_permessage_deflate_and_every_message_comes_back(page: Page, server: wstutorial.TutorialServer) -> None:
    """Short and long, text and binary: Chromium compresses what it sends, the server inflates it and answers compressed when long."""
    page.goto(server.page_url("hello.html"))
    long_text = "κόσμε message " * 500  # about 8 kB: the echo goes back compressed
    result = page.evaluate(
        ROUND_TRIP,
        [server.ws_url("/echo"), [{"text": "short"}, {"text": long_text}, {"binary": True, "size": 70000}, {"text": ""}]],
    )
    assert result["extensions"].startswith("permessage-deflate; server_no_context_takeover; client_no_context_takeover")
    assert result["received"] == ["short", long_text, "binary:70000", ""]
    assert result["code"] == 1000


def test_a_message_that_inflates_beyond_the_limit_closes_the_page_with_1009(page: Page) -> None:
    """Chromium compresses 2 MB of one letter to about 2 kB; the server stops inflating at max_message_size (1 MiB)."""
    with wstutorial.start_server(port=0) as server:
        page.goto(server.page_url("hello.html"))
        code = page.evaluate(
            """url => new Promise((resolve, reject) => {
                const ws = new WebSocket(url);
                ws.onopen = () => ws.send("a".repeat(2000000));
                ws.onclose = event => resolve(event.code);
                ws.onerror = () => {};
            })""",
            server.ws_url("/echo"),
        )
        assert code == 1009
        assert server.events.wait_for("closed with 1009: message too big once inflated", timeout=10)
