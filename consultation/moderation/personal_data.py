"""Moderation's part of "my data" and of account deletion (registered in ``apps.py``).

Export: the person's reports and appeals, the decisions about them (with the note
addressed to them) and, for a moderator, the decisions they took. Never anyone else's
name: not who decided about them, not who they decided about. The notices moderation
sends are in the notices' own section (``consultation.notices.personal_data``).

Erasure: what they wrote as a reporter or appellant goes (the report still
counts, for nobody; an appeal still awaiting an answer is withdrawn with the account, an
answered one stays, emptied, since the log's answer points at it). The decision log stays
as it is: the database lets the deletion set its ``subject`` and ``moderator`` to NULL
(``on_delete=SET_NULL``) and nothing else (migration 0006).
"""

from typing import Any

from django.db import transaction

from accounts.models import User
from consultation.models import Appeal, Decision, Report


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _slug(decision: Decision) -> str | None:
    return decision.consultation.slug if decision.consultation is not None else None


def export(user: User) -> dict[str, Any]:
    return {
        "reports": [
            {
                "consultation": r.comment.item.consultation.slug,
                "comment": r.comment_id,
                "rule": r.rule,
                "text": r.text,
                "status": r.status,
                "created_at": _iso(r.created_at),
                "resolved_at": _iso(r.resolved_at),
            }
            for r in Report.objects.filter(reporter=user)
            .select_related("comment__item__consultation")
            .order_by("created_at", "pk")
        ],
        "appeals": [
            {
                "consultation": _slug(a.decision),
                "decision": a.decision_id,
                "decision_action": a.decision.action,
                "text": a.text,
                "status": a.status,
                "created_at": _iso(a.created_at),
                "decided_at": _iso(a.decided_at),
            }
            for a in Appeal.objects.filter(appellant=user)
            .select_related("decision__consultation")
            .order_by("created_at", "pk")
        ],
        "decisions_about_you": [
            {
                "consultation": _slug(d),
                "decision": d.pk,
                "date": _iso(d.created_at),
                "action": d.action,
                "rule": d.rule,
                "rule_number": d.rule_number,
                "note": d.note,
                "comment": d.comment_id,
                "suspended_until": _iso(d.suspended_until),
            }
            for d in Decision.objects.filter(subject=user)
            .select_related("consultation")
            .order_by("created_at", "pk")
        ],
        "decisions_taken": [
            {
                "consultation": _slug(d),
                "decision": d.pk,
                "date": _iso(d.created_at),
                "role": d.role,
                "action": d.action,
                "rule": d.rule,
                "note": d.note,
                "comment": d.comment_id,
            }
            for d in Decision.objects.filter(moderator=user)
            .select_related("consultation")
            .order_by("created_at", "pk")
        ],
    }


@transaction.atomic
def erase(user: User) -> None:
    Report.objects.filter(reporter=user).update(text="")
    Appeal.objects.filter(appellant=user, status=Appeal.Status.PENDING).delete()
    Appeal.objects.filter(appellant=user).update(text="")
