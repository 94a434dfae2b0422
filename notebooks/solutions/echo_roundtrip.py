import wstutorial


async def ask(url: str, text: str) -> str:
    """Send ``text`` to the echo server at ``url`` and return its answer."""
    async with await wstutorial.connect(url) as client:
        await client.send(text)
        return await client.receive(timeout=5)
