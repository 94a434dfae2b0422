"""Part 2 of the original tutorial: send "message: <n>" every 2 s to every client."""

import asyncio
import sys

import tornado.ioloop
import tornado.web
import tornado.websocket

clients = set()  # the open connections: each message goes to all of them
count = 0


def send_to_all():
    global count
    count += 1
    for client in clients:
        client.write_message(f"message: {count}")


timer = tornado.ioloop.PeriodicCallback(send_to_all, 2000)  # in milliseconds


class StreamHandler(tornado.websocket.WebSocketHandler):
    def open(self):
        print("new connection")
        clients.add(self)
        if len(clients) == 1:  # the first client starts the stream
            timer.start()

    def on_close(self):
        print("connection closed")
        clients.discard(self)
        if not clients:  # the last one left: stop sending
            timer.stop()


async def main(port=8888):
    application = tornado.web.Application([(r"/streaming", StreamHandler)])
    application.listen(port, address="127.0.0.1")
    print(f"listening on ws://localhost:{port}/streaming")
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 8888))
