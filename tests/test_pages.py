"""Every page: valid HTML, landmarks, labelled controls, no inline script, no third party."""

import pytest
from django.urls import reverse

from tests.support.accounts import PASSWORD
from tests.support.html import problems

pytestmark = pytest.mark.django_db

PUBLIC_PAGES = [
    "home",
    "legal_notice",
    "privacy",
    "accessibility",
    "account_login",
    "account_signup",
    "account_reset_password",
    "account_email_verification_sent",
    "account_inactive",
    "account_reset_password_done",
    "account_reset_password_from_key_done",
    "socialaccount_login_cancelled",
]
SIGNED_IN_PAGES = [
    "accounts:profile",
    "accounts:my_data",
    "accounts:delete",
    "consultation:my_participation",
    "account_email",
    "account_change_password",
    "mfa_index",
    "account_reauthenticate",
    "accounts:api_tokens",
]


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_public_page_is_sound(client, name, language):
    client.cookies["django_language"] = language
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert problems(response.content) == []
    assert f'<html lang="{language}"'.encode() in response.content


@pytest.mark.parametrize("name", SIGNED_IN_PAGES)
def test_signed_in_page_is_sound(client, citizen, name):
    client.post(reverse("account_login"), {"login": citizen.email, "password": PASSWORD})
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert problems(response.content) == []


# allauth's pages about the account's own security, which lead elsewhere once signed in.
ACCOUNT_SECURITY_PAGES = [
    "account_set_password",
    "accounts:my_data_download",
    "mfa_reauthenticate",
    "mfa_activate_totp",
    "mfa_deactivate_totp",
    "mfa_view_recovery_codes",
    "mfa_generate_recovery_codes",
    "mfa_download_recovery_codes",
    "socialaccount_connections",
]


@pytest.mark.parametrize("name", SIGNED_IN_PAGES + ACCOUNT_SECURITY_PAGES)
def test_signed_in_pages_send_visitors_to_log_in(client, name):
    for method in ("get", "post"):
        response = getattr(client, method)(reverse(name))
        assert response.status_code == 302, (method, name)
        assert response["Location"].split("?")[0] == reverse("account_login"), (method, name)


def test_mfa_setup_page_is_sound(client, citizen):
    client.post(reverse("account_login"), {"login": citizen.email, "password": PASSWORD})
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    response = client.get(reverse("mfa_activate_totp"))
    assert response.status_code == 200
    assert problems(response.content) == []


def test_unknown_page_gets_the_custom_404(client):
    response = client.get("/nulle-part/")
    assert response.status_code == 404
    assert problems(response.content) == []
    assert b'href="/"' in response.content


def test_forbidden_page_gets_the_custom_403(client_for, citizen):
    response = client_for(citizen).get(reverse("organiser:dashboard"))
    assert response.status_code == 403
    assert problems(response.content) == []


def test_server_error_page_is_standalone_and_valid():
    from django.template.loader import render_to_string

    html = render_to_string("500.html")  # rendered without a request or context processors
    assert problems(html.encode()) == []


def test_form_errors_are_shown_next_to_their_field(client):
    response = client.post(reverse("account_signup"), {"email": "not-an-address"})
    assert response.status_code == 200
    assert problems(response.content) == []
    content = response.content.decode()
    assert 'aria-invalid="true"' in content
    assert "aria-describedby" in content


def test_email_change_pending_page_is_sound(client, citizen, mailbox):
    client.post(reverse("account_login"), {"login": citizen.email, "password": PASSWORD})
    response = client.post(
        reverse("account_email"), {"action_add": "", "email": "camille.new@example.org"}
    )
    assert response.status_code == 302
    response = client.get(reverse("account_email"))
    content = response.content.decode()
    assert "camille.new@example.org" in content
    assert 'name="action_remove"' in content
    assert problems(response.content) == []
