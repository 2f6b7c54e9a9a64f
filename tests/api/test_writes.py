"""Taking part through the API: the domain's rules, the domain's refusals, as JSON."""

import pytest

from accounts.models import ApiToken
from consultation.models import Ballot, Comment, Consultation, Grade, Vote
from consultation.participation import debate
from tests.factories import make_consultation
from tests.support.api import ApiClient, items_of

pytestmark = pytest.mark.django_db


def test_token_holder_votes_changes_and_withdraws(api_as, consultation, citizen):
    item = items_of(consultation)[0]
    client = api_as(citizen)
    response = client.call("PUT", f"/items/{item.pk}/vote", {"choice": "for"})
    assert response.status_code == 200
    assert response.json() == {"item": item.pk, "choice": "for"}
    client.call("PUT", f"/items/{item.pk}/vote", {"choice": "abstain"})
    assert Vote.objects.get(item=item, user=citizen).choice == "abstain"
    response = client.call("DELETE", f"/items/{item.pk}/vote")
    assert response.json() == {"item": item.pk, "choice": None}
    assert not Vote.objects.filter(user=citizen).exists()


def test_token_holder_grades(api_as, consultation, citizen):
    item = items_of(consultation)[0]
    client = api_as(citizen)
    response = client.call("PUT", f"/items/{item.pk}/grade", {"grade": 0})
    assert response.status_code == 200
    assert response.json()["grade"] == 0
    assert Grade.objects.get(user=citizen).grade == 0
    assert client.call("DELETE", f"/items/{item.pk}/grade").json()["grade"] is None
    assert not Grade.objects.filter(user=citizen).exists()


def test_token_holder_ranks_and_withdraws_the_ballot(api_as, consultation, citizen):
    first, second, third = items_of(consultation)
    client = api_as(citizen)
    path = f"/consultations/{consultation.slug}/ballot"
    response = client.call("PUT", path, {"items": [third.pk, first.pk]})
    assert response.status_code == 200
    assert response.json()["items"] == [third.pk, first.pk]
    client.call("PUT", path, {"items": [second.pk]})
    assert Ballot.objects.get(user=citizen).ranked_item_ids() == [second.pk]
    assert client.call("DELETE", path).json()["items"] == []
    assert not Ballot.objects.filter(user=citizen).exists()


def test_token_holder_comments_replies_edits_and_deletes(api_as, consultation, citizen, make_user):
    item = items_of(consultation)[0]
    client = api_as(citizen)
    response = client.call("POST", f"/items/{item.pk}/comments", {"body": "Oui.", "stance": "for"})
    assert response.status_code == 201
    comment = response.json()
    assert (comment["author"], comment["stance"], comment["mine"]) == ("Camille", "for", True)
    reply = api_as(make_user()).call(
        "POST", f"/items/{item.pk}/comments", {"body": "Non.", "parent": comment["id"]}
    )
    assert reply.status_code == 201
    assert reply.json()["parent"] == comment["id"]
    assert reply.json()["depth"] == 1
    edited = client.call("PATCH", f"/comments/{comment['id']}", {"body": "Oui, vraiment."})
    assert edited.status_code == 200
    assert edited.json()["body"] == "Oui, vraiment."
    assert edited.json()["edited_at"] is not None
    restanced = client.call("PATCH", f"/comments/{comment['id']}", {"stance": "neutral"})
    assert restanced.json()["stance"] == "neutral"
    assert restanced.json()["body"] == "Oui, vraiment."
    deleted = client.call("DELETE", f"/comments/{comment['id']}")
    assert deleted.json()["deleted"] is True
    assert Comment.objects.get(pk=comment["id"]).is_deleted


def test_useful_toggles(api_as, consultation, citizen, make_user):
    comment = debate.post_comment(citizen, items_of(consultation)[0], "Voici une idée.")
    client = api_as(make_user())
    marked = client.call("POST", f"/comments/{comment.pk}/useful")
    assert marked.json() == {"comment": comment.pk, "marked_useful": True, "useful_count": 1}
    unmarked = client.call("POST", f"/comments/{comment.pk}/useful")
    assert unmarked.json() == {"comment": comment.pk, "marked_useful": False, "useful_count": 0}


def test_own_comment_cannot_be_marked_useful(api_as, consultation, citizen):
    comment = debate.post_comment(citizen, items_of(consultation)[0], "Moi.")
    response = api_as(citizen).call("POST", f"/comments/{comment.pk}/useful")
    assert response.status_code == 422
    assert response.json()["code"] == "own_comment"


def test_someone_elses_comment_cannot_be_edited_or_deleted(
    api_as, consultation, citizen, make_user
):
    comment = debate.post_comment(citizen, items_of(consultation)[0], "À moi.")
    client = api_as(make_user())
    for method, body in (("PATCH", {"body": "Volé."}), ("DELETE", None)):
        response = client.call(method, f"/comments/{comment.pk}", body)
        assert response.status_code == 403
        assert response.json()["code"] == "not_yours"
    assert Comment.objects.get(pk=comment.pk).body == "À moi."


