"""Who is calling: a personal token (scripts) or the browser session (with CSRF)."""

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from accounts import tokens
from accounts.models import User
from accounts.types import Person
from consultation.api.errors import ApiError


class AuthedRequest(HttpRequest):
    """The request of an operation declared with ``auth=AUTH``, as mypy sees it: ninja has
    set ``request.auth`` to what ``PersonalToken`` or ``BrowserSession`` below returned, a
    signed-in ``User``. An annotation only: ninja hands the operation Django's request."""

    auth: User


class PersonalToken(HttpBearer):
    """``Authorization: Bearer agora_…``. A script's header, so no CSRF to check."""

    def authenticate(self, request: HttpRequest, token: str) -> User:
        user = tokens.authenticate(token, request)
        if user is None:
            # A wrong token must not quietly fall back to the browser session.
            raise ApiError(401, "invalid_token", _("This API token is not valid."))
        return user


class BrowserSession(APIKeyCookie):
    """The logged-in browser. Unsafe methods need the CSRF token (X-CSRFToken header)."""

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self) -> None:
        # ninja's own check would run before we know whether anyone is logged in;
        # checking after tells an anonymous caller "log in" rather than "CSRF".
        super().__init__(csrf=False)

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        if not request.user.is_authenticated:
            return None
        if check_csrf(request) is not None:
            raise ApiError(
                403,
                "csrf_failed",
                _("Missing or wrong CSRF token: send the csrftoken cookie's value in X-CSRFToken."),
            )
        return request.user


token_auth = PersonalToken()
AUTH = [token_auth, BrowserSession()]


def caller(request: HttpRequest) -> Person:
    """Who is reading a public endpoint: a token's owner, the session's user, or anonymous."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        # What ninja's HttpBearer would pass on: the rest of the header, after "Bearer ".
        return token_auth.authenticate(request, header[len("bearer ") :])
    return request.user


def writer(request: HttpRequest) -> User | None:
    """Who an unsafe request writes as, decided as the operation's ``AUTH`` will decide it:
    the live token's owner, or the session's user whose request carries the CSRF token.
    None when the operation will refuse the request (401 or 403) anyway."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return tokens.authenticate(header[len("bearer ") :], request)
    user = request.user
    if user.is_authenticated and check_csrf(request) is None:
        return user
    return None
