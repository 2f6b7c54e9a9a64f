"""ServeStatic's middleware, able to sit in a synchronous middleware chain as well.

ServeStatic's own middleware is async only: in a chain of sync middleware Django wraps
everything below it in a thread hop, and the security headers' middleware above it runs
its hooks through a thread hop each. Ours serves the same files with the same headers from
either kind of chain, so that config/http.py can run a request's whole chain in one thread
(docs/decisions/0031-write-path.md); in an async chain it is ServeStatic's, unchanged.
"""

from typing import Any

from asgiref.sync import iscoroutinefunction
from django.conf import settings as django_settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from servestatic import middleware


class ServeStaticMiddleware(middleware.ServeStaticMiddleware):
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Any, settings: Any = django_settings) -> None:
        self.sync_mode = not iscoroutinefunction(get_response)
        if not self.sync_mode:
            super().__init__(get_response, settings)
            return

        async def refused(request: HttpRequest) -> HttpResponseBase:  # never called
            raise AssertionError("a sync chain's ServeStaticMiddleware awaited its handler")

        super().__init__(refused, settings)  # which insists on an async handler
        self.get_response = get_response
        # ...and marks the instance a coroutine function: in a sync chain it is not one.
        self.__dict__.pop("_is_coroutine_marker", None)
        self.__dict__.pop("_is_coroutine", None)

    def __call__(self, request: HttpRequest) -> Any:
        if not self.sync_mode:
            return super().__call__(request)  # ServeStatic's coroutine
        if self.autorefresh:
            static_file = self.find_file(request.path_info)
        else:
            static_file = self.files.get(request.path_info)
        if static_file is None:
            return self.get_response(request)
        found = static_file.get_response(request.method or "GET", request.META)
        response = middleware.AsyncServeStaticFileResponse(
            found.file or (), status=int(found.status)
        )
        del response["content-type"]  # ServeStatic's headers say it
        for name, value in found.headers:
            if value is not None:
                response[name] = value
        return response
