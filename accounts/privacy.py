"""Everything Agora holds about a person: one export, one erasure.

Each app that stores personal data registers a *section* (in its AppConfig.ready)
with an exporter and an eraser; the "my data" page and account deletion call
them all, so a new capability cannot forget to appear in either.
"""

# This module is imported before the models are ready (accounts.apps): annotations stay
# unevaluated, and the models are imported where they are used.
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.utils import timezone

if TYPE_CHECKING:
    from accounts.models import User


@dataclass(frozen=True)
class Section:
    name: str
    export: Callable[[User], object]
    erase: Callable[[User], None] | None = None


_sections: dict[str, Section] = {}


def register(
    name: str, *, export: Callable[[User], object], erase: Callable[[User], None] | None = None
) -> None:
    _sections[name] = Section(name, export, erase)


def export_all(user: User) -> dict[str, Any]:
    return {
        "format": "agora-personal-data/1",
        "exported_at": timezone.now().isoformat(),
        **{name: section.export(user) for name, section in _sections.items()},
    }


def erase_all(user: User) -> None:
    for section in _sections.values():
        if section.erase is not None:
            section.erase(user)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def export_account(user: User) -> dict[str, Any]:
    return {
        "email": user.email,
        "display_name": user.display_name,
        "preferred_language": user.preferred_language,
        "date_joined": _iso(user.date_joined),
        "last_login": _iso(user.last_login),
        "roles": {
            "staff": user.is_staff,
            "organiser": user.is_organiser,
            "moderator": user.is_moderator,
        },
        "identity_verified_at": _iso(user.identity_verified_at),
        "identity_provider": user.identity_provider,
    }


def export_email_addresses(user: User) -> list[dict[str, Any]]:
    from allauth.account.models import EmailAddress

    return [
        {"email": a.email, "verified": a.verified, "primary": a.primary}
        for a in EmailAddress.objects.filter(user=user).order_by("email")
    ]


def export_linked_identities(user: User) -> list[dict[str, Any]]:
    from allauth.socialaccount.models import SocialAccount

    # The provider's subject and the claims it sent; never tokens.
    return [
        {
            "provider": a.provider,
            "subject": a.uid,
            "linked_at": _iso(a.date_joined),
            "last_login": _iso(a.last_login),
            "claims": a.extra_data,
        }
        for a in SocialAccount.objects.filter(user=user)
    ]


def export_mfa(user: User) -> list[dict[str, Any]]:
    from allauth.mfa.models import Authenticator

    # Which factors exist and when; secrets and codes never leave the database.
    return [
        {"type": a.type, "created_at": _iso(a.created_at), "last_used_at": _iso(a.last_used_at)}
        for a in Authenticator.objects.filter(user=user)
    ]


def export_api_tokens(user: User) -> list[dict[str, Any]]:
    from accounts.models import ApiToken

    return [
        {
            "name": t.name,
            "prefix": t.prefix,
            "created_at": _iso(t.created_at),
            "last_used_at": _iso(t.last_used_at),
        }
        for t in ApiToken.objects.filter(user=user)
    ]


def register_account_sections() -> None:
    register("account", export=export_account)
    register("email_addresses", export=export_email_addresses)
    register("linked_identities", export=export_linked_identities)
    register("two_factor_authentication", export=export_mfa)
    register("api_tokens", export=export_api_tokens)
