"""A database that does not answer is an outage to wait out, not a server error.

PostgreSQL restarting, unreachable, or every pooled connection taken for
``DATABASE_POOL_TIMEOUT`` seconds: Django raises ``OperationalError`` (or
``InterfaceError`` on a connection that died under it) wherever the first query is, in a
view or in a middleware (the session, the write limit reading a token). Django turns any
uncaught exception into its 500 handler; ours (``handler500`` in ``config/urls.py``)
answers those two with 503 and ``Retry-After`` instead: JSON ``{"code": "unavailable"}``
on the API, a page that needs neither the database nor a request context elsewhere. The
request's transaction was rolled back: nothing is half-written, and the same request may
be sent again (docs/deploy.md, "Faults").

Redis being down is handled where each use of it decides (config/cache.py).
"""

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.utils.translation import gettext as _

from config import views

RETRY_AFTER_SECONDS = 5
logger = logging.getLogger(__name__)


def is_database_outage(error: BaseException | None) -> bool:
    """The error, or one it was raised from or while handling, is the database's."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, OperationalError | InterfaceError):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def _outage_page() -> str:
    """Like the 500 page (config/views.py): nothing in it may fail for the reason the site
    is failing, a missing static manifest included."""
    try:
        stylesheet = static("css/agora.css")
    except Exception:
        stylesheet = ""
    try:
        return render_to_string("503_database.html", {"stylesheet": stylesheet})
    except Exception:
        logger.exception("database outage page: the template failed")
        return "Service momentanément indisponible. Temporarily unavailable."


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a database outage is a 503; anything else the site's 500 page.

    Called by Django inside the ``except`` of the request's thread (the middleware chain
    is synchronous: config/http.py), so ``sys.exception()`` is the uncaught error."""
    if not is_database_outage(sys.exception()):
        return views.server_error(request)
    response: HttpResponse
    if request.path_info.startswith("/api/"):
        detail = _(
            "The service is briefly unavailable: its database is not answering. Please "
            "send the request again in a few seconds."
        )
        response = JsonResponse({"code": "unavailable", "detail": detail}, status=503)
    else:
        response = HttpResponse(_outage_page(), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
