"""Websocket clients for tests: Channels' communicator in the test's event loop, the
session cookie of a logged-in persona, and ORM calls made off the loop."""

import asyncio
import json

from asgiref.sync import sync_to_async
from channels.testing.websocket import WebsocketCommunicator

from config.asgi import application


class Socket:
    """A websocket client inside the test's event loop (Channels' communicator)."""

    def __init__(self, path, cookies=None, origin=b"http://127.0.0.1:8000"):
        headers = [(b"origin", origin), (b"host", b"127.0.0.1:8000")]
        if cookies:
            headers.append((b"cookie", cookies.encode()))
        self.communicator = WebsocketCommunicator(application, path, headers=headers)

    async def open(self):
        connected, _ = await self.communicator.connect(timeout=10)
        return connected

    async def frame(self, timeout=5):
        return json.loads(await self.communicator.receive_from(timeout=timeout))

    async def frames_until(self, predicate, timeout=10):
        seen = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            try:
                frame = await self.frame(timeout=max(0.05, deadline - loop.time()))
            except TimeoutError:
                break
            seen.append(frame)
            if predicate(frame):
                return seen
        raise AssertionError(f"no matching frame; saw {seen}")

    async def close_code(self, timeout=5):
        output = await self.communicator.receive_output(timeout=timeout)
        assert output["type"] == "websocket.close", output
        return output.get("code")

    async def send(self, payload):
        await self.communicator.send_to(
            text_data=payload if isinstance(payload, str) else json.dumps(payload)
        )

    async def close(self):
        await self.communicator.disconnect()


def session_cookie(client, user, **options):
    from tests.support.accounts import login

    login(client, user, **options)
    return f"sessionid={client.cookies['sessionid'].value}"


def in_thread(function):
    """Run ORM/domain code off the event loop, closing the thread's connection after."""

    def run(*args, **kwargs):
        from django.db import connection

        try:
            return function(*args, **kwargs)
        finally:
            connection.close()

    return sync_to_async(run, thread_sensitive=False)
