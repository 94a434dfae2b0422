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
    ...  # your code here: open, on_message and on_close, as in notebook 01


class PageHandler(tornado.web.RequestHandler):
    def get(self):
        ...  # your code here: self.write(...) the page's text


async def main(port):
    ...  # your code here: an Application with both routes, listen on the port, then wait for ever


if __name__ == "__main__":
    ...  # your code here: run main() with the port from the command line
