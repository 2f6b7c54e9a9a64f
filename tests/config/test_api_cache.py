"""The public API's reads share the anonymous page cache (config/page_cache.py): a copy
for callers without a session or a token, dropped by the domain after each commit that
changes what it shows, keyed by language; a caller with a token, right or wrong, always
gets an answer made for them."""

import json

import pytest
from django.test import Client

from accounts.tokens import create_token
from config import page_cache
from consultation.models import Consultation, Vote
from consultation.participation import voting
from tests.factories import make_consultation

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("page_cache_on")]

API = "/api/v1"


@pytest.fixture
def consultation():
    return make_consultation(items=3)


def _get(url, **headers):
    return Client(headers=headers).get(url)


def test_the_reads_are_served_whole_to_anonymous_callers(consultation):
    item = consultation.items.order_by("position", "id").first()
    for url in (
        f"{API}/consultations",
        f"{API}/consultations/{consultation.slug}",
        f"{API}/consultations/{consultation.slug}/items",
        f"{API}/consultations/{consultation.slug}/items/{item.pk}",
    ):
        first, again = _get(url), _get(url)
        assert first.status_code == again.status_code == 200, url
        assert (first[page_cache.HEADER], again[page_cache.HEADER]) == ("miss", "hit"), url
        assert again.content == first.content, url
        assert again["Content-Type"] == first["Content-Type"] == "application/json; charset=utf-8"
        assert not first.cookies and not again.cookies, url


def test_a_vote_shows_in_the_next_read(consultation, citizen):
    url = f"{API}/consultations/{consultation.slug}"
    before = json.loads(_get(url).content)["participation"]
    assert _get(url)[page_cache.HEADER] == "hit"
    voting.cast_vote(citizen, consultation.items.first(), Vote.Choice.FOR)
    after = _get(url)
    assert after[page_cache.HEADER] == "miss"
    assert json.loads(after.content)["participation"]["votes"] == before["votes"] + 1


def test_a_language_never_reaches_a_caller_who_asked_for_another(consultation):
    url = f"{API}/consultations/{consultation.slug}/items"
    french = json.loads(_get(url).content)
    english = _get(url, accept_language="en")
    assert english[page_cache.HEADER] == "miss"  # not the French copy
    titles = {i["title"] for i in json.loads(english.content)}
    assert titles == {item.title_en for item in consultation.items.all()}
    assert titles.isdisjoint({i["title"] for i in french})


def test_a_caller_with_a_token_gets_an_answer_of_their_own_and_a_wrong_one_is_refused(
    consultation, citizen
):
    url = f"{API}/consultations/{consultation.slug}/items"
    assert _get(url)[page_cache.HEADER] == "miss"
    assert _get(url)[page_cache.HEADER] == "hit"
    _token, secret = create_token(citizen, "tests")
    mine = _get(url, authorization=f"Bearer {secret}")
    assert mine.status_code == 200 and page_cache.HEADER not in mine
    wrong = _get(url, authorization="Bearer agora_not-a-token")
    assert wrong.status_code == 401 and page_cache.HEADER not in wrong


def test_a_refusal_or_an_unknown_consultation_is_never_stored():
    hidden = make_consultation(
        items=2, results_visibility=Consultation.ResultsVisibility.AFTER_CLOSE
    )
    unknown = f"{API}/consultations/no-such-consultation/items"
    results = f"{API}/consultations/{hidden.slug}/results"  # hidden until published
    for url in (unknown, results):
        first, again = _get(url), _get(url)
        assert first.status_code == again.status_code and first.status_code >= 400, url
        assert page_cache.HEADER not in first and page_cache.HEADER not in again, url
