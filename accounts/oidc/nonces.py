"""OIDC nonces: issued per login attempt, bound to the browser session, used once.

allauth's generic OpenID Connect provider neither sends nor checks a ``nonce``;
FranceConnect requires one, and it is what stops a stolen or replayed ID token
from logging someone into another browser. A few attempts may be in flight at
once (two tabs), so the session keeps a small dict of outstanding nonces.
"""

import secrets
import time

from django.http import HttpRequest

SESSION_KEY = "agora_oidc_nonces"
LIFETIME_SECONDS = 15 * 60
MAX_OUTSTANDING = 5


def issue(request: HttpRequest) -> str:
    nonce = secrets.token_urlsafe(32)
    now = time.time()
    outstanding = {
        n: t for n, t in request.session.get(SESSION_KEY, {}).items() if now - t < LIFETIME_SECONDS
    }
    outstanding[nonce] = now
    # Keep the newest few: an abandoned tab must not grow the session forever.
    newest = sorted(outstanding.items(), key=lambda item: item[1])[-MAX_OUTSTANDING:]
    request.session[SESSION_KEY] = dict(newest)
    return nonce


def consume(request: HttpRequest, nonce: object) -> bool:
    """True when ``nonce`` was issued to this session, is fresh, and unused; it is spent."""
    outstanding = dict(request.session.get(SESSION_KEY, {}))
    if not isinstance(nonce, str) or nonce not in outstanding:
        return False
    issued_at = outstanding.pop(nonce)
    request.session[SESSION_KEY] = outstanding
    return time.time() - issued_at < LIFETIME_SECONDS
