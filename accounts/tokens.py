"""Personal API tokens: created once (the secret is shown once), looked up by digest."""

import hashlib
import secrets

from django.utils import timezone

from accounts.models import ApiToken

PREFIX = "agora_"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _looks_like_a_token(secret: str) -> bool:
    """Worth a database read: anything else is refused without one."""
    return bool(secret) and secret.startswith(PREFIX) and len(secret) <= 200


def create_token(user, name: str) -> tuple[ApiToken, str]:
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name[:80], prefix=secret[: len(PREFIX) + 4], digest=_digest(secret)
    )
    return token, secret


def authenticate(secret: str):
    """The active user owning this token, or None."""
    if not _looks_like_a_token(secret):
        return None
    token = ApiToken.objects.select_related("user").filter(digest=_digest(secret)).first()
    if token is None or not token.user.is_active:
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
    return (
        ApiToken.objects.filter(digest=_digest(secret), user__is_active=True)
        .values_list("user_id", flat=True)
        .first()
    )


def revoke(user, token_id: int) -> bool:
    deleted, _rows = ApiToken.objects.filter(user=user, pk=token_id).delete()
    return bool(deleted)
