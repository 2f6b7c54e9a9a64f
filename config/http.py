"""Django's ASGI handler, with each request's middleware and view in one thread.

Django's own handler builds the middleware chain for async: with our middleware (sync,
like most: they read the database or Redis) and a sync view, a request went back and forth
between the event loop and its thread about nine times (the sync middleware in a thread,
back to the loop for URL resolution, each view middleware and the view in the thread again,
Django's own middleware hooks one by one). Every crossing waits for the event loop and for
the GIL, so under load the crossings, not the work, set the pace.

Here the chain is built as for WSGI (``load_middleware(is_async=False)``): everything from
the first sync middleware down to the view is one call in the request's thread. Only what
is async above it (ServeStatic, which serves static files, and the security headers
middleware above that) runs on the loop. Each request still has a thread to itself, as
Django's handler gives it (thread-sensitive code and the database connection are
per-thread), but threads are kept and reused: idle ones wait for the next request instead
of a new one being started each time. docs/decisions/0031-write-path.md.
"""

import contextlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import AsyncToSync, ThreadSensitiveContext, sync_to_async
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler

# Idle request threads kept for the next requests; more are started when more requests run
# at once (nothing waits for a thread), and the surplus ends once they are done.
IDLE_THREADS = 32


class OneThreadASGIHandler(ASGIHandler):
    _middleware_chain: Any  # Django's: a sync callable or a coroutine function

    def __init__(self) -> None:
        base.BaseHandler.__init__(self)
        self.load_middleware(is_async=False)
        chain = self._middleware_chain
        # Built for sync with async middleware at the top, the chain is
        # async_to_sync(async part → sync_to_async(sync part)): keep the async part, for
        # the event loop. All sync: one call in the request's thread.
        if isinstance(chain, AsyncToSync):
            self._middleware_chain = chain.awaitable
        else:
            self._middleware_chain = sync_to_async(chain, thread_sensitive=True)
        self._idle: list[ThreadPoolExecutor] = []

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        executor = self._idle.pop() if self._idle else _request_thread()
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
        finally:
            if len(self._idle) < IDLE_THREADS:
                self._idle.append(executor)
            else:
                with contextlib.suppress(RuntimeError):
                    executor.shutdown(wait=False)


def _request_thread() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="request")


def get_asgi_application() -> OneThreadASGIHandler:
    """``django.core.asgi.get_asgi_application``, with the handler above."""
    import django

    django.setup(set_prefix=False)
    return OneThreadASGIHandler()
