"""The consultation lifecycle: draft → scheduled → open → closed → published.

Every status change goes through ``transition`` (one module, one lock). The split is
named: ``schedule``, ``open_now``, ``back_to_draft`` and ``close_early`` take the acting
user and check that they manage the consultation (the organiser pages and the admin call
them); ``transition`` trusts its caller — those four, the periodic job ``advance_due``
that opens and closes consultations on time, and ``publishing.publish``, which checked. Closing
queues the final results job after the commit; publishing is done by
``consultation.results.publishing.publish``, which creates the first publication in the
same transaction.
"""

import contextlib
import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.types import Person
from consultation import jobs, permissions
from consultation.errors import Conflict
from consultation.live import events
from consultation.models import Consultation
from consultation.notices import audience
from consultation.organising import card

logger = logging.getLogger(__name__)
Status = Consultation.Status

ALLOWED: dict[str, set[str]] = {
    Status.DRAFT: {Status.SCHEDULED, Status.OPEN},
    Status.SCHEDULED: {Status.DRAFT, Status.OPEN},
    Status.OPEN: {Status.CLOSED},
    Status.CLOSED: {Status.PUBLISHED},
    Status.PUBLISHED: set(),
}


def transition(
    consultation_id: int, to: str, *, reason: str = "", now: datetime | None = None
) -> Consultation:
    """Move the consultation to ``to`` if the lifecycle allows it. Trusts its caller."""
    now = now or timezone.now()
    with transaction.atomic():
        # The row lock serialises an organiser's "close now" with the periodic job
        # closing at closes_at: exactly one of them closes it, the other sees CLOSED.
        consultation = Consultation.objects.select_for_update().get(pk=consultation_id)
        if to not in ALLOWED[consultation.status]:
            raise Conflict(
                "invalid_transition",
                _("A consultation cannot go from “%(current)s” to “%(target)s”.")
                % {"current": consultation.get_status_display(), "target": Status(to).label},
            )
        _check_ready(consultation, to, now)
        consultation.status = to
        fields = ["status", "updated_at"]
        if to == Status.OPEN and (consultation.opens_at is None or consultation.opens_at > now):
            consultation.opens_at = now
            fields.append("opens_at")
        if to == Status.CLOSED:
            consultation.closed_at = now
            consultation.closing_reason = reason
            fields += ["closed_at", "closing_reason"]
        consultation.save(update_fields=fields)
        if to == Status.OPEN:
            # Every way of opening: the declared rule is frozen with the first vote possible.
            card.freeze(consultation, now)
        events.after_commit(events.status_changed, consultation.pk)
        if to == Status.OPEN:
            # Every way of opening (organiser, periodic job): its followers hear of it.
            jobs.queue_audience_notices(audience.OPENED, consultation.pk)
        if to == Status.CLOSED:
            # Every way of closing (organiser, periodic job) comes through here.
            jobs.queue_final(consultation.pk)
    logger.info("consultation %s: %s", consultation.slug, to)
    return consultation


def _check_ready(consultation: Consultation, to: str, now: datetime) -> None:
    if to == Status.PUBLISHED and not consultation.computed_results.filter(kind="final").exists():
        # Only consultation.results.publishing.publish goes here, with the final results in hand.
        raise Conflict("results_not_computed", _("The final results are not computed yet."))
    if to in (Status.SCHEDULED, Status.OPEN) and not consultation.items.exists():
        raise Conflict("no_items", _("Add at least one item before opening the consultation."))
    if to in (Status.SCHEDULED, Status.OPEN):
        card.check_ready(consultation)
    if to == Status.SCHEDULED:
        if consultation.opens_at is None or consultation.closes_at is None:
            raise Conflict("dates_missing", _("Set the opening and closing dates first."))
        if consultation.opens_at <= now:
            raise Conflict("opens_in_past", _("The opening date must be in the future."))
    if to == Status.OPEN and consultation.closes_at is not None and consultation.closes_at <= now:
        raise Conflict("closes_in_past", _("The closing date is already past."))


def schedule(
    user: Person,
    consultation: Consultation,
    *,
    opens_at: datetime | None,
    closes_at: datetime | None,
    now: datetime | None = None,
) -> Consultation:
    permissions.require_manager(user, consultation)
    # One transaction: a refused transition (already open, date in the past) must
    # not leave the new dates behind.
    with transaction.atomic():
        consultation.opens_at, consultation.closes_at = opens_at, closes_at
        consultation.save(update_fields=["opens_at", "closes_at", "updated_at"])
        return transition(consultation.pk, Status.SCHEDULED, now=now)


def open_now(user: Person, consultation: Consultation, now: datetime | None = None) -> Consultation:
    permissions.require_manager(user, consultation)
    return transition(consultation.pk, Status.OPEN, now=now)


def back_to_draft(
    user: Person, consultation: Consultation, now: datetime | None = None
) -> Consultation:
    """A scheduled consultation goes back to draft: it will not open on its own."""
    permissions.require_manager(user, consultation)
    return transition(consultation.pk, Status.DRAFT, now=now)


def close_early(
    user: Person, consultation: Consultation, *, reason: str, now: datetime | None = None
) -> Consultation:
    permissions.require_manager(user, consultation)
    with transaction.atomic():
        closed = transition(consultation.pk, Status.CLOSED, reason=reason, now=now)
        # Closed by its organisers before the date: its followers hear why.
        jobs.queue_audience_notices(audience.CLOSED_EARLY, closed.pk)
    return closed


def advance_due(now: datetime | None = None) -> dict[str, list[str]]:
    """Periodic: open scheduled consultations whose time has come, close those that ended."""
    now = now or timezone.now()
    opened: list[str] = []
    closed: list[str] = []
    for pk in Consultation.objects.filter(status=Status.SCHEDULED, opens_at__lte=now).values_list(
        "pk", flat=True
    ):
        try:
            opened.append(transition(pk, Status.OPEN, now=now).slug)
        except Conflict as refusal:
            logger.warning("could not open consultation %s: %s", pk, refusal.code)
    for pk in Consultation.objects.filter(status=Status.OPEN, closes_at__lte=now).values_list(
        "pk", flat=True
    ):
        # Conflict: closed meanwhile by its organiser, nothing left to do.
        with contextlib.suppress(Conflict):
            closed.append(transition(pk, Status.CLOSED, now=now).slug)
    return {"opened": opened, "closed": closed}
