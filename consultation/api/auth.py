"""Who is calling: a personal token (scripts) or the browser session (with CSRF)."""

from django.conf import settings
from django.utils.translation import gettext as _
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from accounts import tokens
from consultation.api.errors import ApiError


class PersonalToken(HttpBearer):
    """``Authorization: Bearer agora_…``. A script's header, so no CSRF to check."""

    def authenticate(self, request, token):
        user = tokens.authenticate(token)
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

    def authenticate(self, request, key):
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


def caller(request):
    """Who is reading a public endpoint: a token's owner, the session's user, or anonymous."""
    if request.headers.get("Authorization", "").lower().startswith("bearer "):
        return token_auth(request)
    return request.user
