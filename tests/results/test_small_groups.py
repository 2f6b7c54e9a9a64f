"""Small-group protection: too few participants, no ballot-level data (only totals)."""

import csv
import os

import pytest
from django.conf import settings

from consultation.participation import voting
from consultation.results import computing
from tests.factories import close, make_consultation

# The threshold tests/results/conftest.py gives this folder (and its worker process).
MIN_GROUP = int(os.environ["OPEN_DATA_MIN_GROUP"])

pytestmark = pytest.mark.django_db


def test_a_kind_below_the_threshold_publishes_only_its_total(voted, settings):
    consultation = close(voted(4))
    settings.OPEN_DATA_MIN_GROUP = 5
    row = computing.compute_results(consultation.pk, "final")
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
    row = computing.compute_results(consultation.pk, "final")
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


# --- Before publication, and everywhere a breakdown shows ------------------------------------
# Pages, the API and the websocket frames all shape a tally through
# consultation.results.small_groups; these tests follow the scenario through each of them.


def lone_voter(make_user, organiser, visibility):
    """A consultation closed with one voter, "against" on its first item."""
    consultation = make_consultation(
        items=2, organiser=organiser, results_visibility=visibility, ranking_enabled=False
    )
    item = consultation.items.order_by("position", "id").first()
    voter = make_user()
    voting.cast_vote(voter, item, "against")
    voting.grade_item(voter, item, 0)
    return close(consultation), item


@pytest.mark.parametrize("visibility", ["live", "after_close"])
def test_after_close_a_lone_vote_shows_nowhere(client, make_user, organiser, visibility):
    from consultation.live import events
    from tests.support.api import ApiClient

    consultation, item = lone_voter(make_user, organiser, visibility)
    client.cookies["django_language"] = "en"
    for url in (consultation.get_absolute_url(), item.get_absolute_url()):
        page = client.get(url).content.decode()
        assert f'data-live="items.{item.pk}.votes.against">1<' not in page, url
        if visibility == "live":  # the total, and why (on the item page: the list is compact)
            assert ("Votes cast: 1" in page) == (url == item.get_absolute_url())
            assert ("not broken down" in page) == (url == item.get_absolute_url())
        else:
            assert "Results will be shown once the organisers publish them." in page
            assert "Votes cast" not in page
    api = ApiClient().get(f"/consultations/{consultation.slug}/results")
    if visibility == "live":
        row = next(row for row in api.json()["items"] if row["item"] == item.pk)
        assert row["votes"] is None and row["grades"] is None
        assert row["responses"] == {"votes": 1, "grades": 1}
    else:
        assert api.status_code == 403
    snapshot = events.snapshot_frame(consultation)["consultation"]
    entry = snapshot["items"][str(item.pk)]
    assert entry.get("votes") is None and entry.get("grades") is None
    assert "against" not in str(snapshot["items"])


def test_a_group_at_the_threshold_is_broken_down_everywhere(client, make_user, organiser):
    from consultation.live import events
    from tests.support.api import ApiClient

    consultation = make_consultation(items=2, organiser=organiser, ranking_enabled=False)
    item = consultation.items.order_by("position", "id").first()
    for n in range(MIN_GROUP):
        voting.cast_vote(make_user(), item, "against" if n == 0 else "for")
    close(consultation)
    page = client.get(item.get_absolute_url()).content.decode()
    assert f'data-live="items.{item.pk}.votes.against">1<' in page
    api = ApiClient().get(f"/consultations/{consultation.slug}/results").json()
    row = next(row for row in api["items"] if row["item"] == item.pk)
    expected = {"for": MIN_GROUP - 1, "against": 1, "abstain": 0}
    assert row["votes"] == expected
    assert events.snapshot_frame(consultation)["consultation"]["items"][str(item.pk)]["votes"] == (
        expected
    )


