"""Writes are rate-limited per account (or per IP address), with a clear 429."""

import pytest

from tests.support.html import problems

pytestmark = pytest.mark.django_db


def test_too_many_writes_get_a_429_page(client_for, citizen, settings):
    settings.WRITE_RATE_LIMIT = "3/m"
    client = client_for(citizen)
    statuses = [client.post("/consultations/nope/").status_code for _ in range(4)]
    assert statuses[:3] != [429] * 3 and statuses[3] == 429
    response = client.post("/consultations/nope/")
    assert response.status_code == 429
    assert problems(response.content) == []


def test_too_many_api_writes_get_a_json_reason(client, settings):
    settings.WRITE_RATE_LIMIT = "2/m"
    for _ in range(2):
        client.post("/api/v1/nothing", content_type="application/json")
    response = client.post("/api/v1/nothing", content_type="application/json")
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"


def test_reads_are_not_limited(client, settings):
    settings.WRITE_RATE_LIMIT = "1/m"
    assert all(client.get("/").status_code == 200 for _ in range(5))


def test_one_account_does_not_use_up_another_accounts_allowance(client_for, make_user, settings):
    settings.WRITE_RATE_LIMIT = "2/m"
    first, second = make_user(), make_user()
    client = client_for(first)
    for _ in range(3):
        client.post("/consultations/nope/")
    client.logout()
    assert client_for(second).post("/consultations/nope/").status_code != 429
