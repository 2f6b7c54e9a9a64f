"""Reading the API: the visibility policy of the pages, aggregates only."""

import pytest

from consultation.models import Consultation
from consultation.organising import lifecycle
from consultation.participation import debate, voting
from tests.factories import add_member, make_consultation, make_item
from tests.support.api import items_of

pytestmark = pytest.mark.django_db
Status = Consultation.Status


def test_list_shows_every_phase_but_drafts(api_as):
    shown = {make_consultation(status=s).slug for s in (Status.OPEN, Status.CLOSED)}
    draft = make_consultation(status=Status.DRAFT)
    response = api_as().get("/consultations")
    assert response.status_code == 200
    slugs = {c["slug"] for c in response.json()}
    assert shown <= slugs
    assert draft.slug not in slugs


def test_list_filters_by_status(api_as):
    open_one = make_consultation()
    closed = make_consultation(status=Status.CLOSED)
    slugs = {c["slug"] for c in api_as().get("/consultations?status=closed").json()}
    assert closed.slug in slugs
    assert open_one.slug not in slugs


def test_draft_is_not_found_even_for_its_organiser(api_as, organiser):
    draft = make_consultation(status=Status.DRAFT, organiser=organiser)
    for path in ("", "/items", f"/items/{items_of(draft)[0].pk}", "/results"):
        response = api_as(organiser).get(f"/consultations/{draft.slug}{path}")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    response = api_as(organiser).get(f"/items/{items_of(draft)[0].pk}/comments")
    assert response.status_code == 404


def test_consultation_detail_describes_modes_scale_and_participation(api_as, consultation, citizen):
    voting.cast_vote(citizen, items_of(consultation)[0], "for")
    body = api_as().get(f"/consultations/{consultation.slug}").json()
    assert body["modes"] == {"voting": True, "grading": True, "ranking": True, "comments": True}
    assert body["ranking_size"] == 3
    assert body["grade_scale"] == 7
    assert len(body["grade_labels"]) == 7
    assert body["themes"] == [{"slug": "theme", "name": "Thème"}]
    assert body["participation"]["participants"] == 1
    assert body["accepts_participation"] is True


def test_titles_follow_the_requested_language(api_as, consultation):
    client = api_as()
    english = client.client.get(
        f"/api/v1/consultations/{consultation.slug}", headers={"Accept-Language": "en"}
    )
    assert english.json()["title"] == consultation.title_en


def test_items_are_listed_and_searchable(api_as, consultation):
    special = make_item(consultation, title="Vélos partout")
    client = api_as()
    assert len(client.get(f"/consultations/{consultation.slug}/items").json()) == 4
    found = client.get(f"/consultations/{consultation.slug}/items?q=v%C3%A9los").json()
    assert [item["id"] for item in found] == [special.pk]


def test_item_of_another_consultation_is_not_found(api_as, consultation):
    other = make_consultation()
    response = api_as().get(f"/consultations/{consultation.slug}/items/{items_of(other)[0].pk}")
    assert response.status_code == 404


def test_live_results_are_aggregates(api_as, consultation, citizen, make_user, settings):
    settings.OPEN_DATA_MIN_GROUP = 2
    first, second = items_of(consultation)[:2]
    other = make_user()
    voting.cast_vote(citizen, first, "for")
    voting.cast_vote(other, first, "against")
    voting.grade_item(citizen, first, 6)
    voting.grade_item(other, first, 6)
    voting.submit_ballot(citizen, consultation, [second.pk, first.pk])
    voting.submit_ballot(other, consultation, [second.pk])
    body = api_as().get(f"/consultations/{consultation.slug}/results").json()
    tallies = {row["item"]: row for row in body["items"]}
    assert body["min_group"] == 2
    assert tallies[first.pk]["votes"] == {"for": 1, "against": 1, "abstain": 0}
    assert tallies[first.pk]["grades"][6] == 2
    assert tallies[first.pk]["responses"] == {"votes": 2, "grades": 2}
    assert tallies[second.pk]["ranks"] == [2, 0, 0]
    assert tallies[first.pk]["ranks"] == [0, 1, 0]
    assert body["final"] is False
    assert citizen.email not in str(body)


