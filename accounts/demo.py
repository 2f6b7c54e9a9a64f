"""Demo accounts for `make run`: one per persona, created once, passwords shown once."""

import secrets

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db import transaction

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
        user = User.objects.create_user(email=email, password=password, display_name=name, **roles)
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        report.append((email, password))
    return report
