"""Part 1 of the original tutorial: the Hello World WebSocket server, in Tornado 6."""

import asyncio
import sys

import tornado.web
import tornado.websocket


class WSHandler(tornado.websocket.WebSocketHandler):
    def open(self):
        print("new connection")
        self.write_message("Hello World")

    def on_message(self, message):
        print("message received %s" % message)

    def on_close(self):
        print("connection closed")


async def main(port=8888):
    application = tornado.web.Application([(r"/ws", WSHandler)])
    application.listen(port, address="127.0.0.1")  # only this machine can connect
    print(f"listening on ws://localhost:{port}/ws")
    await asyncio.Event().wait()  # serve until the program is stopped


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 8888))
