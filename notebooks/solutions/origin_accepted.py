import wstutorial


async def origin_accepted(url: str, origin: str) -> bool:
    """True when the server at ``url`` lets a page from ``origin`` open a WebSocket."""
    try:
        client = await wstutorial.connect(url, origin=origin)
    except wstutorial.ConnectionFailed:
        return False
    await client.close()
    return True
