"""Personal API tokens: created once (the secret is shown once), looked up by digest.

A token acts as its owner with a citizen's powers only: the user it yields is never
vouched for a second factor (accounts.roles), so no role power holds through a token,
whatever its owner's roles. A token dies with the credentials it was created under: a
password change (``User.credentials_changed_at``) or a suspension ends it.
"""

import hashlib
import secrets

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from accounts.models import ApiToken, User

PREFIX = "agora_"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _looks_like_a_token(secret: str) -> bool:
    """Worth a database read: anything else is refused without one."""
    return bool(secret) and secret.startswith(PREFIX) and len(secret) <= 200


def create_token(user: User, name: str) -> tuple[ApiToken, str]:
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name[:80], prefix=secret[: len(PREFIX) + 4], digest=_digest(secret)
    )
    return token, secret


def _live(digest: str) -> QuerySet[ApiToken]:
    """Tokens with this digest whose owner is active and has not changed their password
    since the token was created."""
    return ApiToken.objects.filter(
        Q(user__credentials_changed_at__isnull=True)
        | Q(created_at__gte=F("user__credentials_changed_at")),
        digest=digest,
        user__is_active=True,
    )


def authenticate(secret: str) -> User | None:
    """The active user owning this live token, or None."""
    if not _looks_like_a_token(secret):
        return None
    token = _live(_digest(secret)).select_related("user").first()
    if token is None:
        return None
    # At most one write a minute per token: a busy script must not write on every call.
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def owner_id(secret: str) -> int | None:
    """The id of the active account owning this token, or None: one indexed read, no write
    (the rate limiter asks before the request reaches the API)."""
    if not _looks_like_a_token(secret):
        return None
    return _live(_digest(secret)).values_list("user_id", flat=True).first()


def revoke(user: User, token_id: int) -> bool:
    deleted, _rows = ApiToken.objects.filter(user=user, pk=token_id).delete()
    return bool(deleted)
