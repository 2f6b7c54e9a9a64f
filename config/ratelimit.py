"""Rate limits on writes: every unsafe request to the participation pages and the API.

One middleware rather than a decorator per view, so that no interface (page, API,
a future one) can forget it. allauth limits its own flows (login, sign-up, reset).
Counters live in the cache: Redis in production, so they hold across processes.
"""

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django_ratelimit.core import is_ratelimited

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


class WriteRateLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if request.method in UNSAFE and path.startswith(settings.RATE_LIMITED_PREFIXES):
            limited = is_ratelimited(
                request,
                group="writes",
                key="user_or_ip",
                rate=settings.WRITE_RATE_LIMIT,
                increment=True,
            )
            if limited:
                return self.refuse(request)
        return self.get_response(request)

    def refuse(self, request):
        message = _("Too many actions in a short time. Please wait a minute and try again.")
        if request.path_info.startswith("/api/"):
            return JsonResponse({"code": "rate_limited", "detail": message}, status=429)
        return render(request, "429.html", {"message": message}, status=429)
