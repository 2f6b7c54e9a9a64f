"""Writes on accounts that are not allauth flows: identity marks, deletion, purges."""

import logging
from datetime import datetime, timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts import privacy
from accounts.models import User

logger = logging.getLogger(__name__)


def mark_identity_verified(user: User, *, provider: str) -> None:
    user.identity_verified_at = timezone.now()
    user.identity_provider = provider
    if user.pk:
        user.save(update_fields=["identity_verified_at", "identity_provider"])


def suspend_account(user: User, *, reason: str = "") -> None:
    """Deactivate an account: it can no longer log in, its tokens stop working, and its
    open sockets are closed (``User.save`` does that for every deactivation)."""
    with transaction.atomic():
        user.is_active = False
        user.save(update_fields=["is_active"])
    logger.info("account %s suspended: %s", user.pk, reason or "no reason given")


@transaction.atomic
def delete_account(user: User) -> None:
    """Erase everything personal: registered app sections first, then the user row.

    The user row cascades to allauth's e-mail addresses, social accounts, MFA
    authenticators and sessions are flushed by the view that logs the user out.
    """
    privacy.erase_all(user)
    user.delete()


def purge_unverified_accounts(now: datetime | None = None) -> int:
    """Delete accounts that never verified any address within the retention period."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.UNVERIFIED_ACCOUNT_RETENTION_DAYS)
    verified = EmailAddress.objects.filter(verified=True).values("user_id")
    stale = User.objects.filter(
        date_joined__lt=cutoff,
        is_staff=False,
        is_superuser=False,
        identity_verified_at__isnull=True,
        last_login__isnull=True,
    ).exclude(pk__in=verified)
    count = 0
    for user in stale.iterator():
        delete_account(user)
        count += 1
    return count