@pytest.mark.parametrize(
    ("visibility", "says"),
    [
        ("live", "The live tallies stay public as they stood at closing"),
        ("after_close", "No result is public until you publish"),
    ],
)
def test_the_organisers_e_mail_tells_what_is_public_before_publication(
    voted, organiser, monkeypatch, visibility, says
):
    from accounts import emails

    organiser.preferred_language = "en"
    organiser.save()
    sent = []
    monkeypatch.setattr(emails, "send_later", sent.append)  # the mail queue: outside world
    consultation = close(voted(3, results_visibility=visibility))
    computing.compute_results(consultation.pk, "final")
    [message] = sent
    assert says in " ".join(message.body.split())
    assert "Nothing is public until you publish" not in message.body
    if visibility == "live":
        assert f"fewer than {MIN_GROUP} responses is not broken down" in message.body


# --- Provisional results ---------------------------------------------------------------------


def test_provisional_results_leave_small_groups_out(make_user):
    consultation = make_consultation(items=2, grading_enabled=False)
    crowded, lone = consultation.items.order_by("position", "id")
    people = [make_user() for _ in range(MIN_GROUP)]
    for person in people:
        voting.cast_vote(person, crowded, "against")
    voting.cast_vote(people[0], lone, "for")
    voting.submit_ballot(people[0], consultation, [lone.pk, crowded.pk])
    document = computing.compute_results(consultation.pk, "provisional").results
    assert document["min_group"] == MIN_GROUP
    assert document["withheld"] == {
        "rankings": {"reason": "small_group", "threshold": MIN_GROUP},
        "votes": {"reason": "small_group", "threshold": MIN_GROUP, "items": {str(lone.pk): 1}},
    }
    assert set(document["methods"]) == {"votes"}  # one ranking ballot gives no order
    scores = document["methods"]["votes"]["scores"]
    assert scores[str(lone.pk)]["for"] == 0  # counted as having no vote, as in the open data
    assert scores[str(crowded.pk)]["against"] == MIN_GROUP


def test_provisional_results_of_too_few_people_show_no_order(client, make_user):
    consultation = make_consultation(items=2)
    voter = make_user()
    for item in consultation.items.all():
        voting.cast_vote(voter, item, "for")
        voting.grade_item(voter, item, 3)
    voting.submit_ballot(voter, consultation, [item.pk])
    document = computing.compute_results(consultation.pk, "provisional").results
    assert document["methods"] == {}
    client.cookies["django_language"] = "en"
    page = client.get(consultation.get_absolute_url()).content.decode()
    assert "Provisional results" in page
    assert f"an item with fewer than {MIN_GROUP} responses counts here as having none" in page
    assert "side-by-side" not in page


def test_provisional_results_counted_under_another_threshold_are_not_shown(client, voted, settings):
    consultation = voted(6)
    computing.compute_results(consultation.pk, "provisional")
    assert "provisional-heading" in client.get(consultation.get_absolute_url()).content.decode()
    settings.OPEN_DATA_MIN_GROUP = MIN_GROUP + 1
    assert "provisional-heading" not in client.get(consultation.get_absolute_url()).content.decode()


# --- Demo data ---------------------------------------------------------------------------------


def test_the_demo_live_consultation_is_broken_down_item_by_item(settings):
    """`make run`'s live-results consultation must look alive at the default threshold."""
    from consultation import demo, queries
    from consultation.models import Consultation
    from consultation.results import small_groups

    settings.OPEN_DATA_MIN_GROUP = 10  # the default, not this folder's
    demo.seed(closed_participants=0)
    live_one = Consultation.objects.get(results_visibility="live", status="open")
    ballots = queries.participation_counts(live_one)["ballots"]
    tallies = small_groups.public_tallies(queries.item_tallies(live_one), ballots)
    assert len(tallies) > 50
    for tally in tallies.values():
        assert None not in (tally["votes"], tally["grades"], tally["ranks"]), tally["responses"]
