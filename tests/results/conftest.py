"""Results tests: a consultation people took part in, closed, ready to count.

Open-data files go to a scratch MEDIA_ROOT shared with the Celery worker process of the
production pass: the variable is set here, at collection, before any worker starts.
"""

import os
import random
import shutil
import tempfile
from pathlib import Path

import pytest

from consultation.models import Consultation, Membership
from consultation.organising import lifecycle
from consultation.participation import voting
from tests.factories import add_member, make_consultation

MEDIA_ROOT = Path(os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="agora-media-")))
MIN_GROUP = int(os.environ.setdefault("OPEN_DATA_MIN_GROUP", "3"))
CHOICES = ("for", "against", "abstain")


def pytest_sessionfinish(session):
    if MEDIA_ROOT.name.startswith("agora-media-"):
        shutil.rmtree(MEDIA_ROOT, ignore_errors=True)


@pytest.fixture(autouse=True)
def _media_root(settings):
    settings.MEDIA_ROOT = MEDIA_ROOT
    settings.OPEN_DATA_MIN_GROUP = MIN_GROUP
    yield


def take_part(user, consultation, *, rng):
    """``user`` votes, grades and ranks at random, through the domain (like a person)."""
    items = list(consultation.items.order_by("position", "id"))
    for item in items:
        if consultation.voting_enabled:
            voting.cast_vote(user, item, rng.choice(CHOICES))
        if consultation.grading_enabled:
            voting.grade_item(user, item, rng.randrange(consultation.grade_scale))
    if consultation.ranking_enabled:
        chosen = rng.sample(items, rng.randint(1, min(consultation.ranking_size, len(items))))
        voting.submit_ballot(user, consultation, [item.pk for item in chosen])


@pytest.fixture
def voted(make_user, organiser):
    """``voted(n, **fields)``: an open consultation with ``n`` participants (seeded), and
    ``organiser`` as its organiser. Still open: close it with ``close``."""

    def make(n=6, *, seed=5, items=4, **fields):
        consultation = make_consultation(items=items, **fields)
        add_member(consultation, organiser, Membership.Role.ORGANISER)
        rng = random.Random(seed)
        for _ in range(n):
            take_part(make_user(), consultation, rng=rng)
        return consultation

    return make


def close(consultation) -> Consultation:
    return lifecycle.transition(consultation.pk, "closed", reason="")
