"""The ASGI floor for bench/fanout.py: the bare reference's fan-out as a plain ASGI app.

No Django, no Channels: on ``websocket.connect`` it accepts, sends a small fixed
snapshot and keeps the socket's ASGI ``send``; one Redis pub/sub subscription
(opened at lifespan startup) writes each message to every kept ``send`` in turn,
as Agora's hub does. Run under the same uvicorn command as Agora, it shows what
uvicorn's ASGI websocket path costs by itself, so that the distance between Agora
and bench/refs/bare_server.py can be split into "the server" and "the application".

    BENCH_CHANNEL=agora:bench:floor:demo REDIS_URL=redis://127.0.0.1:6379/13 \\
      python -m uvicorn refs.asgi_floor:app --app-dir bench --port 8766 ...
"""

import asyncio
import json
import os

import redis.asyncio as aioredis

SNAPSHOT = json.dumps(
    {
        "type": "snapshot",
        "stream": "public",
        "seq": 0,
        "consultation": {"slug": "floor", "status": "open", "items": {}},
    }
)

sockets: set = set()


async def fan_out(channel: str, redis_url: str, subscribed: asyncio.Event) -> None:
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(channel)
    subscribed.set()
    async for message in pubsub.listen():
        if message["type"] != "message":
            continue
        for send in list(sockets):
            try:
                await send({"type": "websocket.send", "text": message["data"]})
            except Exception:  # closing under us: the disconnect event removes it
                sockets.discard(send)


async def lifespan(receive, send) -> None:
    task = None
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            subscribed = asyncio.Event()
            channel, redis_url = os.environ["BENCH_CHANNEL"], os.environ["REDIS_URL"]
            task = asyncio.get_running_loop().create_task(fan_out(channel, redis_url, subscribed))
            await asyncio.wait_for(subscribed.wait(), 10)
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if task is not None:
                task.cancel()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def websocket(receive, send) -> None:
    while True:
        message = await receive()
        if message["type"] == "websocket.connect":
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.send", "text": SNAPSHOT})
            sockets.add(send)
        elif message["type"] == "websocket.disconnect":
            sockets.discard(send)
            return


async def app(scope, receive, send) -> None:
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
    elif scope["type"] == "websocket":
        await websocket(receive, send)
