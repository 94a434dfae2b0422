import os
import socket

from wstutorial.teaching import handshake


def ping(sock: socket.socket, payload: bytes) -> bytes:
    """Send a ping frame (masked: we are the client) and return the payload of the pong."""
    ...  # your code here: encode_frame(..., "ping", mask=...), then read_frame until a pong
