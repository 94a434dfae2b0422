"""A Python client for part 1: print the greeting, send one message, close."""

import asyncio
import sys

from tornado.websocket import websocket_connect


async def main(url="ws://localhost:8888/ws"):
    connection = await websocket_connect(url)
    print("received:", await connection.read_message())
    await connection.write_message("hi from the Python client")
    connection.close(1000, "done")  # a close frame with code 1000: normal closure
    await connection.read_message()  # None once the server has answered the close
    print("closed with code", connection.close_code)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "ws://localhost:8888/ws"))
