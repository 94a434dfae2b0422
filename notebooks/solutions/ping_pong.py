import os
import socket

from wstutorial.teaching import handshake


def ping(sock: socket.socket, payload: bytes) -> bytes:
    """Send a ping frame (masked: we are the client) and return the payload of the pong."""
    sock.sendall(handshake.encode_frame(payload, "ping", mask=os.urandom(4)))
    while True:
        frame = handshake.read_frame(sock)
        if frame.opcode == "pong":
            return frame.payload