def test_a_small_group_shows_its_total_not_how_it_split(api_as, consultation, citizen, settings):
    """Live results with one voter: the item's total, never "against: 1"."""
    settings.OPEN_DATA_MIN_GROUP = 10
    first = items_of(consultation)[0]
    voting.cast_vote(citizen, first, "against")
    voting.grade_item(citizen, first, 1)
    voting.submit_ballot(citizen, consultation, [first.pk])
    body = api_as().get(f"/consultations/{consultation.slug}/results").json()
    row = next(row for row in body["items"] if row["item"] == first.pk)
    assert body["min_group"] == 10
    assert row["responses"] == {"votes": 1, "grades": 1}
    assert row["votes"] is row["grades"] is row["ranks"] is None
    assert body["participation"]["votes"] == 1  # totals stay public


@pytest.mark.parametrize("visibility", ["live", "after_close"])
def test_after_close_with_one_voter_nothing_is_broken_down_before_publication(
    api_as, citizen, organiser, settings, visibility
):
    """The organisers' e-mail says nothing but the live tallies is public until they publish."""
    settings.OPEN_DATA_MIN_GROUP = 10
    consultation = make_consultation(results_visibility=visibility, organiser=organiser)
    first = items_of(consultation)[0]
    voting.cast_vote(citizen, first, "against")
    lifecycle.transition(consultation.pk, "closed", reason="")
    for user in (None, citizen, organiser):
        response = api_as(user).get(f"/consultations/{consultation.slug}/results")
        if visibility == "after_close":
            assert response.status_code == 403
            assert response.json()["code"] == "results_hidden"
        else:
            row = next(row for row in response.json()["items"] if row["item"] == first.pk)
            assert (row["votes"], row["responses"]["votes"]) == (None, 1)
        snapshot = api_as(user).get(f"/consultations/{consultation.slug}/live").json()
        assert "against" not in str(snapshot["consultation"]["items"])


def test_a_large_enough_group_is_broken_down_after_close(api_as, citizen, make_user, settings):
    settings.OPEN_DATA_MIN_GROUP = 3
    consultation = make_consultation(results_visibility="live")
    first = items_of(consultation)[0]
    for person, choice in ((citizen, "against"), (make_user(), "for"), (make_user(), "for")):
        voting.cast_vote(person, first, choice)
    lifecycle.transition(consultation.pk, "closed", reason="")
    body = api_as().get(f"/consultations/{consultation.slug}/results").json()
    row = next(row for row in body["items"] if row["item"] == first.pk)
    assert row["votes"] == {"for": 2, "against": 1, "abstain": 0}


def test_results_after_close_are_hidden_from_everyone_while_open(api_as, organiser, staff):
    consultation = make_consultation(
        results_visibility=Consultation.ResultsVisibility.AFTER_CLOSE, organiser=organiser
    )
    for user in (None, organiser, staff):
        response = api_as(user).get(f"/consultations/{consultation.slug}/results")
        assert response.status_code == 403
        assert response.json()["code"] == "results_hidden"
    detail = api_as().get(f"/consultations/{consultation.slug}").json()
    assert detail["results_visible"] is False
    assert "participation" in detail


def test_results_after_close_are_shown_once_published_not_at_closing(api_as, organiser):
    closed = make_consultation(
        status=Status.CLOSED,
        results_visibility=Consultation.ResultsVisibility.AFTER_CLOSE,
        organiser=organiser,
    )
    for user in (None, organiser):
        response = api_as(user).get(f"/consultations/{closed.slug}/results")
        assert response.status_code == 403
        assert response.json()["code"] == "results_hidden"
    assert api_as().get(f"/consultations/{closed.slug}").json()["results_visible"] is False
    published = make_consultation(
        status=Status.PUBLISHED, results_visibility=Consultation.ResultsVisibility.AFTER_CLOSE
    )
    response = api_as().get(f"/consultations/{published.slug}/results")
    assert response.status_code == 200
    assert response.json()["final"] is True


