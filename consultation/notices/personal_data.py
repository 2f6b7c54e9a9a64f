"""Notices' part of "my data" and of account deletion (registered in ``apps.py``).

Export: the person's notices (with where their e-mail stands), what they follow (and
what they stopped following: that choice is theirs too), and their notification settings
(the channel in force for each kind, whether the personal results e-mail recalls their
choices, when their last digests went).

Erasure: all of it goes. A notice names nobody but its recipient (a reply notice does not
name the replier, a "useful" notice never says who marked it), so nobody else's notices
change.
"""

from typing import Any

from django.db import transaction

from accounts.models import User
from consultation.models import Follow, Notice, NoticeSettings
from consultation.notices import preferences


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def export(user: User) -> dict[str, Any]:
    row = NoticeSettings.objects.filter(user=user).first()
    return {
        "notices": [
            {
                "kind": n.kind,
                "consultation": n.consultation.slug if n.consultation is not None else None,
                "data": n.data,
                "url": n.url,
                "created_at": _iso(n.created_at),
                "read_at": _iso(n.read_at),
                "email": n.email,
                "emailed_at": _iso(n.emailed_at),
            }
            for n in Notice.objects.filter(user=user)
            .select_related("consultation")
            .order_by("created_at", "pk")
        ],
        "follows": [
            {
                "consultation": f.consultation.slug,
                "item": f.item_id,
                "comment": f.comment_id,
                "active": f.active,
                "reason": f.reason,
                "created_at": _iso(f.created_at),
            }
            for f in Follow.objects.filter(user=user)
            .select_related("consultation")
            .order_by("created_at", "pk")
        ],
        "settings": {
            "channels": preferences.channels(user),
            "chosen": dict(row.channels) if row is not None else {},
            "show_own_choices": row.show_own_choices if row is not None else False,
            "daily_digest_at": _iso(row.daily_digest_at) if row is not None else None,
            "weekly_digest_at": _iso(row.weekly_digest_at) if row is not None else None,
        },
    }


@transaction.atomic
def erase(user: User) -> None:
    Notice.objects.filter(user=user).delete()
    Follow.objects.filter(user=user).delete()
    NoticeSettings.objects.filter(user=user).delete()
