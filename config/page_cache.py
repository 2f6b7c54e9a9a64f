"""The anonymous page cache: whole public pages, copied for visitors who are not signed in
(docs/decisions/0039-anonymous-page-cache.md, docs/performance.md "Read path").

When a national question is announced, most of the surge is people opening pages. A page
rendered for one anonymous visitor is the page every anonymous visitor with the same
address and language gets, so it is stored once and served from the cache, before the
session, the user, CSRF and the view are reached.

What is cached, and for whom:

- only ``GET`` requests for the pages named in ``PAGES`` (home, the consultations list, a
  consultation, a measure, results, the method cards, the moderation log) and the public
  API's reads of the same (consultations, items, results);
- only for a request that carries neither the session cookie nor the messages cookie nor
  an ``Authorization`` header: a signed-in person, a caller with a token (a wrong one
  must still be refused), or a visitor in the middle of a sign-in or with a message
  waiting, always gets an answer made for them;
- keyed by scheme, host, path, query string and language (the language a visitor's cookie
  or ``Accept-Language`` chooses, as ``LocaleMiddleware`` would), and by the version
  numbers of the site and of the consultation the page shows;
- stored only when the answer is a plain 200 that sets no cookie, used no CSRF token,
  carries no message and was rendered for nobody signed in: whatever slips through the
  conditions above (a form with a token on an anonymous page, a message queued by the
  view) is served but not stored.

How it stays true: the domain bumps a consultation's version (and the site's, for what the
home and the lists show) after each commit that changes what its pages show
(``consultation/live/events.py``). A key names the versions read when the request began,
so a page rendered from data older than the bump is stored under the old versions and
never served again; a write rolled back bumps nothing. ``PAGE_CACHE_SECONDS`` (a few
seconds) bounds the age of a copy whatever happens (a bump lost while Redis was away,
"closes in 3 hours" wording): it is an upper bound, not the way pages change.

The cache is ``degradable`` (config/cache.py): Redis away is a miss, and pages are rendered.
"""

import hashlib
import logging
import time
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils import translation

from config.cache import degradable

logger = logging.getLogger(__name__)

SITE = "page-version:site"
# Page name → does it show one consultation (its version is in the key)?
PAGES = {
    "home": False,
    "consultation:list": False,
    "consultation:methods": False,
    "consultation:detail": True,
    "consultation:item": True,
    "consultation:results": True,
    "consultation:results_version": True,
    "moderation_public:log": True,
    # The public API's reads: what a page shows, as JSON (consultation/api/reading.py).
    "api:list_consultations": False,
    "api:get_consultation": True,
    "api:list_items": True,
    "api:get_item": True,
    "api:get_results": True,
}
HEADER = "X-Page-Cache"  # hit, miss (rendered and stored), or absent (not cacheable)
# Headers a copy keeps: what the inner middleware and the view set (content type and
# language, Vary, CSP, X-Frame-Options...). The outer middleware (security headers) adds
# its own to every answer, copy or not.
_NOT_KEPT = {"set-cookie", "date", HEADER.lower()}


def consultation_version_key(slug: str) -> str:
    return f"page-version:c:{slug}"


def bump_site() -> None:
    """What the home page and the lists show changed (a consultation opened, closed,
    was published or renamed): their copies are not served again."""
    _bump(SITE)


def bump_consultation(slug: str) -> None:
    """What a consultation's pages show changed: their copies are not served again."""
    _bump(consultation_version_key(slug))


def _bump(key: str) -> None:
    cache = degradable()
    # incr is atomic; a missing key is created (add) first. A version that expires is
    # created again from 1, which no copy made since can carry: copies live less long.
    cache.add(key, 0, timeout=None)
    cache.incr(key)


def _cacheable(request: HttpRequest) -> tuple[str, bool] | None:
    if not settings.PAGE_CACHE_SECONDS or request.method != "GET":
        return None
    cookies = request.COOKIES
    if settings.SESSION_COOKIE_NAME in cookies or "messages" in cookies:
        return None
    if "HTTP_AUTHORIZATION" in request.META:
        return None
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return None
    shows_consultation = PAGES.get(match.view_name)
    if shows_consultation is None:
        return None
    return match.kwargs.get("slug", ""), shows_consultation


def _key(request: HttpRequest, versions: list[Any]) -> str | None:
    try:
        host = request.get_host()
    except Exception:  # a host not allowed: let the normal path answer 400
        return None
    language = translation.get_language_from_request(request)
    address = f"{request.scheme}://{host}{request.get_full_path()}"
    digest = hashlib.sha256(address.encode()).hexdigest()
    return "page:" + ":".join(str(v) for v in versions) + f":{language}:{digest}"


def _storable(request: HttpRequest, response: HttpResponse) -> bool:
    if response.status_code != 200 or response.streaming or response.cookies:
        return False
    if request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):
        return False  # a CSRF token was rendered into the page: it is this visitor's
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return False
    storage = getattr(request, "_messages", None)
    if storage is not None and (getattr(storage, "_queued_messages", None) or len(storage)):
        return False
    cache_control = response.get("Cache-Control", "")
    return not any(word in cache_control for word in ("private", "no-store", "no-cache"))


class PageCacheMiddleware:
    """Serve anonymous public pages from the cache; store them after a render. Placed
    below the security headers and static files, above the session (config/settings.py)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        page = _cacheable(request)
        if page is None:
            return self.get_response(request)
        slug, shows_consultation = page
        cache = degradable()
        names = [SITE, consultation_version_key(slug)] if shows_consultation else [SITE]
        found = cache.get_many(names)
        key = _key(request, [found.get(name, 0) for name in names])
        if key is None:
            return self.get_response(request)
        copy = cache.get(key)
        if copy is not None:
            stored_at, status, headers, content = copy
            response = HttpResponse(content, status=status, headers=headers)
            response[HEADER] = "hit"
            response["Age"] = str(max(0, int(time.time() - stored_at)))
            return response
        response = self.get_response(request)
        if _storable(request, response):
            headers = {k: v for k, v in response.items() if k.lower() not in _NOT_KEPT}
            copy = (time.time(), response.status_code, headers, response.content)
            cache.set(key, copy, timeout=settings.PAGE_CACHE_SECONDS)
            response[HEADER] = "miss"
        return response
