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

from consultation.models import Membership
from tests.factories import add_member, make_consultation, take_part

OWN_MEDIA_ROOT = "MEDIA_ROOT" not in os.environ
SHARED_MEDIA_ROOT = Path(
    os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="agora-media-"))
)
# pytest imports this file in the xdist controller too (it is the conftest of an argument's
# folder), so its workers inherit one MEDIA_ROOT, and their factories number consultations
# alike (``consultation-1``...): each worker publishes into a folder of its own.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER")
MEDIA_ROOT = SHARED_MEDIA_ROOT / XDIST_WORKER if XDIST_WORKER else SHARED_MEDIA_ROOT
MIN_GROUP = int(os.environ.setdefault("OPEN_DATA_MIN_GROUP", "3"))


def pytest_sessionfinish(session):
    if XDIST_WORKER and not OWN_MEDIA_ROOT:
        shutil.rmtree(MEDIA_ROOT, ignore_errors=True)  # the controller removes the rest
    elif SHARED_MEDIA_ROOT.name.startswith("agora-media-"):
        shutil.rmtree(SHARED_MEDIA_ROOT, ignore_errors=True)


@pytest.fixture(autouse=True)
def _media_root(settings):
    settings.MEDIA_ROOT = MEDIA_ROOT
    settings.OPEN_DATA_MIN_GROUP = MIN_GROUP
    yield


@pytest.fixture
def voted(make_user, organiser):
    """``voted(n, **fields)``: an open consultation with ``n`` participants (seeded), and
    ``organiser`` as its organiser. Still open: close it with ``tests.factories.close``."""

    def make(n=6, *, seed=5, items=4, **fields):
        consultation = make_consultation(items=items, **fields)
        add_member(consultation, organiser, Membership.Role.ORGANISER)
        rng = random.Random(seed)
        for _ in range(n):
            take_part(make_user(), consultation, rng=rng)
        return consultation

    return make
