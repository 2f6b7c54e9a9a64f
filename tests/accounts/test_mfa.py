"""Staff, organisers and moderators need MFA before reaching their pages."""

import pytest
from django.urls import reverse

from tests.support.accounts import PASSWORD, current_totp_code, enable_totp, remove_mfa

pytestmark = pytest.mark.django_db

MFA_SETUP = reverse("mfa_activate_totp")

PRIVILEGED_PAGES = [
    ("organiser", "organiser:dashboard"),
    ("moderator", "moderation:queue"),
    ("staff", "admin:index"),
]


@pytest.mark.parametrize(("persona", "page"), PRIVILEGED_PAGES)
def test_role_holder_without_mfa_is_sent_to_set_it_up(request, client_for, persona, page):
    user = request.getfixturevalue(persona)
    remove_mfa(user)
    client = client_for(user)
    response = client.get(reverse(page))
    assert response.status_code == 302
    assert response["Location"].startswith(MFA_SETUP)


@pytest.mark.parametrize(("persona", "page"), PRIVILEGED_PAGES)
def test_role_holder_with_mfa_reaches_their_page(request, client_for, persona, page):
    user = request.getfixturevalue(persona)
    enable_totp(user)
    assert client_for(user).get(reverse(page)).status_code == 200


@pytest.mark.parametrize("page", ["organiser:dashboard", "moderation:queue"])
def test_citizen_is_refused_privileged_pages(client_for, citizen, page):
    enable_totp(citizen)  # MFA alone grants no role
    assert client_for(citizen).get(reverse(page)).status_code == 403


def test_citizen_does_not_need_mfa_for_ordinary_pages(client_for, citizen):
    assert client_for(citizen).get(reverse("accounts:profile")).status_code == 200


def test_citizen_may_set_up_mfa(client, citizen):
    client.post(reverse("account_login"), {"login": citizen.email, "password": PASSWORD})
    # Seconds after logging in, the password is not asked again (issue 15, point 7).
    response = client.get(MFA_SETUP)
    assert response.status_code == 200
    assert b'name="code"' in response.content


def test_setting_up_mfa_long_after_logging_in_asks_for_the_password_again(client, citizen):
    from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY

    client.post(reverse("account_login"), {"login": citizen.email, "password": PASSWORD})
    session = client.session
    records = session[AUTHENTICATION_METHODS_SESSION_KEY]
    for record in records:
        record["at"] -= 3600  # logged in an hour ago
    session[AUTHENTICATION_METHODS_SESSION_KEY] = records
    session.save()
    # allauth asks for the password again before a security change.
    response = client.get(MFA_SETUP)
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    response = client.get(MFA_SETUP)
    assert response.status_code == 200
    assert b'name="code"' in response.content


def test_login_with_mfa_asks_for_the_code(client, organiser):
    secret = enable_totp(organiser)
    response = client.post(
        reverse("account_login"), {"login": organiser.email, "password": PASSWORD}
    )
    assert response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session
    response = client.post(reverse("mfa_authenticate"), {"code": current_totp_code(secret)})
    assert response.status_code == 302
    assert client.get(reverse("organiser:dashboard")).status_code == 200


def test_a_per_consultation_moderator_needs_mfa_too(client_for, citizen):
    from consultation.models import Membership
    from tests.factories import add_member, make_consultation

    add_member(make_consultation(), citizen, Membership.Role.MODERATOR)
    response = client_for(citizen).get(reverse("moderation:queue"))
    assert response.status_code == 302
    assert response["Location"].startswith(MFA_SETUP)
    enable_totp(citizen)
    assert client_for(citizen).get(reverse("moderation:queue")).status_code == 200
