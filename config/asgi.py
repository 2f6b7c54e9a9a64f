"""ASGI entry point: HTTP through Django, websockets through Channels.

On the embedded default the ASGI server's lifespan startup also starts the
in-process Celery worker and beat (see config/embedded_worker.py), so one
``uvicorn`` process serves the whole product.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.conf import settings

from config.http import get_asgi_application

# Django's handler, each request's middleware and view in one thread (config/http.py).
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from config.admission import AdmissionMiddleware  # noqa: E402
from config.body_limit import BodyLimitMiddleware  # noqa: E402
from realtime.middleware import SessionAuthMiddleware  # noqa: E402
from realtime.origin import SameOriginValidator  # noqa: E402
from realtime.routing import websocket_urlpatterns  # noqa: E402

router = ProtocolTypeRouter(
    {
        # A process serving all it can answers the next requests 503 + Retry-After after
        # a short wait (MAX_CONCURRENT_REQUESTS); oversized bodies are refused before Django
        # reads them (MAX_REQUEST_BODY_BYTES); websocket messages are bounded by the server
        # (uvicorn's --ws-max-size).
        "http": AdmissionMiddleware(BodyLimitMiddleware(django_asgi_app)),
        # The full origin (scheme, host, port) must be the site's own.
        "websocket": SameOriginValidator(SessionAuthMiddleware(URLRouter(websocket_urlpatterns))),
    }
)


async def lifespan(scope, receive, send):
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            if settings.CELERY_EMBEDDED_WORKER:
                from asgiref.sync import sync_to_async

                from config import embedded_worker

                # Starting it runs Django's checks: synchronous work, off the event loop.
                await sync_to_async(embedded_worker.start, thread_sensitive=False)()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def application(scope, receive, send):
    if scope["type"] == "lifespan":
        await lifespan(scope, receive, send)
    else:
        await router(scope, receive, send)
