"""Rate limits on writes: every unsafe request to the pages and the API.

One middleware rather than a decorator per view, so that no interface (page, API,
a future one) can forget it. allauth limits its own flows (login, sign-up, reset)
as well. Counters live in the cache: Redis in production, so they hold across
processes.

The key is the account: the session's user, or the owner of the API token the
request carries (a script with a token is limited like its owner in a browser, and
two scripts behind one address do not share an allowance). Anything else is keyed
by IP address, wrong tokens included: the address ``config.client_ip`` finds (the
socket's peer, or the one the trusted proxies saw; ``RATELIMIT_IP_META_KEY``), which
allauth's limits use as well.
"""

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django_ratelimit.core import _get_ip, is_ratelimited

from accounts import tokens

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def account_or_ip(request: HttpRequest) -> str:
    """ "user:<id>" for a logged-in session or a valid API token, else "ip:<address>"."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    scheme, _space, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        # The API's authentication asks again, and finds the answer kept on the request.
        owner = tokens.authenticate(secret.strip(), request)
        if owner is not None:
            return f"user:{owner.pk}"
    return f"ip:{_get_ip(request)}"


class WriteRateLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if request.method in UNSAFE and path.startswith(settings.RATE_LIMITED_PREFIXES):
            key = account_or_ip(request)
            if self.limited(request, key, "writes", settings.WRITE_RATE_LIMIT):
                return self.refuse(
                    request,
                    _("Too many actions in a short time. Please wait a minute and try again."),
                )
        return self.get_response(request)

    @staticmethod
    def limited(request: HttpRequest, key: str, group: str, rate: str) -> bool:
        return is_ratelimited(
            request, group=group, key=lambda _group, _request: key, rate=rate, increment=True
        )

    def refuse(self, request, message):
        if request.path_info.startswith("/api/"):
            return JsonResponse({"code": "rate_limited", "detail": message}, status=429)
        return render(request, "429.html", {"message": message}, status=429)
