"""GET /consultations/{slug}/live: the websocket snapshot, for clients without websockets."""

import pytest

from consultation.models import Consultation
from consultation.participation import debate, voting
from tests.factories import make_consultation
from tests.support.api import ApiClient, items_of

pytestmark = pytest.mark.django_db
Status = Consultation.Status


def test_live_returns_the_snapshot_frame(api_as, consultation, citizen, make_user, settings):
    settings.OPEN_DATA_MIN_GROUP = 2
    first, second, third = items_of(consultation)
    other = make_user()
    voting.cast_vote(citizen, first, "for")
    voting.cast_vote(other, first, "against")
    voting.grade_item(citizen, second, 5)
    voting.grade_item(other, second, 5)
    voting.grade_item(citizen, third, 1)
    voting.submit_ballot(citizen, consultation, [second.pk])
    voting.submit_ballot(other, consultation, [second.pk, first.pk])
    debate.post_comment(citizen, second, "Un avis.", "for")

    response = api_as().get(f"/consultations/{consultation.slug}/live")

    assert response.status_code == 200
    frame = response.json()
    assert frame["type"] == "snapshot"
    assert frame["stream"] == "public"
    assert isinstance(frame["seq"], int)
    snapshot = frame["consultation"]
    assert snapshot["slug"] == consultation.slug
    assert snapshot["status"] == "open"
    assert snapshot["results_visible"] is True
    assert snapshot["participation"] == {
        "participants": 2,
        "votes": 2,
        "grades": 3,
        "ballots": 2,
        "comments": 1,
    }
    assert snapshot["items"][str(first.pk)]["votes"] == {"for": 1, "against": 1, "abstain": 0}
    assert snapshot["items"][str(second.pk)]["grades"] == [0, 0, 0, 0, 0, 2, 0]
    assert snapshot["items"][str(second.pk)]["comments"] == 1
    assert snapshot["items"][str(second.pk)]["ranks"] == [2, 0, 0]
    # One grade: fewer than 2, so its total only (consultation.results.small_groups).
    assert snapshot["items"][str(third.pk)] == {
        "comments": 0,
        "responses": {"votes": 0, "grades": 1},
        "votes": None,
        "grades": None,
        "ranks": [0, 0, 0],
    }


def test_live_hides_per_item_results_until_close_under_the_after_close_policy(api_as, citizen):
    consultation = make_consultation(results_visibility=Consultation.ResultsVisibility.AFTER_CLOSE)
    item = items_of(consultation)[0]
    voting.cast_vote(citizen, item, "for")
    debate.post_comment(citizen, item, "Un avis.")

    snapshot = api_as().get(f"/consultations/{consultation.slug}/live").json()["consultation"]

    assert snapshot["results_visible"] is False
    assert snapshot["participation"]["votes"] == 1  # participation is public at every phase
    assert snapshot["items"][str(item.pk)] == {"comments": 1}
    for entry in snapshot["items"].values():
        assert set(entry) == {"comments"}


def test_live_is_not_found_for_drafts_even_for_their_organiser(api_as, organiser):
    draft = make_consultation(status=Status.DRAFT, organiser=organiser)
    for client in (api_as(), api_as(organiser)):
        response = client.get(f"/consultations/{draft.slug}/live")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    assert api_as().get("/consultations/no-such-thing/live").status_code == 404


def test_live_refuses_a_wrong_token_like_every_read(consultation):
    response = ApiClient("agora_not-a-real-token").get(f"/consultations/{consultation.slug}/live")
    assert response.status_code == 401
