"""What happened to public consultations, and when: the facts behind the feeds.

Read from the consultations' own dates and their publications (no log of its own): a
consultation announced (scheduled, dated by its last change), opened (``opens_at``),
closing within ``CLOSING_SOON`` (dated when that window began), closed (``closed_at``,
with its reason when it closed early) and each published results version
(``published_at``). Drafts never appear. Every read is bounded (``LIMIT``), and takes a
fixed number of queries whatever the number of consultations.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import F, QuerySet
from django.utils import timezone

from consultation.models import Consultation, Publication

Status = Consultation.Status

LIMIT = 50
CLOSING_SOON = timedelta(hours=48)


@dataclass(frozen=True)
class Event:
    kind: str  # one of KINDS
    consultation: Consultation
    at: datetime  # when it happened (an announcement: when it was last changed)
    version: int = 0  # a results version; 0 for the others
    note: str = ""  # the publication's note


KINDS = ("announced", "opened", "closing", "closed", "results")


def _public() -> QuerySet[Consultation]:
    return Consultation.objects.visible()


def site_events(now: datetime | None = None, limit: int = LIMIT) -> list[Event]:
    """The latest ``limit`` events of every public consultation, newest first."""
    now = now or timezone.now()
    events: list[Event] = []
    announced = _public().filter(status=Status.SCHEDULED).order_by("-updated_at", "-pk")
    events += [Event("announced", c, min(c.updated_at, now)) for c in announced[:limit]]
    opened = (
        _public()
        .filter(status__in=[Status.OPEN, Status.CLOSED, Status.PUBLISHED], opens_at__lte=now)
        .order_by("-opens_at", "-pk")
    )
    events += [Event("opened", c, c.opens_at) for c in opened[:limit] if c.opens_at]
    closing = _public().filter(
        status=Status.OPEN, closes_at__gt=now, closes_at__lte=now + CLOSING_SOON
    )
    events += [
        Event("closing", c, _closing_soon_since(c))
        for c in closing.order_by("closes_at", "pk")[:limit]
        if c.closes_at
    ]
    closed = (
        _public()
        .filter(status__in=[Status.CLOSED, Status.PUBLISHED], closed_at__isnull=False)
        .order_by("-closed_at", "-pk")
    )
    events += [Event("closed", c, c.closed_at) for c in closed[:limit] if c.closed_at]
    publications = (
        Publication.objects.filter(consultation__in=_public())
        .select_related("consultation")
        .defer("results_json", "manifest_json")
        .order_by("-published_at", "-pk")
    )
    events += [_published(p) for p in publications[:limit]]
    events.sort(key=lambda event: (event.at, KINDS.index(event.kind)), reverse=True)
    return events[:limit]


def _closing_soon_since(consultation: Consultation) -> datetime:
    """When its last ``CLOSING_SOON`` began: not before it opened, for a short one."""
    assert consultation.closes_at is not None
    since = consultation.closes_at - CLOSING_SOON
    opened = consultation.opens_at
    return max(since, opened) if opened is not None else since


def results_events(consultation: Consultation, limit: int = LIMIT) -> list[Event]:
    """The consultation's published results versions, newest first."""
    publications = (
        Publication.objects.filter(consultation=consultation)
        .defer("results_json", "manifest_json")
        .order_by("-version")
    )
    events = []
    for publication in publications[:limit]:
        publication.consultation = consultation
        events.append(_published(publication))
    return events


def _published(publication: Publication) -> Event:
    return Event(
        "results",
        publication.consultation,
        publication.published_at,
        version=publication.version,
        note=publication.note,
    )


def calendar_consultations(limit: int = LIMIT) -> list[Consultation]:
    """The public consultations with a date to put in a calendar: those still to open
    or open first, then the most recently opened."""
    dated = _public().exclude(opens_at__isnull=True, closes_at__isnull=True)
    latest_first = dated.order_by(
        F("opens_at").desc(nulls_last=True), F("closes_at").desc(nulls_last=True), "-pk"
    )
    return list(latest_first[:limit])


def closing_time(consultation: Consultation) -> datetime | None:
    """When it closes or closed: ``closed_at`` once closed (early or on time)."""
    if consultation.is_finished and consultation.closed_at is not None:
        return consultation.closed_at
    return consultation.closes_at


def closed_early(consultation: Consultation) -> bool:
    closes_at = consultation.closes_at
    return consultation.is_finished and (
        bool(consultation.closing_reason)
        or (
            consultation.closed_at is not None
            and closes_at is not None
            and consultation.closed_at < closes_at
        )
    )
