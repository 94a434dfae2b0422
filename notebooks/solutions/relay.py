import redis.asyncio


async def relay(redis_url, channel, send):
    """Subscribe to `channel`; call send(text) for every message published there, until cancelled."""
    client = redis.asyncio.Redis.from_url(redis_url)
    pubsub = client.pubsub()
    await pubsub.subscribe(channel)
    try:
        async for message in pubsub.listen():
            if message["type"] == "message":  # not the "subscribe" confirmation
                send(message["data"].decode())
    finally:
        await pubsub.aclose()
        await client.aclose()