def test_anonymous_write_is_told_to_log_in(api_as, consultation):
    item = items_of(consultation)[0]
    response = api_as().call("PUT", f"/items/{item.pk}/vote", {"choice": "for"})
    assert response.status_code == 401
    assert response.json()["code"] == "login_required"


@pytest.mark.parametrize(
    "header", ["Bearer agora_not-a-real-token", "Bearer ", "Bearer nope", "bearer " + "x" * 500]
)
def test_wrong_token_is_refused_and_never_falls_back(header, consultation, citizen, client_for):
    item = items_of(consultation)[0]
    browser = client_for(citizen)  # logged in: a wrong token must still be refused
    response = browser.put(
        f"/api/v1/items/{item.pk}/vote",
        {"choice": "for"},
        content_type="application/json",
        headers={"Authorization": header},
    )
    assert response.status_code == 401
    assert response.json()["code"] in ("invalid_token", "login_required")
    assert not Vote.objects.exists()


def test_revoked_token_stops_working(api_as, consultation, citizen):
    client = api_as(citizen)
    ApiToken.objects.filter(user=citizen).delete()
    response = client.call("PUT", f"/items/{items_of(consultation)[0].pk}/vote", {"choice": "for"})
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


def test_deactivated_account_token_stops_working(api_as, consultation, citizen):
    client = api_as(citizen)
    citizen.is_active = False
    citizen.save()
    response = client.call("PUT", f"/items/{items_of(consultation)[0].pk}/vote", {"choice": "for"})
    assert response.status_code == 401


def test_unverified_account_may_not_take_part(api_as, consultation, unverified):
    response = api_as(unverified).call(
        "PUT", f"/items/{items_of(consultation)[0].pk}/vote", {"choice": "for"}
    )
    assert response.status_code == 403
    assert response.json()["code"] == "not_eligible"
    assert response.json()["detail"]


def test_identity_only_consultation_refuses_an_email_verified_citizen(api_as, citizen):
    consultation = make_consultation(eligibility=Consultation.Eligibility.VERIFIED_IDENTITY)
    response = api_as(citizen).call(
        "PUT", f"/items/{items_of(consultation)[0].pk}/vote", {"choice": "for"}
    )
    assert response.status_code == 403
    assert response.json()["code"] == "identity_required"


@pytest.mark.parametrize("status", ["scheduled", "closed", "published"])
def test_consultation_not_open_refuses_participation(api_as, citizen, status):
    consultation = make_consultation(status=status)
    item = items_of(consultation)[0]
    response = api_as(citizen).call("PUT", f"/items/{item.pk}/vote", {"choice": "for"})
    assert response.status_code == 403
    assert response.json()["code"] == "not_open"


def test_disabled_mode_is_refused(api_as, citizen):
    consultation = make_consultation(grading_enabled=False)
    item = items_of(consultation)[0]
    response = api_as(citizen).call("PUT", f"/items/{item.pk}/grade", {"grade": 3})
    assert response.status_code == 403
    assert response.json()["code"] == "mode_disabled"


def test_draft_items_cannot_be_written_to(api_as, organiser):
    draft = make_consultation(status="draft", organiser=organiser)
    item = items_of(draft)[0]
    response = api_as(organiser).call("PUT", f"/items/{item.pk}/vote", {"choice": "for"})
    assert response.status_code == 404


def test_session_and_token_act_as_the_same_person(api_as, consultation, citizen, client_for):
    item = items_of(consultation)[0]
    api_as(citizen).call("PUT", f"/items/{item.pk}/vote", {"choice": "for"})
    response = client_for(citizen).get(f"/api/v1/consultations/{consultation.slug}/me")
    assert response.json()["votes"] == [{"item": item.pk, "choice": "for"}]


def test_token_requests_need_no_csrf_and_carry_no_cookies(consultation, citizen):
    from accounts.tokens import create_token

    _token, secret = create_token(citizen, "script")
    client = ApiClient(secret)
    response = client.call("PUT", f"/items/{items_of(consultation)[0].pk}/vote", {"choice": "for"})
    assert response.status_code == 200
    assert "sessionid" not in response.cookies


@pytest.mark.parametrize(
    "path",
    [
        "/consultations",
        "/consultations/{slug}",
        "/consultations/{slug}/items",
        "/consultations/{slug}/items/{item}",
        "/consultations/{slug}/results",
        "/items/{item}/comments",
    ],
)
def test_wrong_token_is_refused_on_public_reads_too(path, consultation):
    path = path.format(slug=consultation.slug, item=items_of(consultation)[0].pk)
    response = ApiClient("agora_wrong").get(path)
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"
