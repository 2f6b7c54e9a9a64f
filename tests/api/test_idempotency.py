"""``Idempotency-Key``: a retried API write gets the first answer and is not done twice
(consultation/api/idempotency.py, docs/api.md)."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts import lifecycle, privacy
from accounts.tokens import create_token
from consultation.live import counters, stores
from consultation.models import Ballot, Comment, Grade, IdempotencyKey, Vote
from consultation.tasks import purge_idempotency_keys
from tests.factories import make_consultation
from tests.support.api import API, ApiClient, items_of

pytestmark = pytest.mark.django_db


def keyed(key):
    return {"Idempotency-Key": key}


def live_votes(item, choice):
    """The live counter as the writes moved it (not rebuilt from the database)."""
    counts, _people = stores.store().read(item.consultation_id)
    return counts.get(stores.vote_field(item.pk, choice), 0)


@pytest.mark.django_db(transaction=True)  # the live counters move after the commit
def test_a_retried_vote_answers_the_first_answer_and_does_not_vote_again(
    api_as, consultation, citizen
):
    item = items_of(consultation)[0]
    counters.current_counts(consultation)  # built: from now on, each write moves them
    client = api_as(citizen)
    path = f"/items/{item.pk}/vote"
    first = client.call("PUT", path, {"choice": "for"}, headers=keyed("vote-1"))
    assert first.status_code == 200
    assert "Idempotent-Replayed" not in first
    # Meanwhile the citizen changes their mind (another request, no key)...
    client.call("PUT", path, {"choice": "against"})
    # ...and the first request's retry must not put "for" back.
    again = client.call("PUT", path, {"choice": "for"}, headers=keyed("vote-1"))
    assert again.status_code == 200
    assert again.json() == first.json() == {"item": item.pk, "choice": "for"}
    assert again["Idempotent-Replayed"] == "true"
    assert again["Content-Type"] == first["Content-Type"]
    assert Vote.objects.get(item=item, user=citizen).choice == "against"
    assert (live_votes(item, "for"), live_votes(item, "against")) == (0, 1)


def test_a_retried_comment_is_posted_once_and_answers_the_same_comment(
    api_as, consultation, citizen
):
    item = items_of(consultation)[0]
    client = api_as(citizen)
    body = {"body": "Une seule fois, s'il vous plaît.", "stance": "for"}
    first = client.call("POST", f"/items/{item.pk}/comments", body, headers=keyed("c-1"))
    again = client.call("POST", f"/items/{item.pk}/comments", body, headers=keyed("c-1"))
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert Comment.objects.filter(author=citizen).count() == 1


def test_retried_grades_and_ballots_are_recorded_once(api_as, citizen):
    consultation = make_consultation(items=4, ranking_size=2)
    first, second, third, _fourth = items_of(consultation)
    client = api_as(citizen)
    grade = f"/items/{first.pk}/grade"
    ballot = f"/consultations/{consultation.slug}/ballot"
    assert client.call("PUT", grade, {"grade": 1}, headers=keyed("g")).status_code == 200
    assert client.call("PUT", ballot, {"items": [second.pk]}, headers=keyed("b")).status_code == 200
    client.call("PUT", grade, {"grade": 3})
    client.call("PUT", ballot, {"items": [third.pk]})
    assert client.call("PUT", grade, {"grade": 1}, headers=keyed("g")).json()["grade"] == 1
    replayed = client.call("PUT", ballot, {"items": [second.pk]}, headers=keyed("b"))
    assert replayed.json()["items"] == [second.pk]
    assert Grade.objects.get(user=citizen).grade == 3
    assert Ballot.objects.get(user=citizen).ranked_item_ids() == [third.pk]


def test_the_same_key_for_another_request_is_refused_and_writes_nothing(
    api_as, consultation, citizen
):
    first_item, second_item, _third = items_of(consultation)
    client = api_as(citizen)
    client.call("PUT", f"/items/{first_item.pk}/vote", {"choice": "for"}, headers=keyed("k"))
    for method, path, body in [
        ("PUT", f"/items/{first_item.pk}/vote", {"choice": "against"}),  # another body
        ("PUT", f"/items/{second_item.pk}/vote", {"choice": "for"}),  # another path
        ("DELETE", f"/items/{first_item.pk}/vote", None),  # another method
    ]:
        response = client.call(method, path, body, headers=keyed("k"))
        assert response.status_code == 422
        assert response.json()["code"] == "idempotency_key_reused"
    assert list(Vote.objects.filter(user=citizen).values_list("item", "choice")) == [
        (first_item.pk, "for")
    ]


def test_keys_belong_to_one_person(api_as, consultation, citizen, make_user):
    item = items_of(consultation)[0]
    neighbour = make_user("dominique@example.org")
    for person in (citizen, neighbour):
        response = api_as(person).call(
            "PUT", f"/items/{item.pk}/vote", {"choice": "for"}, headers=keyed("same")
        )
        assert response.status_code == 200
        assert "Idempotent-Replayed" not in response
    assert Vote.objects.filter(item=item).count() == 2


def test_a_refusal_is_not_kept_so_a_retry_is_tried_afresh(api_as, consultation, citizen):
    item = items_of(consultation)[0]
    client = api_as(citizen)
    path = f"/items/{item.pk}/vote"
    refused = client.call("PUT", path, {"choice": "maybe"}, headers=keyed("r"))
    assert refused.status_code == 422
    assert not IdempotencyKey.objects.exists()
    # Nothing was written under the key: it is free for the corrected request.
    done = client.call("PUT", path, {"choice": "for"}, headers=keyed("r"))
    assert done.status_code == 200
    assert "Idempotent-Replayed" not in done
    assert Vote.objects.get(user=citizen).choice == "for"


def test_a_key_is_forgotten_after_24_hours(api_as, consultation, citizen):
    item = items_of(consultation)[0]
    client = api_as(citizen)
    path = f"/items/{item.pk}/vote"
    client.call("PUT", path, {"choice": "for"}, headers=keyed("old"))
    client.call("PUT", path, {"choice": "against"})
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=24, seconds=1))
    again = client.call("PUT", path, {"choice": "for"}, headers=keyed("old"))
    assert "Idempotent-Replayed" not in again
    assert Vote.objects.get(user=citizen).choice == "for"  # done again: the key had expired
    assert IdempotencyKey.objects.count() == 1  # the fresh one
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))
    assert purge_idempotency_keys() == 1
    assert not IdempotencyKey.objects.exists()


@pytest.mark.parametrize("key", ["", " ", "a b", "é", "x" * 256])
def test_a_malformed_key_is_a_400_with_a_reason(api_as, consultation, citizen, key):
    item = items_of(consultation)[0]
    response = api_as(citizen).call(
        "PUT", f"/items/{item.pk}/vote", {"choice": "for"}, headers=keyed(key)
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_idempotency_key"
    assert not Vote.objects.exists()


def test_a_key_without_a_valid_caller_changes_nothing_to_the_refusal(api_as, consultation):
    item = items_of(consultation)[0]
    client = ApiClient("agora_not-a-token")
    response = client.call("PUT", f"/items/{item.pk}/vote", {"choice": "for"}, headers=keyed("x"))
    assert response.status_code == 401
    assert not IdempotencyKey.objects.exists()


def test_the_browser_session_takes_a_key_with_its_csrf_token(browser_for, consultation, citizen):
    item = items_of(consultation)[0]
    browser = browser_for(citizen)
    csrf = browser.cookies["csrftoken"].value
    url = f"{API}/items/{item.pk}/vote"

    def put(choice, **headers):
        return browser.put(
            url, {"choice": choice}, content_type="application/json", headers=headers
        )

    assert put("for", **keyed("tab-1"), X_CSRFToken=csrf).status_code == 200
    put("against", X_CSRFToken=csrf)
    assert put("for", **keyed("tab-1"), X_CSRFToken=csrf)["Idempotent-Replayed"] == "true"
    # Without its CSRF token the request is refused as it would be without a key.
    assert put("for", **keyed("tab-1")).status_code == 403
    assert Vote.objects.get(user=citizen).choice == "against"


@pytest.mark.django_db(transaction=True)
def test_racing_retries_with_one_key_write_once_and_all_get_the_first_answer(citizen):
    """Eight copies of one request at once, each on its own connection: one does the
    write; the others wait for its commit and answer with what it answered."""
    item = make_consultation().items.first()
    _token, secret = create_token(citizen, "tests")
    copies = 8
    barrier = threading.Barrier(copies)
    answers, errors = [], []

    def post():
        try:
            client = Client(enforce_csrf_checks=True)
            barrier.wait(timeout=10)
            response = client.post(
                f"{API}/items/{item.pk}/comments",
                {"body": "Une fois, même envoyé huit fois.", "stance": "neutral"},
                content_type="application/json",
                headers={"Authorization": f"Bearer {secret}", **keyed("race")},
            )
            answers.append(response)
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a racing request hung"
    assert errors == []
    assert [a.status_code for a in answers] == [201] * copies
    assert len({a.content for a in answers}) == 1
    assert sum(a.has_header("Idempotent-Replayed") for a in answers) == copies - 1
    assert Comment.objects.filter(item=item).count() == 1
    assert IdempotencyKey.objects.count() == 1


def test_kept_answers_are_in_the_personal_data_export_and_go_with_the_account(
    api_as, consultation, citizen
):
    item = items_of(consultation)[0]
    api_as(citizen).call("PUT", f"/items/{item.pk}/vote", {"choice": "for"}, headers=keyed("e"))
    exported = privacy.export_all(citizen)["api_retries"]
    assert [(row["key"], row["status"]) for row in exported] == [("e", 200)]
    lifecycle.delete_account(citizen)
    assert not IdempotencyKey.objects.exists()
