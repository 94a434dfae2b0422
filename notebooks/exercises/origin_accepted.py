import wstutorial


async def origin_accepted(url: str, origin: str) -> bool:
    """True when the server at ``url`` lets a page from ``origin`` open a WebSocket, False when it refuses (403).

    Any other failure (nothing listening, no WebSocket at that path: 404) says
    nothing about the origin: let that ConnectionFailed go on to the caller.
    """
    ...  # your code here: try wstutorial.connect(url, origin=origin); a ConnectionFailed has .status
