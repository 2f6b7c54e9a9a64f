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


def test_account_pages_moderation_and_language_switch_are_limited(client_for, citizen, settings):
    settings.WRITE_RATE_LIMIT = "2/m"
    client = client_for(citizen)
    for path in ("/compte/profil/", "/compte/jetons-api/", "/moderation/", "/i18n/setlang/"):
        cache_clear()
        statuses = [client.post(path, {"language": "fr"}).status_code for _ in range(3)]
        assert statuses[:2] != [429, 429] and statuses[2] == 429, (path, statuses)


def test_guessing_the_deletion_password_is_stopped_after_five_tries(client_for, citizen):
    from tests.conftest import PASSWORD

    client = client_for(citizen)
    client.cookies["django_language"] = "en"
    for _ in range(5):
        assert client.post("/compte/supprimer/", {"password": "nope"}).status_code == 200
    response = client.post("/compte/supprimer/", {"password": PASSWORD})
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    citizen.refresh_from_db()  # still there: once limited, even the right password waits
    assert problems(response.content) == []


def test_api_token_calls_are_limited_per_account_not_per_address(make_user, settings):
    from django.test import Client

    from accounts import tokens

    settings.WRITE_RATE_LIMIT = "2/m"
    first, second = make_user(), make_user()
    _token, first_secret = tokens.create_token(first, "script")
    _token, other_secret = tokens.create_token(first, "other script")
    _token, second_secret = tokens.create_token(second, "script")

    def post(secret):
        return Client(headers={"Authorization": f"Bearer {secret}"}).post(
            "/api/v1/nothing", content_type="application/json"
        )

    assert [post(first_secret).status_code for _ in range(2)] != [429, 429]
    # Another token of the same account shares its allowance...
    assert post(other_secret).status_code == 429
    # ...another account behind the same address does not.
    assert post(second_secret).status_code != 429


def test_a_wrong_token_is_limited_by_address(client, settings):
    from django.test import Client

    settings.WRITE_RATE_LIMIT = "2/m"
    for _ in range(2):
        Client(headers={"Authorization": "Bearer agora_wrong"}).post("/api/v1/nothing")
    assert client.post("/api/v1/nothing").status_code == 429


def cache_clear():
    from django.core.cache import cache

    cache.clear()
