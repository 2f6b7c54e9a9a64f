"""Refuse oversized request bodies at the ASGI layer, before anything reads them.

Django's ASGI handler reads the whole body (spooling it to disk past
``FILE_UPLOAD_MAX_MEMORY_SIZE``) before the first middleware runs, so a 60 MB anonymous
upload was received in full only to be refused with a 403. This wraps the HTTP
application: a ``Content-Length`` above ``MAX_REQUEST_BODY_BYTES`` is answered with a
413 without reading a byte of the body; a body without one (chunked) is counted as it
arrives and answered with a 413 as soon as it grows past the limit, the application
being told the client left (Django then drops the request unanswered). The API gets
JSON ``{"code": "too_large", "detail": ...}`` like its other errors, pages a short
stand-alone page. No maintained library does this for us (decision 0025).

The proxy in front should refuse such bodies first (nginx's ``client_max_body_size``,
deploy/nginx.conf); this is the limit that holds without one.
"""

import io
import json
from collections.abc import Awaitable, Callable
from typing import Any

from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

# An ASGI connection's scope, and the channel a response is sent on.
type Scope = dict[str, Any]
type Send = Callable[[dict[str, Any]], Awaitable[None]]


class BodyLimitMiddleware:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        limit = settings.MAX_REQUEST_BODY_BYTES
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _too_large(scope, send, limit)
            return

        received = 0
        answered = False  # we sent the 413
        started = False  # the application began its own response

        async def limited_receive():
            nonlocal received, answered
            if answered:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    if not started:
                        await _too_large(scope, send, limit)
                        answered = True
                    # Stop reading: to the application the client has gone.
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message):
            nonlocal started
            if answered:
                return  # the 413 is the response; nothing may follow it
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, limited_receive, guarded_send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses those; count the body as it comes
    return None


async def _too_large(scope: Scope, send: Send, limit: int) -> None:
    if scope.get("path", "").startswith("/api/"):
        with translation.override(scope_language(scope)):
            detail = _("The request is too large: at most %(max)s kB.") % {"max": limit // 1024}
        body = json.dumps({"code": "too_large", "detail": detail}).encode()
        content_type = b"application/json"
    else:
        # Stand-alone and bilingual like 400.html: no request object is built for it.
        body = render_to_string("413.html", {"max_kb": limit // 1024}).encode()
        content_type = b"text/html; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                # The unread body is still on the wire: this connection cannot carry
                # another request.
                (b"connection", b"close"),
                (b"x-content-type-options", b"nosniff"),
                (b"content-security-policy", b"default-src 'none'; style-src 'self'"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def scope_language(scope: Scope) -> str:
    """The language LocaleMiddleware would pick (cookie, then Accept-Language)."""
    try:
        return translation.get_language_from_request(ASGIRequest(scope, io.BytesIO()))
    except (UnicodeDecodeError, ValueError):  # a malformed request still gets its 413
        return settings.LANGUAGE_CODE
