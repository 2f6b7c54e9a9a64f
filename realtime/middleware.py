"""Cookies, session and user of a websocket connection, in one ASGI layer.

Channels' ``AuthMiddlewareStack`` does this in three layers (cookies, session,
auth). Each copies the scope and keeps a coroutine frame alive for as long as the
socket is open: about 2 KiB per idle socket, a quarter of what the application
adds to uvicorn's own cost (docs/performance.md). This layer does the same job
with the same pieces (Django's cookie parser and configured session store,
Channels' ``get_user``) in one copy and one frame. One difference, on purpose:
it never saves the session. Channels' stack saves it only on HTTP responses, and
a websocket sends none, so the behaviour is the same.

A connection without a session cookie is anonymous without a database hop.
"""

from importlib import import_module

from channels.auth import get_user
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http.cookie import parse_cookie


class SessionAuthMiddleware:
    def __init__(self, inner):
        self.inner = inner
        self.session_store = import_module(settings.SESSION_ENGINE).SessionStore

    async def __call__(self, scope, receive, send):
        cookies = {}
        for name, value in scope.get("headers", ()):
            if name == b"cookie":
                cookies = parse_cookie(value.decode("latin1"))
                break
        session_key = cookies.get(settings.SESSION_COOKIE_NAME)
        scope = dict(scope, cookies=cookies, session=self.session_store(session_key))
        scope["user"] = await get_user(scope) if session_key else AnonymousUser()
        return await self.inner(scope, receive, send)
