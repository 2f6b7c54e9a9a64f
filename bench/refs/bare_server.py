"""Bare reference for bench/fanout.py: the least a Redis-fed websocket fan-out can do.

One Redis pub/sub subscription; every message is already the final frame text and is
written as-is to every open socket with ``websockets.broadcast``. No framework, no
routing, no authentication, no database. On connect a socket gets a small fixed
``snapshot`` frame, as the project's sockets do, then only broadcasts.

It uses the same websocket settings as uvicorn in front of Agora (permessage-deflate
with 12-bit windows and memLevel 5 when the client offers it, 20 s keepalive pings,
64 KiB max message, accept backlog 2048) and uvloop when it is installed, as uvicorn's
``--loop auto`` does, so the comparison measures the application, not the plumbing.

    python bench/refs/bare_server.py --port 8765 --channel agora:bench:ref:demo

Prints ``READY`` on stdout once subscribed and listening on 127.0.0.1.
"""

import argparse
import asyncio
import contextlib
import json

import redis.asyncio as aioredis
from websockets.asyncio.server import ServerConnection, broadcast, serve

SNAPSHOT = json.dumps(
    {
        "type": "snapshot",
        "stream": "public",
        "seq": 0,
        "consultation": {"slug": "reference", "status": "open", "items": {}},
    }
)


async def serve_channel(port: int, channel: str, redis_url: str) -> None:
    connections: set[ServerConnection] = set()

    async def handler(websocket: ServerConnection) -> None:
        connections.add(websocket)
        try:
            await websocket.send(SNAPSHOT)
            await websocket.wait_closed()
        finally:
            connections.discard(websocket)

    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(channel)
    async with serve(handler, "127.0.0.1", port, max_size=65536, backlog=2048):
        print("READY", flush=True)
        async for message in pubsub.listen():
            if message["type"] == "message":
                broadcast(connections, message["data"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--channel", required=True, help="Redis pub/sub channel to fan out")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    args = parser.parse_args()
    try:
        import uvloop
    except ImportError:
        run = asyncio.run
    else:
        run = uvloop.run
    with contextlib.suppress(KeyboardInterrupt):  # SIGINT is how bench/fanout.py stops it
        run(serve_channel(args.port, args.channel, args.redis_url))


if __name__ == "__main__":
    main()
