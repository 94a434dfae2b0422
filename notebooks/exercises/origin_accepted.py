import wstutorial


async def origin_accepted(url: str, origin: str) -> bool:
    """True when the server at ``url`` lets a page from ``origin`` open a WebSocket."""
    ...  # your code here: try wstutorial.connect(url, origin=origin)
