"""The tutorial's handlers, tested the Tornado way (AsyncHTTPTestCase + gen_test)."""

from __future__ import annotations

import asyncio

import tornado.web
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.testing import AsyncHTTPTestCase, gen_test
from tornado.websocket import WebSocketClientConnection, websocket_connect

from wstutorial.events import EventLog
from wstutorial.server.app import make_app
from wstutorial.server.handlers import TutorialHandler


class BrokenHandler(TutorialHandler):
    """Raises in on_message, to show errors become events."""

    def on_message(self, message: str | bytes) -> None:
        raise ValueError(f"cannot handle {message!r}")


class HandlerTest(AsyncHTTPTestCase):
    def get_app(self) -> tornado.web.Application:
        self.events = EventLog()
        return make_app(events=self.events, interval=0.02, max_message_size=1024, handlers={"/broken": BrokenHandler})

    def tearDown(self) -> None:
        for connection in getattr(self, "_connections", []):
            connection.close()
        super().tearDown()

    async def ws_connect(self, path: str, **headers: str) -> WebSocketClientConnection:
        request = HTTPRequest(f"ws://127.0.0.1:{self.get_http_port()}{path}", headers=headers)
        connection = await websocket_connect(request)
        self._connections = getattr(self, "_connections", []) + [connection]
        return connection

    async def wait_for_event(self, text: str) -> None:
        for _ in range(200):
            if self.events.find(text):
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"no event {text!r}; events: {self.events.texts()}")

    @gen_test
    async def test_hello_says_hello_world_and_records_events(self) -> None:
        """/ws sends Hello World and records the original's three sentences."""
        connection = await self.ws_connect("/ws")
        assert await connection.read_message() == "Hello World"
        await connection.write_message("hi there")
        await self.wait_for_event("message received hi there")
        connection.close()
        await self.wait_for_event("connection closed")
        assert self.events.texts()[:3] == ["new connection", "message received hi there", "connection closed"]

    @gen_test
    async def test_echo_returns_text_and_binary(self) -> None:
        """/echo sends back each message, text as text and binary as binary."""
        connection = await self.ws_connect("/echo")
        await connection.write_message("ping")
        assert await connection.read_message() == "ping"
        await connection.write_message(b"\x00\x01", binary=True)
        assert await connection.read_message() == b"\x00\x01"

    @gen_test
    async def test_streaming_counts_up_for_every_client(self) -> None:
        """/streaming sends message: n, n counting up, to all clients."""
        first = await self.ws_connect("/streaming")
        second = await self.ws_connect("/streaming")
        got_first = [await first.read_message() for _ in range(3)]
        got_second = [await second.read_message() for _ in range(3)]
        numbers = [int(str(message).split(": ")[1]) for message in got_first]
        assert all(str(message).startswith("message: ") for message in got_first + got_second)
        assert numbers == sorted(numbers) and len(set(numbers)) == 3

    @gen_test
    async def test_stream_starts_with_first_client_and_ends_with_last(self) -> None:
        """The sending task runs only while someone listens."""
        stream = self._app.settings["wstutorial_stream"]
        assert not stream.running
        connection = await self.ws_connect("/streaming")
        await connection.read_message()
        assert stream.running
        connection.close()
        await self.wait_for_event("stream stopped")
        assert not stream.running

    @gen_test
    async def test_unknown_path_is_404(self) -> None:
        """A WebSocket to a path the server does not have gets 404."""
        with self.assertRaises(HTTPClientError) as raised:
            await self.ws_connect("/nowhere")
        assert raised.exception.code == 404

    @gen_test
    async def test_foreign_origin_is_403_and_recorded(self) -> None:
        """A page from another origin is refused, and the log says so."""
        with self.assertRaises(HTTPClientError) as raised:
            await self.ws_connect("/ws", Origin="http://evil.example")
        assert raised.exception.code == 403
        assert self.events.find("origin rejected 'http://evil.example'")

    @gen_test
    async def test_same_origin_and_loopback_alias_are_accepted(self) -> None:
        """A page served by this server may connect, as localhost or 127.0.0.1."""
        port = self.get_http_port()
        for origin in (f"http://127.0.0.1:{port}", f"http://localhost:{port}"):
            connection = await self.ws_connect("/ws", Origin=origin)
            assert await connection.read_message() == "Hello World"

    @gen_test
    async def test_message_over_the_limit_closes_with_1009(self) -> None:
        """A message bigger than max_message_size closes that connection with 1009."""
        connection = await self.ws_connect("/echo")
        await connection.write_message("x" * 2048)
        assert await connection.read_message() is None
        assert connection.close_code == 1009
        healthy = await self.ws_connect("/ws")
        assert await healthy.read_message() == "Hello World"

    @gen_test
    async def test_exception_in_handler_becomes_an_event(self) -> None:
        """An exception in on_message is recorded; the server keeps serving."""
        connection = await self.ws_connect("/broken")
        await connection.write_message("boom")
        await self.wait_for_event("error in BrokenHandler")
        healthy = await self.ws_connect("/ws")
        assert await healthy.read_message() == "Hello World"

    def test_pages_are_served(self) -> None:
        """The index, hello and streaming pages come from static/."""
        for path, text in [("/", "hello.html"), ("/hello.html", 'id="uri"'), ("/streaming.html", 'id="log"')]:
            response = self.fetch(path)
            assert response.code == 200, path
            assert text in response.body.decode()

    def test_static_paths_never_leave_static(self) -> None:
        """Encoded ../ in a page path gets 403 or 404, never a file outside static/."""
        for path in ("/..%2fpyproject.toml", "/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2fetc%2fpasswd"):
            response = self.fetch(path)
            assert response.code in (403, 404), path
