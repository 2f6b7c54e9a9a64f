"""A vote through the browser's form reads what it needs once (docs/performance.md,
"Write path"), and a refusal still comes before anything about the input."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from consultation.models import Membership, Rule, Vote
from consultation.moderation import decisions
from tests.factories import add_member, make_consultation
from tests.support.accounts import login

pytestmark = pytest.mark.django_db(transaction=True)  # real BEGIN and COMMIT


@pytest.fixture
def place(moderator):
    consultation = make_consultation(items=2)
    add_member(consultation, moderator, Membership.Role.MODERATOR)
    return consultation, consultation.items.order_by("position", "id").first()


def _vote_url(item):
    kwargs = {"slug": item.consultation.slug, "item_id": item.pk}
    return reverse("consultation:vote", kwargs=kwargs)


def _signed_in(user):
    client = Client()
    login(client, user)
    return client


def test_a_form_vote_reads_the_address_with_the_user_and_the_suspension_once(place, citizen):
    _consultation, item = place
    client = _signed_in(citizen)
    assert client.post(_vote_url(item), {"choice": "for"}).status_code == 302
    with CaptureQueriesContext(connection) as captured:
        response = client.post(_vote_url(item), {"choice": "against"})
    assert response.status_code == 302
    statements = [q["sql"] for q in captured.captured_queries]
    # Whether the address is verified comes with the user's row, in the same statement.
    user_reads = [sql for sql in statements if 'FROM "accounts_user"' in sql]
    assert len(user_reads) == 1 and '"account_emailaddress"' in user_reads[0]
    assert sum('"account_emailaddress"' in sql for sql in statements) == 1
    # A suspension is read once per write (by the domain), so it holds at once.
    assert sum('"consultation_suspension"' in sql for sql in statements) == 1
    assert Vote.objects.get(item=item, user=citizen).choice == Vote.Choice.AGAINST


def test_an_unverified_address_is_refused_as_before(place, make_user):
    _consultation, item = place
    unverified = make_user("nouveau@example.org", display_name="Nouveau", verified=False)
    response = _signed_in(unverified).post(_vote_url(item), {"choice": "for"})
    assert response.status_code == 403
    assert not Vote.objects.filter(user=unverified).exists()


@pytest.mark.parametrize("choice", ["for", "not-a-choice"])
def test_a_suspended_person_hears_of_the_suspension_whatever_they_sent(
    place, citizen, moderator, choice
):
    consultation, item = place
    decisions.suspend(moderator, citizen, consultation, Rule.INSULT, "Insultes.", days=3)
    response = _signed_in(citizen).post(_vote_url(item), {"choice": choice})
    assert response.status_code == 403
    assert "suspend" in response.content.decode().lower()
    assert not Vote.objects.filter(user=citizen).exists()


def test_an_invalid_choice_from_someone_allowed_is_a_form_error(place, citizen):
    _consultation, item = place
    response = _signed_in(citizen).post(_vote_url(item), {"choice": "not-a-choice"})
    assert response.status_code == 422
    assert not Vote.objects.filter(user=citizen).exists()
