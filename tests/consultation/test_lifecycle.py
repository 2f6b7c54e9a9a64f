"""draft → scheduled → open → closed → published, one module, on time."""

from datetime import timedelta

import pytest
from django.utils import timezone

from consultation.errors import Conflict, NotAllowed
from consultation.models import Consultation
from consultation.organising import lifecycle
from tests.factories import make_consultation

pytestmark = pytest.mark.django_db
S = Consultation.Status


def test_a_scheduled_consultation_opens_and_closes_on_time(organiser):
    now = timezone.now()
    c = make_consultation(status=S.DRAFT, organiser=organiser)
    lifecycle.schedule(
        organiser, c, opens_at=now + timedelta(hours=1), closes_at=now + timedelta(days=1), now=now
    )
    assert lifecycle.advance_due(now=now) == {"opened": [], "closed": []}
    assert lifecycle.advance_due(now=now + timedelta(hours=1)) == {"opened": [c.slug], "closed": []}
    c.refresh_from_db()
    assert c.status == S.OPEN
    assert lifecycle.advance_due(now=now + timedelta(days=1)) == {"opened": [], "closed": [c.slug]}
    c.refresh_from_db()
    assert c.status == S.CLOSED and c.closed_at == now + timedelta(days=1)


def test_closing_early_records_the_reason(organiser):
    c = make_consultation(organiser=organiser)
    lifecycle.close_early(organiser, c, reason="Erreur dans la question")
    c.refresh_from_db()
    assert (c.status, c.closing_reason) == (S.CLOSED, "Erreur dans la question")
    assert lifecycle.advance_due() == {"opened": [], "closed": []}


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (S.DRAFT, S.CLOSED),
        (S.DRAFT, S.PUBLISHED),
        (S.OPEN, S.DRAFT),
        (S.OPEN, S.SCHEDULED),
        (S.CLOSED, S.OPEN),
        (S.PUBLISHED, S.CLOSED),
        (S.SCHEDULED, S.CLOSED),
    ],
)
def test_forbidden_transitions_are_refused(start, target):
    c = make_consultation(status=start)
    with pytest.raises(Conflict) as refusal:
        lifecycle.transition(c.pk, target)
    assert refusal.value.code == "invalid_transition"
    c.refresh_from_db()
    assert c.status == start


def test_a_consultation_without_items_cannot_open(organiser):
    c = make_consultation(status=S.DRAFT, items=0, organiser=organiser)
    with pytest.raises(Conflict) as refusal:
        lifecycle.open_now(organiser, c)
    assert refusal.value.code == "no_items"


def test_scheduling_needs_future_dates(organiser):
    now = timezone.now()
    c = make_consultation(status=S.DRAFT, organiser=organiser)
    with pytest.raises(Conflict):
        lifecycle.schedule(
            organiser, c, opens_at=now - timedelta(hours=1), closes_at=now + timedelta(days=1)
        )


@pytest.mark.parametrize(
    "write",
    [
        lambda user, c: lifecycle.open_now(user, c),
        lambda user, c: lifecycle.back_to_draft(user, c),
        lambda user, c: lifecycle.close_early(user, c, reason="non"),
        lambda user, c: lifecycle.schedule(
            user, c, opens_at=timezone.now() + timedelta(days=1), closes_at=None
        ),
    ],
    ids=["open_now", "back_to_draft", "close_early", "schedule"],
)
def test_every_lifecycle_write_checks_who_asks_itself(make_user, organiser, write):
    """The domain refuses whoever calls it, even a view or a script that forgot to ask
    (docs/architecture.md, "Request → domain → side effects")."""
    c = make_consultation(status=S.SCHEDULED, organiser=organiser)
    outsider = make_user(is_organiser=True)
    with pytest.raises(NotAllowed) as refusal:
        write(outsider, c)
    assert refusal.value.code == "not_organiser"
    c.refresh_from_db()
    assert c.status == S.SCHEDULED


def test_the_periodic_job_is_in_the_beat_schedule():
    from django.conf import settings

    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "consultation.tasks.advance_due_consultations" in tasks
