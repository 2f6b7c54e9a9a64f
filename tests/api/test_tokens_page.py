"""The personal API tokens page: create (shown once), list, revoke."""

import re

import pytest
from django.urls import reverse

from accounts.models import ApiToken
from accounts.tokens import create_token
from tests.support.html import problems

pytestmark = pytest.mark.django_db
URL = reverse("accounts:api_tokens")


def created_secret(response) -> str:
    match = re.search(rb'value="(agora_[^"]+)"', response.content)
    assert match, "the new token is shown"
    return match.group(1).decode()


def test_page_needs_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


@pytest.mark.parametrize("language", ["fr", "en"])
def test_page_is_sound_with_and_without_tokens(client_for, citizen, language):
    browser = client_for(citizen)
    browser.cookies["django_language"] = language
    response = browser.get(URL)
    assert response.status_code == 200
    assert problems(response.content) == []
    create_token(citizen, "script")
    response = browser.post(URL, {"name": "autre"})
    assert response.status_code == 200
    assert problems(response.content) == []


def test_created_token_is_shown_once_and_works(client_for, citizen):
    browser = client_for(citizen)
    response = browser.post(URL, {"name": "Mon script"})
    secret = created_secret(response)
    assert response["Cache-Control"] == "no-store"
    token = ApiToken.objects.get(user=citizen)
    assert token.name == "Mon script"
    assert secret not in token.digest
    assert secret.encode() not in browser.get(URL).content
    assert token.prefix.encode() in browser.get(URL).content
    me = browser.get("/api/v1/consultations", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200


def test_last_use_is_recorded_by_the_api_and_shown(client_for, citizen):
    _token, secret = create_token(citizen, "script")
    browser = client_for(citizen)
    browser.cookies["django_language"] = "en"
    assert b"Never" in browser.get(URL).content
    browser.get("/api/v1/consultations", headers={"Authorization": f"Bearer {secret}"})
    assert ApiToken.objects.get(user=citizen).last_used_at is not None
    assert b"Never" not in browser.get(URL).content


def test_name_is_required(client_for, citizen):
    response = client_for(citizen).post(URL, {"name": ""})
    assert response.status_code == 200
    assert not ApiToken.objects.exists()
    assert problems(response.content) == []


def test_unverified_account_cannot_create_a_token(client_for, unverified):
    browser = client_for(unverified)
    assert b'name="name"' not in browser.get(URL).content
    browser.post(URL, {"name": "script"})
    assert not ApiToken.objects.exists()


def test_revoking_removes_the_token(client_for, citizen):
    token, secret = create_token(citizen, "script")
    response = client_for(citizen).post(URL, {"revoke": str(token.pk)})
    assert response.status_code == 302
    assert not ApiToken.objects.exists()
    from accounts.tokens import authenticate

    assert authenticate(secret) is None


def test_someone_elses_token_cannot_be_revoked(client_for, citizen, make_user):
    theirs, _secret = create_token(make_user(), "theirs")
    client_for(citizen).post(URL, {"revoke": str(theirs.pk)})
    assert ApiToken.objects.filter(pk=theirs.pk).exists()


@pytest.mark.parametrize("value", ["", "abc", "-1", "9" * 40, "1; DROP"])
def test_garbage_revoke_value_is_harmless(client_for, citizen, value):
    token, _secret = create_token(citizen, "script")
    response = client_for(citizen).post(URL, {"revoke": value})
    assert response.status_code == 302
    assert ApiToken.objects.filter(pk=token.pk).exists()


def test_other_peoples_tokens_are_not_listed(client_for, citizen, make_user):
    create_token(make_user(), "secret-project")
    assert b"secret-project" not in client_for(citizen).get(URL).content


def test_forms_carry_csrf_protection(citizen):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(citizen, backend="allauth.account.auth_backends.AuthenticationBackend")
    assert browser.post(URL, {"name": "script"}).status_code == 403
    assert not ApiToken.objects.exists()


def test_token_count_is_limited(client_for, citizen):
    from accounts.api_tokens_views import MAX_TOKENS

    for n in range(MAX_TOKENS):
        create_token(citizen, f"t{n}")
    response = client_for(citizen).post(URL, {"name": "one more"})
    assert response.status_code == 200
    assert ApiToken.objects.filter(user=citizen).count() == MAX_TOKENS
