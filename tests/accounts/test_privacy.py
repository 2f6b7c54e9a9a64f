"""My data: a JSON download of everything held; deletion that removes it."""

import json

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.urls import reverse

from accounts import lifecycle
from tests.support.accounts import PASSWORD, current_totp_code, enable_totp

pytestmark = pytest.mark.django_db
User = get_user_model()


def test_data_export_contains_the_account_fields(client_for, citizen):
    enable_totp(citizen)
    response = client_for(citizen).get(reverse("accounts:my_data_download"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["account"]["email"] == "camille@example.org"
    assert data["account"]["display_name"] == "Camille"
    assert data["account"]["preferred_language"] == "fr"
    assert data["email_addresses"] == [
        {"email": "camille@example.org", "verified": True, "primary": True}
    ]
    assert [f["type"] for f in data["two_factor_authentication"]] == ["totp"]
    # Secrets never leave the database.
    assert "secret" not in response.content.decode().lower()
    assert PASSWORD not in response.content.decode()


def test_my_data_page_shows_the_data(client_for, citizen):
    response = client_for(citizen).get(reverse("accounts:my_data"))
    assert response.status_code == 200
    assert b"camille@example.org" in response.content


def test_data_pages_need_login(client):
    for name in ["accounts:my_data", "accounts:my_data_download", "accounts:delete"]:
        assert client.get(reverse(name)).status_code == 302


def test_deletion_with_the_password_removes_personal_data(client_for, citizen):
    client = client_for(citizen)
    response = client.post(reverse("accounts:delete"), {"password": PASSWORD})
    assert response.status_code == 302
    assert not User.objects.filter(pk=citizen.pk).exists()
    assert not EmailAddress.objects.filter(email="camille@example.org").exists()
    assert "_auth_user_id" not in client.session


def test_deletion_with_a_wrong_password_keeps_the_account(client_for, citizen):
    response = client_for(citizen).post(reverse("accounts:delete"), {"password": "nope"})
    assert response.status_code == 200
    assert User.objects.filter(pk=citizen.pk).exists()
    assert (
        "Incorrect password or code" in response.content.decode() or response.context["form"].errors
    )


def test_deletion_can_be_confirmed_with_an_mfa_code(client_for, organiser):
    secret = enable_totp(organiser)
    response = client_for(organiser).post(
        reverse("accounts:delete"), {"code": current_totp_code(secret)}
    )
    assert response.status_code == 302
    assert not User.objects.filter(pk=organiser.pk).exists()


def test_purge_forgets_stale_unverified_sign_ups(make_user):
    from datetime import timedelta

    from django.utils import timezone

    stale = make_user("old@example.org", verified=False)
    stale.date_joined = timezone.now() - timedelta(days=30)
    stale.save()
    fresh = make_user("new@example.org", verified=False)
    verified_old = make_user("kept@example.org")
    verified_old.date_joined = timezone.now() - timedelta(days=30)
    verified_old.save()

    assert lifecycle.purge_unverified_accounts() == 1
    assert set(User.objects.values_list("email", flat=True)) == {fresh.email, verified_old.email}


def test_the_privacy_policy_says_what_participation_stores_and_what_deletion_does(client):
    client.cookies["django_language"] = "en"
    content = client.get(reverse("privacy")).content.decode()
    for stored in (
        "Your votes (for, against, abstain)",
        "your grades (majority judgment)",
        "your ranking",
        "earlier versions",
        "marked as “useful”",
        "personal API tokens",
        "SHA-256 fingerprint",
        "The roles you hold",
        "the results you publish and the official responses you write",
        "The comments you report",
        "your appeals against moderation decisions",
        "your notices",
    ):
        assert stored in content, stored
    assert "What deleting your account does" in content
    assert "as if you had never cast them" in content  # not yet closed: removed
    assert "kept as anonymous ballots" in content  # closed: anonymised
    assert "“deleted account” placeholder" in content
    assert "The public moderation log keeps every decision, with no link to you" in content
    assert "Later, your contributions" not in content
