"""Small-group protection: too few participants, no ballot-level data (only totals)."""

import csv

import pytest
from django.conf import settings

from consultation import results, voting
from tests.consultation.factories import make_consultation
from tests.results.conftest import close

pytestmark = pytest.mark.django_db


def test_a_kind_below_the_threshold_publishes_only_its_total(voted, settings):
    consultation = close(voted(4))
    settings.OPEN_DATA_MIN_GROUP = 5
    row = results.compute_results(consultation.pk, "final")
    document = row.results
    assert document["methods"] == {}
    assert document["computed_from"] == {}
    for kind in ("rankings", "grades", "votes"):
        assert document["withheld"][kind] == {"reason": "small_group", "ballots": 4, "threshold": 5}
    files = sorted(p.name for p in (settings.MEDIA_ROOT / row.directory).iterdir())
    assert files == ["items.csv", "items.json"]


def test_an_item_with_few_responses_is_not_broken_down(make_user, organiser, settings):
    settings.OPEN_DATA_MIN_GROUP = 3
    consultation = make_consultation(
        items=2, organiser=organiser, grading_enabled=False, ranking_enabled=False
    )
    popular, rare = consultation.items.order_by("position", "id")
    people = [make_user() for _ in range(4)]
    for person in people:
        voting.cast_vote(person, popular, "for")
    voting.cast_vote(people[0], rare, "against")
    voting.cast_vote(people[1], rare, "for")
    close(consultation)
    row = results.compute_results(consultation.pk, "final")
    document = row.results
    assert document["withheld"]["votes"] == {
        "reason": "small_group",
        "threshold": 3,
        "items": {str(rare.pk): 2},
    }
    with open(settings.MEDIA_ROOT / row.directory / "votes.csv", newline="") as fp:
        rows = list(csv.DictReader(fp))
    assert {r["item"] for r in rows} == {str(popular.pk)}
    scores = document["methods"]["votes"]["scores"]
    assert scores[str(popular.pk)]["for"] == 4
    assert scores[str(rare.pk)]["for"] == scores[str(rare.pk)]["against"] == 0


def test_the_threshold_reads_from_the_environment():
    import os
    import subprocess
    import sys

    code = "from django.conf import settings; print(settings.OPEN_DATA_MIN_GROUP)"
    env = {**os.environ, "OPEN_DATA_MIN_GROUP": "25", "DJANGO_SETTINGS_MODULE": "config.settings"}
    out = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.stdout.strip() == "25", out.stderr
