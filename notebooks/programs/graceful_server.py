"""Part 1's server with a clean stop (SIGTERM or Ctrl-C: no new clients, 1001 to each) and GET /health."""

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
    def get(self):  # what a load balancer asks every few seconds
        self.write({"status": "ok", "clients": len(clients)})


async def main(port=8888):
    application = tornado.web.Application([(r"/ws", WSHandler), (r"/health", HealthHandler)])
    server = application.listen(port, address="127.0.0.1")
    print(f"listening on ws://localhost:{port}/ws")
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):  # kill / a service manager; Ctrl-C
        signal.signal(signum, lambda *_: loop.call_soon_threadsafe(stopping.set))
    await stopping.wait()
    print(f"stopping: no new connections; closing {len(clients)} with 1001")
    server.stop()
    for client in list(clients):
        client.close(1001, "server shutting down")  # going away: come back later
    for _ in range(50):  # each answers the close within moments; wait at most 5 s
        if not clients:
            break
        await asyncio.sleep(0.1)
    print("stopped")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 8888))
