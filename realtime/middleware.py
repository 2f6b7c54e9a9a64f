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

As for pages (accounts.middleware), the user is marked with the second factor its
session passed: a password-only session holds no role powers on a socket either.
"""

from importlib import import_module

from channels.auth import get_user
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http.cookie import parse_cookie

from accounts import roles


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
        user = await get_user(scope) if session_key else AnonymousUser()
        if user.is_authenticated:
            # get_user has loaded the session: reading it again costs no database hop.
            roles.vouch_from_session(user, scope["session"])
        scope["user"] = user
        return await self.inner(scope, receive, send)
