"""Demo accounts for `make run`: one per persona, created once, passwords shown once."""

import secrets
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

DEMO_ACCOUNTS = [
    # (e-mail, display name, roles)
    ("citoyenne@demo.agora.test", "Camille (citoyenne)", {}),
    ("moderateur@demo.agora.test", "Malik (modérateur)", {"is_moderator": True}),
    ("organisatrice@demo.agora.test", "Odile (organisatrice)", {"is_organiser": True}),
    ("admin@demo.agora.test", "Admin", {"is_staff": True, "is_superuser": True}),
]


@transaction.atomic
def ensure_demo_accounts() -> list[tuple[str, str | None]]:
    """Create missing demo accounts; return (email, new password or None if it existed)."""
    User = get_user_model()
    report: list[tuple[str, str | None]] = []
    for email, name, roles in DEMO_ACCOUNTS:
        if User.objects.filter(email=email).exists():
            report.append((email, None))
            continue
        password = secrets.token_urlsafe(12)
        user = User.objects.create_user(
            email=email,
            password=password,
            display_name=name,
            # Long enough ago that the new-account limits on comments (no links, a few an
            # hour) do not get in the way of trying the site.
            date_joined=timezone.now()
            - timedelta(hours=settings.MODERATION_NEW_ACCOUNT_HOURS, days=60),
            **roles,
        )
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        report.append((email, password))
    return report
