"""The bare reference for bench/write_path.py: a vote as a plain ASGI app.

No framework: ``PUT /api/v1/items/{id}/vote`` with a JSON body ``{"choice": …}`` is one
``INSERT … ON CONFLICT DO UPDATE`` on Agora's own ``consultation_vote`` table (autocommit,
on a connection from a small pool of psycopg async connections opened at start-up) and
one Redis ``INCR`` of a per-item, per-choice counter (redis.asyncio, one pool). The voter
is read from an in-memory map of the bench's tokens (``BENCH_TOKENS``, a JSON file
{token: user id}): this reference authenticates nobody and checks nothing, it is the
floor of "one upsert + one INCR" under the project's uvicorn command.

``GET /_stats`` answers the SQL statements sent so far (the bench reads them).

    BENCH_DATABASE_URL=postgres://… REDIS_URL=redis://127.0.0.1:6379/12 BENCH_TOKENS=… \\
      python -m uvicorn write_bare:app --app-dir bench/refs --port 8767 ...
"""

import asyncio
import json
import os
import re
from datetime import UTC, datetime

import psycopg
import redis.asyncio as aioredis

POOL_SIZE = int(os.environ.get("BENCH_POOL_SIZE", "8"))
VOTE_PATH = re.compile(r"^/api/v1/items/([0-9]+)/vote$")
CHOICES = {"for", "against", "abstain"}
UPSERT = """
    INSERT INTO consultation_vote (item_id, user_id, choice, created_at, updated_at)
    VALUES (%s, %s, %s, %s, %s)
    ON CONFLICT (item_id, user_id)
    DO UPDATE SET choice = EXCLUDED.choice, updated_at = EXCLUDED.updated_at
"""

state: dict = {"statements": 0}


async def open_pool() -> None:
    url = os.environ["BENCH_DATABASE_URL"]
    pool: asyncio.Queue = asyncio.Queue()
    for _ in range(POOL_SIZE):
        pool.put_nowait(await psycopg.AsyncConnection.connect(url, autocommit=True))
    state["pool"] = pool
    state["redis"] = aioredis.Redis.from_url(os.environ["REDIS_URL"], max_connections=64)
    with open(os.environ["BENCH_TOKENS"]) as tokens:
        state["tokens"] = {token.encode(): user for token, user in json.load(tokens).items()}


async def read_body(receive) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


async def answer(send, status: int, payload: dict) -> None:
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def vote(scope, receive, send, item_id: int) -> None:
    body = await read_body(receive)
    headers = dict(scope["headers"])
    user_id = state["tokens"].get(headers.get(b"authorization", b"")[len(b"Bearer ") :])
    choice = json.loads(body).get("choice")
    if user_id is None or choice not in CHOICES:
        await answer(send, 401 if user_id is None else 422, {"code": "refused"})
        return
    pool: asyncio.Queue = state["pool"]
    connection = await pool.get()
    try:
        now = datetime.now(UTC)
        await connection.execute(UPSERT, (item_id, user_id, choice, now, now))
        state["statements"] += 1
    finally:
        pool.put_nowait(connection)
    await state["redis"].incr(f"agora:bench:bare:{item_id}:{choice}")
    await answer(send, 200, {"item": item_id, "choice": choice})


async def app(scope, receive, send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await open_pool()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    path = scope["path"]
    if scope["method"] == "GET" and path == "/_stats":
        await read_body(receive)
        await answer(send, 200, {"statements": state["statements"]})
        return
    match = VOTE_PATH.match(path)
    if scope["method"] == "PUT" and match:
        await vote(scope, receive, send, int(match.group(1)))
        return
    await read_body(receive)
    await answer(send, 404, {"code": "not_found"})
