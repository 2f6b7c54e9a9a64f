"""draft → scheduled → open → closed → published, one module, on time."""

from datetime import timedelta

import pytest
from django.utils import timezone

from consultation.errors import Conflict
from consultation.models import Consultation
from consultation.organising import lifecycle
from tests.consultation.factories import make_consultation

pytestmark = pytest.mark.django_db
S = Consultation.Status


def test_a_scheduled_consultation_opens_and_closes_on_time():
    now = timezone.now()
    c = make_consultation(status=S.DRAFT)
    lifecycle.schedule(
        c, opens_at=now + timedelta(hours=1), closes_at=now + timedelta(days=1), now=now
    )
    assert lifecycle.advance_due(now=now) == {"opened": [], "closed": []}
    assert lifecycle.advance_due(now=now + timedelta(hours=1)) == {"opened": [c.slug], "closed": []}
    c.refresh_from_db()
    assert c.status == S.OPEN
    assert lifecycle.advance_due(now=now + timedelta(days=1)) == {"opened": [], "closed": [c.slug]}
    c.refresh_from_db()
    assert c.status == S.CLOSED and c.closed_at == now + timedelta(days=1)


def test_closing_early_records_the_reason():
    c = make_consultation()
    lifecycle.close_early(c, reason="Erreur dans la question")
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


def test_a_consultation_without_items_cannot_open():
    c = make_consultation(status=S.DRAFT, items=0)
    with pytest.raises(Conflict) as refusal:
        lifecycle.open_now(c)
    assert refusal.value.code == "no_items"


def test_scheduling_needs_future_dates():
    now = timezone.now()
    c = make_consultation(status=S.DRAFT)
    with pytest.raises(Conflict):
        lifecycle.schedule(c, opens_at=now - timedelta(hours=1), closes_at=now + timedelta(days=1))


def test_the_periodic_job_is_in_the_beat_schedule():
    from django.conf import settings

    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "consultation.tasks.advance_due_consultations" in tasks
