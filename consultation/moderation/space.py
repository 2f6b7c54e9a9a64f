"""What the moderators' space shows (``views/moderation.py``): the queue in context, the
appeals a person may answer, the latest decisions, and per consultation how much awaits.

Reads only. The queue's order is ``reports.queue``'s (urgency); this module adds what a
moderator needs to decide without leaving the page: the charter's wording of each rule
reported, the texts reporters wrote (never who they are), the parent comment, where the
comment sits in its thread, and what was decided about its author before. Built in a
fixed number of queries whatever the number of entries.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from accounts.models import User
from consultation import permissions
from consultation.models import (
    Appeal,
    Comment,
    Consultation,
    Decision,
    Report,
    Rule,
    Suspension,
)
from consultation.moderation import charter, reports
from consultation.moderation.charter import CharterText, RuleText

# Entries a queue page shows, and the moderators' snapshot sends: the same number, so
# that a page can tell an entry left out of a whole snapshot was decided.
QUEUE_PAGE = 50
# Ancestors looked up for a comment's depth (threads deeper than this say "deeper").
MAX_DEPTH = 30
# What an author's record counts: the decisions that held something against them.
AGAINST = (Decision.Action.HIDE, Decision.Action.WARN, Decision.Action.SUSPEND)


@dataclass
class Entry:
    """One comment awaiting a moderator, with its context."""

    comment: Comment
    consultation: Consultation
    charter: CharterText
    reports: list[Report]
    weight: float
    waiting_since: datetime
    urgency: float | None  # None: read alone, outside the queue's ordering
    rules: list[tuple[RuleText, int]] = field(default_factory=list)  # most reported first
    texts: list[tuple[RuleText, str]] = field(default_factory=list)  # what reporters wrote
    suggested_rule: str = ""  # the rule the forms start on
    depth: int = 0  # 0: a comment on the item, 1: a reply to one...
    position: int = 1  # among its siblings (the item's comments, or its parent's replies)
    siblings: int = 1
    replies: int = 0
    author_record: int = 0  # earlier hides, warnings and suspensions of its author here
    author_suspension: Suspension | None = None

    @property
    def reporters(self) -> int:
        return len(self.reports)

    @property
    def awaiting(self) -> bool:
        """Still for a moderator to decide (open reports, or set aside)."""
        return bool(self.reports) or self.comment.is_held


# --- The queue ------------------------------------------------------------------------


def awaiting(consultations: QuerySet[Consultation]) -> QuerySet[Comment]:
    """The comments ``reports.queue`` lists: open reports, or held; none hidden with open
    reports (hiding closes them), none deleted."""
    return (
        Comment.objects.filter(item__consultation__in=consultations, deleted_at__isnull=True)
        .filter(Q(reports__status=Report.Status.OPEN) | Q(moderation=Comment.Moderation.HELD))
        .exclude(moderation=Comment.Moderation.HIDDEN, reports__status=Report.Status.OPEN)
    )


def queue(consultations: QuerySet[Consultation], *, limit: int = QUEUE_PAGE) -> list[Entry]:
    """``reports.queue`` in context, most urgent first."""
    rows = reports.queue(consultations, limit=limit)
    charters: dict[int, CharterText] = {}
    for row in rows:
        consultation = row["comment"].item.consultation
        if consultation.pk not in charters:
            charters[consultation.pk] = charter.current(consultation)
    entries = [
        Entry(
            comment=row["comment"],
            consultation=row["comment"].item.consultation,
            charter=charters[row["comment"].item.consultation_id],
            reports=row["reports"],
            weight=row["weight"],
            waiting_since=row["waiting_since"],
            urgency=row["urgency"],
        )
        for row in rows
    ]
    _complete(entries)
    return entries


def entry(comment: Comment) -> Entry:
    """One comment as the queue would show it, whether or not it awaits anything."""
    comment = Comment.objects.select_related("author", "item__consultation", "parent__author").get(
        pk=comment.pk
    )
    open_reports = list(
        Report.objects.filter(comment=comment, status=Report.Status.OPEN).order_by("created_at")
    )
    weights = reports.reporter_weights({r.reporter_id for r in open_reports if r.reporter_id})
    weight = sum(weights.get(r.reporter_id, 1.0) if r.reporter_id else 1.0 for r in open_reports)
    one = Entry(
        comment=comment,
        consultation=comment.item.consultation,
        charter=charter.current(comment.item.consultation),
        reports=open_reports,
        weight=round(weight, 2),
        waiting_since=open_reports[0].created_at if open_reports else comment.created_at,
        urgency=None,
    )
    _complete([one])
    return one


def _complete(entries: list[Entry]) -> None:
    """Charter wording, report counts and texts, thread position, the author's record."""
    for one in entries:
        counts: dict[str, int] = {}
        for report in one.reports:
            counts[report.rule] = counts.get(report.rule, 0) + 1
            if report.text:
                one.texts.append((one.charter.rule(report.rule), report.text))
        ordered = sorted(counts.items(), key=lambda pair: (-pair[1], Rule.number(pair[0])))
        one.rules = [(one.charter.rule(code), count) for code, count in ordered]
        if ordered:
            one.suggested_rule = ordered[0][0]
        elif one.comment.is_hidden:
            one.suggested_rule = one.comment.hidden_rule
        elif one.comment.held_because == Comment.Held.REPEATED:
            one.suggested_rule = Rule.SPAM
    _place_in_threads(entries)
    _author_records(entries)