def test_results_of_a_scheduled_consultation_are_hidden(api_as):
    consultation = make_consultation(status=Status.SCHEDULED)
    response = api_as().get(f"/consultations/{consultation.slug}/results")
    assert response.status_code == 403


def test_comment_thread_shows_display_names_never_emails(api_as, consultation, citizen, make_user):
    item = items_of(consultation)[0]
    root = debate.post_comment(citizen, item, "Je suis pour.", "for")
    reply = debate.post_comment(make_user(display_name="Bob"), item, "Moi non.", "against", root)
    body = api_as().get(f"/items/{item.pk}/comments").json()
    assert [(c["id"], c["depth"], c["author"]) for c in body] == [
        (root.pk, 0, "Camille"),
        (reply.pk, 1, "Bob"),
    ]
    assert "@" not in str(body)


def test_deleted_comment_keeps_its_place_without_text_or_author(api_as, consultation, citizen):
    item = items_of(consultation)[0]
    comment = debate.post_comment(citizen, item, "Oups.")
    debate.delete_comment(citizen, comment)
    [shown] = api_as().get(f"/items/{item.pk}/comments").json()
    assert shown["deleted"] is True
    assert shown["body"] == ""
    assert shown["author"] is None


def test_comment_thread_marks_what_the_reader_found_useful(
    api_as, consultation, citizen, make_user
):
    item = items_of(consultation)[0]
    reader = make_user()
    comment = debate.post_comment(citizen, item, "Utile ?")
    debate.toggle_useful(reader, comment)
    [as_reader] = api_as(reader).get(f"/items/{item.pk}/comments?sort=useful").json()
    [as_public] = api_as().get(f"/items/{item.pk}/comments").json()
    assert (as_reader["marked_useful"], as_reader["useful_count"]) == (True, 1)
    assert (as_public["marked_useful"], as_public["useful_count"]) == (False, 1)


def test_me_needs_authentication(api_as, consultation):
    response = api_as().get(f"/consultations/{consultation.slug}/me")
    assert response.status_code == 401
    assert response.json()["code"] == "login_required"


def test_me_shows_only_the_callers_own_participation(api_as, consultation, citizen, make_user):
    first, second, _third = items_of(consultation)
    other = make_user()
    voting.cast_vote(citizen, first, "for")
    voting.grade_item(citizen, first, 5)
    voting.submit_ballot(citizen, consultation, [second.pk])
    voting.cast_vote(other, second, "against")
    mine = api_as(citizen).get(f"/consultations/{consultation.slug}/me").json()
    theirs = api_as(other).get(f"/consultations/{consultation.slug}/me").json()
    assert mine["votes"] == [{"item": first.pk, "choice": "for"}]
    assert [(g["item"], g["grade"]) for g in mine["grades"]] == [(first.pk, 5)]
    assert mine["grades"][0]["label"]
    assert mine["ballot"] == [second.pk]
    assert theirs == {
        "consultation": consultation.slug,
        "votes": [{"item": second.pk, "choice": "against"}],
        "grades": [],
        "ballot": [],
        "comments": [],
    }


def test_organiser_learns_nothing_about_how_a_citizen_voted(api_as, organiser, citizen):
    consultation = make_consultation(organiser=organiser)
    add_member(consultation, organiser, "moderator")
    voting.cast_vote(citizen, items_of(consultation)[0], "for")
    client = api_as(organiser)
    me = client.get(f"/consultations/{consultation.slug}/me").json()
    assert me["votes"] == []
    for path in ("", "/results", "/items"):
        body = client.get(f"/consultations/{consultation.slug}{path}").content.decode()
        assert citizen.email not in body
        assert "Camille" not in body
