"""Citizens report a comment under a charter rule; enough weighty reports set it aside for
review (quarantine, never a silent removal); the queue orders what awaits a moderator.

A reporter's weight is how often their past reports were upheld: ``(upheld + 1) /
(upheld + dismissed + 1)``, so a newcomer weighs 1, someone whose reports are usually
upheld stays near 1, and someone whose reports are usually dismissed counts for less.
"""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.types import Person
from consultation import permissions
from consultation.errors import Conflict, Invalid, NotAllowed, TooMany
from consultation.live import events
from consultation.models import Comment, Consultation, Notice, Report, Rule
from consultation.notices import sending

MAX_TEXT = 1000


def reporter_weights(user_ids: set[int]) -> dict[int, float]:
    """Each reporter's weight from their decided reports (one query)."""
    rows = (
        Report.objects.filter(reporter_id__in=user_ids)
        .values("reporter_id")
        .annotate(
            upheld=Count("pk", filter=Q(status=Report.Status.UPHELD)),
            dismissed=Count("pk", filter=Q(status=Report.Status.DISMISSED)),
        )
    )
    weights = {user_id: 1.0 for user_id in user_ids}
    for row in rows:
        weights[row["reporter_id"]] = (row["upheld"] + 1) / (row["upheld"] + row["dismissed"] + 1)
    return weights


def report_weight(comment: Comment) -> float:
    """The weight of the open reports on ``comment`` (an erased reporter counts 1)."""
    reporters = list(
        Report.objects.filter(comment=comment, status=Report.Status.OPEN).values_list(
            "reporter_id", flat=True
        )
    )
    weights = reporter_weights({r for r in reporters if r is not None})
    return sum(1.0 if r is None else weights[r] for r in reporters)


def _why_not_report(user: Person, comment: Comment) -> NotAllowed:
    if not user.is_authenticated:
        return NotAllowed("login_required", _("Log in to report a comment."))
    if comment.author_id == user.pk:
        return NotAllowed("own_comment", _("You cannot report your own comment."))
    if comment.is_deleted or comment.is_hidden:
        return NotAllowed("comment_removed", _("This comment is no longer shown."))
    suspension = permissions.suspension_of(user, comment.item.consultation)
    if suspension is not None:
        return permissions.suspended(suspension)
    return NotAllowed("cannot_report", _("Verify your e-mail address to report a comment."))


def report_comment(user: Person, comment: Comment, rule: str, text: str = "") -> Report:
    """File ``user``'s report; one per person per comment, a few per hour."""
    if not permissions.can_report(user, comment) or not user.is_authenticated:
        raise _why_not_report(user, comment)
    if rule not in Rule.values:
        raise Invalid("unknown_rule", _("Choose the rule of the charter this comment breaks."))
    text = (text or "").strip()
    if rule == Rule.OTHER and not text:
        raise Invalid("text_required", _("Say in a few words what is wrong with this comment."))
    if len(text) > MAX_TEXT:
        raise Invalid(
            "report_too_long",
            _("A report may have at most %(max)d characters.") % {"max": MAX_TEXT},
        )
    since = timezone.now() - timedelta(hours=1)
    if (
        Report.objects.filter(reporter=user, created_at__gte=since).count()
        >= settings.MODERATION_REPORTS_PER_HOUR
    ):
        raise TooMany(
            "too_many_reports",
            _("You have sent many reports in the last hour: try again later."),
        )
    consultation = comment.item.consultation
    try:
        with transaction.atomic():
            comment = Comment.objects.select_for_update().get(pk=comment.pk)
            report = Report.objects.create(comment=comment, reporter=user, rule=rule, text=text)
            held = _quarantine_if_due(comment)
            sending.notify(
                user,
                Notice.Kind.REPORT,
                consultation=consultation,
                data={
                    "status": Report.Status.OPEN,
                    "comment": comment.pk,
                    "rule": rule,
                    "rule_number": Rule.number(rule),
                },
                url=reverse("notices:list"),
            )
            events.after_commit(events.comment_reported, report.pk)
            if held:
                events.after_commit(events.comment_moderated, comment.pk)
    except IntegrityError:
        raise Conflict("already_reported", _("You have already reported this comment.")) from None
    return report


def _quarantine_if_due(comment: Comment) -> bool:
    """Set ``comment`` aside when its reports weigh the consultation's threshold."""
    threshold = comment.item.consultation.quarantine_threshold
    if not threshold or comment.moderation != Comment.Moderation.VISIBLE:
        return False
    if report_weight(comment) < threshold:
        return False
    comment.moderation = Comment.Moderation.HELD
    comment.held_because = Comment.Held.REPORTS
    comment.save(update_fields=["moderation", "held_because"])
    return True


# --- The queue --------------------------------------------------------------------------


def queue(consultations: QuerySet[Consultation], *, limit: int = 100) -> list[dict[str, Any]]:
    """What awaits a moderator in ``consultations``: comments with open reports, and held
    ones, most urgent first. Urgency: the reports' weight, plus one per day waited, plus
    two when the comment is held (set aside, its author waiting)."""
    pending = (
        Comment.objects.filter(item__consultation__in=consultations, deleted_at__isnull=True)
        .filter(Q(reports__status=Report.Status.OPEN) | Q(moderation=Comment.Moderation.HELD))
        .exclude(moderation=Comment.Moderation.HIDDEN, reports__status=Report.Status.OPEN)
        .distinct()
        .select_related("author", "item__consultation", "parent__author")
        .order_by("created_at")[: limit * 3]
    )
    comments = list(pending)
    open_reports = Report.objects.filter(comment__in=comments, status=Report.Status.OPEN).order_by(
        "created_at"
    )
    by_comment: dict[int, list[Report]] = {}
    for report in open_reports:
        by_comment.setdefault(report.comment_id, []).append(report)
    weights = reporter_weights(
        {r.reporter_id for rs in by_comment.values() for r in rs if r.reporter_id is not None}
    )
    now = timezone.now()
    entries: list[dict[str, Any]] = []
    for comment in comments:
        reports = by_comment.get(comment.pk, [])
        weight = sum(1.0 if r.reporter_id is None else weights[r.reporter_id] for r in reports)
        waiting_since = reports[0].created_at if reports else comment.created_at
        days = (now - waiting_since).total_seconds() / 86400
        urgency = weight + days + (2 if comment.is_held else 0)
        rules: dict[str, int] = {}
        for report in reports:
            rules[report.rule] = rules.get(report.rule, 0) + 1
        entries.append(
            {
                "comment": comment,
                "reports": reports,
                "reporters": len(reports),
                "weight": round(weight, 2),
                "rules": sorted(rules.items(), key=lambda pair: (-pair[1], pair[0])),
                "waiting_since": waiting_since,
                "urgency": round(urgency, 3),
            }
        )
    entries.sort(key=lambda entry: (-float(entry["urgency"]), entry["waiting_since"]))
    return entries[:limit]
