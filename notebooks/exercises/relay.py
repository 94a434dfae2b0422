import redis.asyncio


async def relay(redis_url, channel, send):
    """Subscribe to `channel`; call send(text) for every message published there, until cancelled."""
    client = redis.asyncio.Redis.from_url(redis_url)
    pubsub = client.pubsub()
    ...  # your code here: subscribe to the channel
    ...  # your code here: for each message of type "message", send its data as text