def _place_in_threads(entries: list[Entry]) -> None:
    comments = {one.comment.pk: one.comment for one in entries}
    parent_of: dict[int, int | None] = {pk: c.parent_id for pk, c in comments.items()}
    frontier = {p for p in parent_of.values() if p is not None and p not in parent_of}
    for _level in range(MAX_DEPTH):
        if not frontier:
            break
        rows = list(Comment.objects.filter(pk__in=frontier).values_list("pk", "parent_id"))
        parent_of.update(rows)
        frontier = {p for _pk, p in rows if p is not None and p not in parent_of}

    def depth(pk: int) -> int:
        level, parent = 0, parent_of.get(pk)
        while parent is not None and level < MAX_DEPTH:
            level, parent = level + 1, parent_of.get(parent)
        return level

    places: dict[int, dict[str, int]] = {}
    for replies_only in (True, False):
        ids = [pk for pk, c in comments.items() if (c.parent_id is not None) == replies_only]
        if ids:
            places.update(_positions(ids, replies=replies_only))
    for one in entries:
        place = places.get(one.comment.pk, {})
        one.depth = depth(one.comment.pk)
        one.position = place.get("before", 0) + 1
        one.siblings = max(place.get("among", 1), one.position)
        one.replies = place.get("replies", 0)


def _count(queryset: QuerySet[Comment]) -> Coalesce:
    counted = queryset.order_by().values("item").annotate(n=Count("pk")).values("n")[:1]
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _positions(ids: list[int], *, replies: bool) -> dict[int, dict[str, int]]:
    """For each comment: how many siblings come before it, how many there are, and its
    direct replies (siblings: the same parent's replies, or the item's comments)."""
    if replies:
        siblings = Comment.objects.filter(parent=OuterRef("parent"))
    else:
        siblings = Comment.objects.filter(item=OuterRef("item"), parent__isnull=True)
    earlier = Q(created_at__lt=OuterRef("created_at")) | Q(
        created_at=OuterRef("created_at"), pk__lt=OuterRef("pk")
    )
    rows = (
        Comment.objects.filter(pk__in=ids)
        .annotate(
            before=_count(siblings.filter(earlier)),
            among=_count(siblings),
            replies_n=_count(Comment.objects.filter(parent=OuterRef("pk"))),
        )
        .values_list("pk", "before", "among", "replies_n")
    )
    return {
        pk: {"before": before, "among": among, "replies": replies_n}
        for pk, before, among, replies_n in rows
    }


