"""Personal API tokens: created once (the secret is shown once), looked up by digest.

A token acts as its owner with a citizen's powers only: the user it yields is never
vouched for a second factor (accounts.roles), so no role power holds through a token,
whatever its owner's roles. A token dies with the credentials it was created under: a
password change (``User.credentials_changed_at``) or a suspension ends it.
"""

import hashlib
import secrets

from allauth.account.models import EmailAddress
from django.http import HttpRequest
from django.utils import timezone

from accounts import roles
from accounts.models import ApiToken, User
from config import rows

PREFIX = "agora_"
# Where a request keeps what its tokens answered: {secret: user or None}.
_ON_REQUEST = "_agora_token_users"


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


# The token, its owner and whether the owner has a verified primary address, in one
# statement written by hand (config/rows.py: the ORM spent 3 ms building it, on every API
# write). A live token: its owner is active and has not changed their credentials since
# the token was created.
_TOKEN = rows.Columns(ApiToken, "t")
_OWNER = rows.Columns(User, "u")
_LIVE_TOKEN_SQL = (
    f"SELECT {_TOKEN.select}, {_OWNER.select}, EXISTS("  # noqa: S608 (names: the models' own)
    f' SELECT 1 FROM "{EmailAddress._meta.db_table}" e'
    ' WHERE e."user_id" = t."user_id" AND e."verified" = %s AND e."primary" = %s)'
    f' FROM "{ApiToken._meta.db_table}" t'
    f' INNER JOIN "{User._meta.db_table}" u ON u."id" = t."user_id"'
    ' WHERE t."digest" = %s AND u."is_active" = %s'
    ' AND (u."credentials_changed_at" IS NULL OR t."created_at" >= u."credentials_changed_at")'
)


def authenticate(secret: str, request: HttpRequest | None = None) -> User | None:
    """The active user owning this live token, or None.

    Given the request, the answer is kept on it: the write limit (config.ratelimit) asks
    before the API's authentication does, and the token is read once between them."""
    if request is None:
        return _authenticate(secret)
    known: dict[str, User | None] = request.__dict__.setdefault(_ON_REQUEST, {})
    if secret not in known:
        known[secret] = _authenticate(secret)
    return known[secret]


def _authenticate(secret: str) -> User | None:
    if not _looks_like_a_token(secret):
        return None
    row = rows.fetch_one(_LIVE_TOKEN_SQL, [True, True, _digest(secret), True])
    if row is None:
        return None
    token = _TOKEN.instance(row)
    token.user = _OWNER.instance(row, len(_TOKEN))
    owner_verified_email = bool(row[len(_TOKEN) + len(_OWNER)])
    # At most one write a minute per token: a busy script must not write on every call.
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    # Read in the same statement, for the participation checks that ask next.
    roles.remember_verified_email(token.user, owner_verified_email)
    return token.user


def revoke(user: User, token_id: int) -> bool:
    deleted, _rows = ApiToken.objects.filter(user=user, pk=token_id).delete()
    return bool(deleted)
