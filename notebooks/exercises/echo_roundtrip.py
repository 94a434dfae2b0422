import wstutorial


async def ask(url: str, text: str) -> str:
    """Send ``text`` to the echo server at ``url`` and return its answer."""
    ...  # your code here: connect, send, receive, close
