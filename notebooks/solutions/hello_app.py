"""Part 1 as a program of your own: the Hello World WebSocket AND its page, with Tornado alone.

    python hello_app.py 8888        then open http://localhost:8888/ in a browser

- GET / answers with the page hello_app.html (the file next to this one);
- /ws is the WebSocket: on open, print "new connection" and send "Hello World";
  print "message received <message>" for each message, "connection closed" at the end;
- listen on 127.0.0.1, on the port given as the first argument (8888 without one).
"""

import asyncio
import sys
from pathlib import Path

import tornado.web
import tornado.websocket

PAGE = Path(__file__).with_name("hello_app.html")  # next to this file, wherever it is run from


class WSHandler(tornado.websocket.WebSocketHandler):
    def open(self):
        print("new connection")
        self.write_message("Hello World")

    def on_message(self, message):
        print("message received %s" % message)

    def on_close(self):
        print("connection closed")


class PageHandler(tornado.web.RequestHandler):
    def get(self):
        # Served by the same program as /ws: the page's origin is this server's,
        # so Tornado's own Origin check lets its WebSocket in.
        self.write(PAGE.read_text(encoding="utf-8"))


async def main(port):
    application = tornado.web.Application([
        (r"/", PageHandler),
        (r"/ws", WSHandler),
    ])
    application.listen(port, address="127.0.0.1")  # only this machine can connect
    print(f"listening on http://localhost:{port}/")
    await asyncio.Event().wait()  # serve until the program is stopped


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 8888))