def _author_records(entries: list[Entry]) -> None:
    authors = {one.comment.author_id for one in entries if one.comment.author_id is not None}
    if not authors:
        return
    places = {one.consultation.pk for one in entries}
    record = {
        (row["subject_id"], row["consultation_id"]): row["n"]
        for row in Decision.objects.filter(
            subject_id__in=authors, consultation_id__in=places, action__in=AGAINST
        )
        .values("subject_id", "consultation_id")
        .annotate(n=Count("pk"))
    }
    suspensions: dict[tuple[int, int | None], Suspension] = {}
    active = (
        Suspension.objects.active()
        .filter(user_id__in=authors)
        .filter(Q(consultation__isnull=True) | Q(consultation_id__in=places))
        .select_related("decision")  # the rule a lift starts on
        .order_by("ends_at")
    )
    for suspension in active:
        suspensions.setdefault((suspension.user_id, suspension.consultation_id), suspension)
    for one in entries:
        author = one.comment.author_id
        if author is None:
            continue
        one.author_record = record.get((author, one.consultation.pk), 0)
        one.author_suspension = suspensions.get((author, None)) or suspensions.get(
            (author, one.consultation.pk)
        )


# --- Per consultation -----------------------------------------------------------------


@dataclass
class Place:
    """A consultation in the space's list, with what awaits there."""

    consultation: Consultation
    awaiting: int
    appeals: int


def places(user: User, consultations: QuerySet[Consultation]) -> list[Place]:
    """The consultations ``user`` moderates that have a debate to moderate (not drafts or
    scheduled ones, unless something awaits there), with their counts, busiest first."""
    waiting = dict(
        awaiting(consultations)
        .values("item__consultation_id")
        .annotate(n=Count("pk", distinct=True))
        .values_list("item__consultation_id", "n")
    )
    answerable = _appeals(user, consultations)
    appeals: dict[int, int] = {}
    for appeal in answerable:
        cid = appeal.decision.consultation_id
        if cid is not None:
            appeals[cid] = appeals.get(cid, 0) + 1
    quiet = (Consultation.Status.DRAFT, Consultation.Status.SCHEDULED)
    rows = [
        Place(c, waiting.get(c.pk, 0), appeals.get(c.pk, 0))
        for c in consultations.order_by("title")
        if c.status not in quiet or waiting.get(c.pk) or appeals.get(c.pk)
    ]
    rows.sort(key=lambda row: (-(row.awaiting + row.appeals), row.consultation.title))
    return rows


def awaiting_count(consultations: QuerySet[Consultation]) -> int:
    return awaiting(consultations).distinct().count()


# --- Appeals and decisions ------------------------------------------------------------


def _appeals(
    user: User, consultations: QuerySet[Consultation], *, site_wide: bool = False
) -> list[Appeal]:
    scope = Q(decision__consultation__in=consultations)
    if site_wide:
        scope |= Q(decision__consultation__isnull=True)
    pending = (
        Appeal.objects.filter(scope, status=Appeal.Status.PENDING)
        .exclude(decision__moderator=user)
        .exclude(appellant=user)
        .select_related(
            "appellant",
            "decision__consultation",
            "decision__comment__item",
            "decision__comment__author",
            "decision__subject",
        )
        .order_by("created_at", "pk")
    )
    return [appeal for appeal in pending if permissions.can_decide_appeal(user, appeal)]


def appeals_to_decide(
    user: User, consultations: QuerySet[Consultation], *, site_wide: bool = False
) -> list[Appeal]:
    """Pending appeals ``user`` may answer (never of their own decisions), oldest first;
    ``site_wide``: with those of site-wide decisions (staff)."""
    return _appeals(user, consultations, site_wide=site_wide)


def appeals_awaiting_a_colleague(user: User, consultations: QuerySet[Consultation]) -> int:
    """Pending appeals of ``user``'s own decisions: someone else must answer them."""
    return Appeal.objects.filter(
        decision__consultation__in=consultations,
        decision__moderator=user,
        status=Appeal.Status.PENDING,
    ).count()


def recent_decisions(
    consultations: QuerySet[Consultation], *, site_wide: bool = False, limit: int = 20
) -> list[Decision]:
    """The latest decisions, newest first, with their appeal when there is one."""
    scope = Q(consultation__in=consultations)
    if site_wide:
        scope |= Q(consultation__isnull=True)
    return list(
        Decision.objects.filter(scope)
        .select_related("consultation", "comment__item", "subject", "appeal")
        .order_by("-created_at", "-pk")[:limit]
    )


def decisions_on(comment: Comment) -> list[Decision]:
    """Every decision about ``comment``, oldest first."""
    return list(
        Decision.objects.filter(comment=comment)
        .select_related("appeal", "subject")
        .order_by("created_at", "pk")
    )
