"""The public moderation log of a consultation: every decision with its date, action, rule,
the role of who decided (never their name) and its appeal's outcome; counts per rule and
the median time from the first report to the decision. Shown as a page, served by the API,
and published with the open data. It names nobody: no moderator, no reporter, no author,
and no text of a hidden comment (a moderator's note is addressed to the author and can
quote the comment: it stays out as well).
"""

from statistics import median
from typing import Any

from django.db.models import Min

from consultation.models import Consultation, Decision, Report, Rule

FIELDS = [
    "decision",
    "date",
    "action",
    "rule",
    "rule_number",
    "charter_version",
    "role",
    "item",
    "comment",
    "appeal",
    "answers_decision",
]


def entries(consultation: Consultation) -> list[dict[str, Any]]:
    """The log, oldest first, as plain JSON-ready rows."""
    decisions = (
        Decision.objects.filter(consultation=consultation)
        .select_related("comment", "answers", "appeal")
        .order_by("created_at", "pk")
    )
    rows = []
    for decision in decisions:
        appeal = getattr(decision, "appeal", None)
        rows.append(
            {
                "decision": decision.pk,
                "date": decision.created_at.isoformat(),
                "action": decision.action,
                "rule": decision.rule,
                "rule_number": decision.rule_number,
                "charter_version": decision.charter_version,
                "role": decision.role,
                "item": decision.comment.item_id if decision.comment else None,
                "comment": decision.comment_id,
                "appeal": appeal.status if appeal is not None else None,
                "answers_decision": (
                    decision.answers.decision_id if decision.answers is not None else None
                ),
            }
        )
    return rows


def summary(consultation: Consultation, rows: list[dict[str, Any]] | None = None) -> dict:
    """Counts per rule and per action, and the median hours from first report to decision."""
    rows = entries(consultation) if rows is None else rows
    per_rule = {code: 0 for code in Rule.values}
    per_action: dict[str, int] = {}
    for row in rows:
        per_action[row["action"]] = per_action.get(row["action"], 0) + 1
        if not row["action"].startswith("appeal_"):
            per_rule[row["rule"]] += 1
    first_report = dict(
        Report.objects.filter(comment__item__consultation=consultation)
        .values("comment_id")
        .annotate(first=Min("created_at"))
        .values_list("comment_id", "first")
    )
    waits = []
    decided = set()
    for decision in Decision.objects.filter(
        consultation=consultation,
        action__in=[Decision.Action.HIDE, Decision.Action.DISMISS, Decision.Action.RESTORE],
    ).order_by("created_at"):
        first = first_report.get(decision.comment_id) if decision.comment_id else None
        if first is None or decision.comment_id in decided or first > decision.created_at:
            continue
        decided.add(decision.comment_id)
        waits.append((decision.created_at - first).total_seconds() / 3600)
    return {
        "decisions": len(rows),
        "per_rule": per_rule,
        "per_action": per_action,
        "median_hours_to_decision": round(median(waits), 2) if waits else None,
        "decided_reports": len(waits),
    }
