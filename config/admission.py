"""Shed load: at most ``MAX_CONCURRENT_REQUESTS`` HTTP requests in a process at once; the
next ones wait their turn up to ``REQUEST_QUEUE_SECONDS``, then are answered 503 with
``Retry-After``.

Without it, a surge beyond what a process serves (bench/load.py's burst: 1,500 writes a
second on two cores) piled up inside it: a thread per request waiting for one of the
pool's ``DATABASE_POOL_SIZE`` connections, each a little slower as more threads fought
for the interpreter, until the pool's timeout answered them 10 s later with errors and
the clients had long given up. Nobody was served, not even the first. Refusing at the
door, cheaply and on the event loop, keeps the requests let in as fast as when the
process is quiet, and tells the others at once when to come back; a careful client
sends the same write again then, with the same ``Idempotency-Key``.

Websockets are not counted (a socket is one request, held for hours); nor is the health
check, so that a busy process is not taken for a dead one. The proxy in front buffers
request bodies (nginx's default), so a slow upload holds no place here.
docs/performance.md, "Load, with nothing lost".
"""

import asyncio
import json
import math
from collections import deque

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from config.body_limit import Scope, Send, scope_language

NOT_COUNTED = ("/health/",)


class Door:
    """The places of one process, and the requests waiting for one, first come first."""

    def __init__(self) -> None:
        self.busy = 0
        self.waiting: deque[asyncio.Future] = deque()

    async def enter(self, limit: int, patience: float) -> bool:
        """True once the request has a place; False if none came in ``patience`` s."""
        while self.waiting and self.waiting[0].done():  # gave up waiting: not in the line
            _gone = self.waiting.popleft()
        if self.busy < limit and not self.waiting:
            self.busy += 1
            return True
        if patience <= 0:
            return False
        turn = asyncio.get_running_loop().create_future()
        self.waiting.append(turn)
        try:
            async with asyncio.timeout(patience):
                await turn
        except TimeoutError:
            if turn.done() and not turn.cancelled():
                self.leave()  # a place came just as the patience ran out: pass it on
            return False
        finally:
            if not turn.done():
                turn.cancel()
        return True

    def leave(self) -> None:
        """Hand the place to the first request still waiting, or free it."""
        while self.waiting:
            turn = self.waiting.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        self.busy -= 1


door = Door()


class AdmissionMiddleware:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("path", "").startswith(NOT_COUNTED):
            await self.app(scope, receive, send)
            return
        if not await door.enter(settings.MAX_CONCURRENT_REQUESTS, settings.REQUEST_QUEUE_SECONDS):
            await _busy(scope, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            door.leave()


_page: bytes | None = None


async def _busy(scope: Scope, send: Send) -> None:
    global _page
    if scope.get("path", "").startswith("/api/"):
        with translation.override(scope_language(scope)):
            detail = _("Agora is very busy right now: please try again in a moment.")
        body = json.dumps({"code": "unavailable", "detail": detail}).encode()
        content_type = b"application/json"
    else:
        if _page is None:  # the same words for everyone: rendered once per process
            _page = render_to_string("503_busy.html").encode()
        body = _page
        content_type = b"text/html; charset=utf-8"
    retry_after = max(1, math.ceil(settings.REQUEST_QUEUE_SECONDS))
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(retry_after).encode()),
                (b"cache-control", b"no-store"),
                (b"x-content-type-options", b"nosniff"),
                (b"content-security-policy", b"default-src 'none'; style-src 'self'"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
