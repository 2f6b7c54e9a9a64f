"""Cookies, session and user of a websocket connection, in one ASGI layer.

Channels' ``AuthMiddlewareStack`` does this in three layers (cookies, session,
auth). Each copies the scope and keeps a coroutine frame alive for as long as the
socket is open: about 2 KiB per idle socket, a quarter of what the application
adds to uvicorn's own cost (docs/performance.md). This layer does the same job
with the same pieces (Django's cookie parser and configured session store,
Channels' ``get_user``) in one copy and one frame. One difference, on purpose:
it never saves the session. Channels' stack saves it only on HTTP responses, and
a websocket sends none, so the behaviour is the same.

A connection without a session cookie is anonymous at once. With one, the session
and the user are read later, once, by ``load_user(scope)`` in the consumer's one
database hop of a connect (``realtime.doorway``), rather than in a hop of their
own: a reconnect storm of signed-in visitors costs one hop per socket, not two.
Until then ``scope["user"]`` is lazy: read off the event loop it loads itself
(once), and read on the event loop it raises Django's ``SynchronousOnlyOperation``
rather than block the loop.

As for pages (accounts.middleware), the user is marked with the second factor its
session passed: a password-only session holds no role powers on a socket either.
"""

from importlib import import_module
from typing import Any

from channels.auth import get_user
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.base import SessionBase
from django.http.cookie import parse_cookie
from django.utils.functional import SimpleLazyObject, empty

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
        session = self.session_store(session_key)
        scope = dict(scope, cookies=cookies, session=session)
        scope["user"] = SessionUser(session) if session_key else AnonymousUser()
        return await self.inner(scope, receive, send)


class SessionUser(SimpleLazyObject):
    """The user of a session, read from the store on first use (synchronous: off the loop)."""

    def __init__(self, session: SessionBase):
        def read() -> Any:
            user = get_user.func({"session": session})  # Channels' own, without its hop
            if user.is_authenticated:
                roles.vouch_from_session(user, session)  # (the session is loaded by now)
            return user

        super().__init__(read)

    def read(self) -> Any:
        if self._wrapped is empty:
            self._setup()
        return self._wrapped


def user_is_read(scope: dict[str, Any]) -> bool:
    """True once the socket's user needs no database read any more."""
    return not isinstance(scope.get("user"), SessionUser)


def load_user(scope: dict[str, Any]) -> Any:
    """The socket's user, read from its session now if it is not yet. Off the event loop."""
    user = scope.get("user")
    if isinstance(user, SessionUser):
        user = scope["user"] = user.read()
    return user if user is not None else AnonymousUser()
