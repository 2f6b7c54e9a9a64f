"""Site-wide pages: home, legal pages, health."""

import logging
import time

from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import requires_csrf_token

from config import health as health_report

logger = logging.getLogger(__name__)

# The last resort when even the error page cannot be rendered (a template or its loader
# broken): the same words, no stylesheet, no template engine.
BARE_SERVER_ERROR = """<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Erreur du serveur · Server error</title></head>
<body><main id="main"><h1>Une erreur est survenue</h1>
<p>Le site a rencontré un problème inattendu. Veuillez réessayer dans quelques minutes.</p>
<div lang="en"><h2>Server error</h2>
<p>Something went wrong on our side. Please try again in a few minutes.</p></div>
<p><a href="/">Retour à l’accueil</a> · <a href="/" lang="en">Back to the home page</a></p>
</main></body></html>
"""


def home(request):
    return render(request, "pages/home.html")


def legal_notice(request):
    return render(request, "pages/legal_notice.html")


def privacy_policy(request):
    from django.conf import settings

    return render(
        request,
        "pages/privacy.html",
        {"unverified_retention_days": settings.UNVERIFIED_ACCOUNT_RETENTION_DAYS},
    )


def accessibility(request):
    return render(request, "pages/accessibility.html")


@never_cache
def health(request):
    """200 when the database and the cache answer, 503 otherwise; the worker's state is
    reported (a worker away delays mail and results, it does not stop the site). The
    time the checks took is in ``Server-Timing``."""
    started = time.perf_counter()
    report = health_report.status()
    ok = report["database"] and report["cache"]
    response = JsonResponse({"ok": ok, **report}, status=200 if ok else 503)
    response["Server-Timing"] = f"checks;dur={1000 * (time.perf_counter() - started):.2f}"
    return response


@requires_csrf_token
def server_error(request):
    """The 500 page, rendered with nothing that can itself fail for the reason the site is
    failing: no request context, and the stylesheet only if the static files can name it (a
    missing manifest makes ``{% static %}`` raise, and Django would then answer a bare error)."""
    try:
        stylesheet = static("css/agora.css")
    except Exception:
        logger.exception("server error page: no stylesheet")
        stylesheet = ""
    try:
        html: str = loader.render_to_string("500.html", {"stylesheet": stylesheet})
    except Exception:
        logger.exception("server error page: the template failed")
        html = BARE_SERVER_ERROR
    return HttpResponseServerError(html)
