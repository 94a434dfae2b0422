"""Part 1's server, stopping cleanly: on SIGTERM (or Ctrl-C) it stops accepting, closes every client with 1001, exits.

GET /health answers "ok" and the number of clients: what a load balancer or a
container platform asks, every few seconds, before it sends clients here.
"""

import asyncio
import signal
import sys

import tornado.web
import tornado.websocket

clients = set()  # the open connections: a clean stop closes each of them


class WSHandler(tornado.websocket.WebSocketHandler):
    def open(self):
        clients.add(self)
        print("new connection")
        self.write_message("Hello World")

    def on_close(self):
        clients.discard(self)
        print("connection closed")


class HealthHandler(tornado.web.RequestHandler):
    def get(self):
        self.write({"status": "ok", "clients": len(clients)})


async def main(port=8888):
    application = tornado.web.Application([(r"/ws", WSHandler), (r"/health", HealthHandler)])
    server = application.listen(port, address="127.0.0.1")
    print(f"listening on ws://localhost:{port}/ws")
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    # SIGTERM is how a service manager, a container platform or `kill` asks a
    # program to stop; SIGINT is Ctrl-C. The handler only wakes the loop.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: loop.call_soon_threadsafe(stopping.set))
    await stopping.wait()

    print(f"stopping: no new connections; closing {len(clients)} with 1001")
    server.stop()  # stop accepting
    for client in list(clients):
        client.close(1001, "server shutting down")  # going away: come back later
    for _ in range(50):  # each client answers the close frame within moments; at most 5 s
        if not clients:
            break
        await asyncio.sleep(0.1)
    print("stopped")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 8888))
