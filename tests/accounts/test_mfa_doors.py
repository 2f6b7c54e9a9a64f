"""Every door to a role's powers passes the second factor (docs/security.md, "Doors").

The doors: the admin's login, allauth's login (password, then the MFA stage), the
identity provider (tests/accounts/test_oidc.py), an API token, a websocket. A session
that logged in with a password alone — by whatever door — holds no role powers anywhere.
"""

import pytest
from django.urls import reverse

from accounts import roles, tokens
from consultation import permissions
from consultation.models import Membership
from tests.factories import add_member, make_consultation
from tests.support.accounts import PASSWORD, current_totp_code, enable_totp, login

pytestmark = pytest.mark.django_db

ADMIN = reverse("admin:index")
ADMIN_LOGIN = reverse("admin:login")


def session_user_id(client):
    return client.session.get("_auth_user_id")


# --- The admin's door ----------------------------------------------------------------


def test_the_admin_login_page_sends_to_the_one_login(client):
    response = client.get(f"{ADMIN_LOGIN}?next=/admin/accounts/user/")
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next=%2Fadmin%2Faccounts%2Fuser%2F"


def test_the_admin_login_form_never_logs_anyone_in_with_a_password(client, staff):
    """Before: POSTing a staff account's password here logged it in, MFA skipped."""
    for _attempt in range(3):
        response = client.post(
            ADMIN_LOGIN, {"username": staff.email, "password": PASSWORD, "next": ADMIN}
        )
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    assert session_user_id(client) is None
    assert client.get(ADMIN).status_code == 302


def test_the_admin_login_leads_outside_the_site_nowhere(client, staff):
    login(client, staff)
    response = client.get(f"{ADMIN_LOGIN}?next=https://evil.example/")
    assert response["Location"] == ADMIN


def test_staff_reach_the_admin_through_allauth_with_their_code(client, staff):
    secret = enable_totp(staff)
    start = client.get(ADMIN_LOGIN)["Location"]
    response = client.post(start, {"login": staff.email, "password": PASSWORD})
    assert response["Location"] == reverse("mfa_authenticate")
    assert session_user_id(client) is None
    response = client.post(reverse("mfa_authenticate"), {"code": current_totp_code(secret)})
    assert response["Location"] == ADMIN
    assert client.get(ADMIN).status_code == 200


def test_failed_passwords_on_the_way_to_the_admin_are_throttled_by_allauth(client, staff):
    """The admin has no password form of its own: every guess goes to allauth's login,
    which locks the account's key after 5 failures (ACCOUNT_RATE_LIMITS login_failed)."""
    login_url = client.get(ADMIN_LOGIN)["Location"]
    for _attempt in range(5):
        response = client.post(login_url, {"login": staff.email, "password": "wrong guess!"})
        assert response.status_code == 200
    response = client.post(login_url, {"login": staff.email, "password": PASSWORD})
    assert response.status_code in (200, 429)  # refused: the right password is not tried
    assert "mfa_authenticate" not in response.get("Location", "")
    assert session_user_id(client) is None


def test_a_logged_in_citizen_is_refused_the_admin(client_for, citizen):
    client = client_for(citizen)
    assert client.get(ADMIN_LOGIN).status_code == 403


# --- A password-only session holds no powers, whatever the door ----------------------


@pytest.fixture
def draft(organiser, moderator):
    consultation = make_consultation(status="draft")
    add_member(consultation, organiser, Membership.Role.ORGANISER)
    add_member(consultation, moderator, Membership.Role.MODERATOR)
    return consultation


def test_a_password_only_staff_session_is_sent_to_pass_the_second_factor(client, staff):
    login(client, staff, second_factor=False)
    response = client.get(ADMIN)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('mfa_reauthenticate')}?next=%2Fadmin%2F"
    # The admin's login page, asked directly, sends there too: never to a password form.
    response = client.get(ADMIN_LOGIN)
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))


@pytest.mark.parametrize(
    ("persona", "page"),
    [
        ("organiser", "organiser:dashboard"),
        ("moderator", "moderation:queue"),
        ("staff", "organiser:dashboard"),
    ],
)
def test_a_password_only_session_reaches_no_role_page(request, client, persona, page):
    user = request.getfixturevalue(persona)
    login(client, user, second_factor=False)
    response = client.get(reverse(page))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))


def test_a_password_only_organiser_session_cannot_read_their_draft(client, organiser, draft):
    login(client, organiser, second_factor=False)
    assert client.get(draft.get_absolute_url()).status_code == 404
    login(client, organiser)
    assert client.get(draft.get_absolute_url()).status_code == 200


def test_passing_the_code_later_gives_the_session_its_powers(client, organiser, draft):
    secret = enable_totp(organiser)
    login(client, organiser, second_factor=False)
    dashboard = reverse("organiser:dashboard")
    where = client.get(dashboard)["Location"]
    response = client.post(where, {"code": current_totp_code(secret)})
    assert response["Location"] == dashboard
    assert client.get(dashboard).status_code == 200
    assert client.get(draft.get_absolute_url()).status_code == 200


def test_a_code_of_a_removed_authenticator_no_longer_counts(client, organiser, draft):
    login(client, organiser)
    assert client.get(draft.get_absolute_url()).status_code == 200
    enable_totp(organiser)  # a new phone: the session passed the old authenticator
    assert client.get(draft.get_absolute_url()).status_code == 404


@pytest.mark.django_db(transaction=True)  # allauth signals the activation after commit
def test_activating_totp_counts_as_passing_it(client, make_user):
    """A new organiser sets the app up after logging in with a password: the setup takes
    their password and a code from the app, so they are not asked again at once."""
    user = make_user(is_organiser=True)
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    page = client.get(reverse("mfa_activate_totp"))
    secret = page.context["form"].secret
    response = client.post(reverse("mfa_activate_totp"), {"code": current_totp_code(secret)})
    assert response.status_code == 302
    assert client.get(reverse("organiser:dashboard")).status_code == 200


# --- The user objects the doors hand over ---------------------------------------------


def test_a_user_no_door_vouched_for_has_no_powers(organiser, staff):
    """A user loaded from the database (a task, a shell) is a citizen: fail closed."""
    from django.contrib.auth import get_user_model

    consultation = make_consultation(status="draft")
    add_member(consultation, organiser, Membership.Role.ORGANISER)
    assert permissions.can_manage(organiser, consultation)  # vouched by the fixture
    loaded = get_user_model().objects.get(pk=organiser.pk)
    assert not permissions.can_manage(loaded, consultation)
    assert not permissions.can_view(loaded, consultation)
    assert not permissions.is_staff(get_user_model().objects.get(pk=staff.pk))


def test_an_api_token_never_carries_its_owners_roles(organiser, staff):
    consultation = make_consultation(status="draft")
    add_member(consultation, organiser, Membership.Role.ORGANISER)
    for person in (organiser, staff):
        _token, secret = tokens.create_token(person, "script")
        user = tokens.authenticate(secret)
        assert user.pk == person.pk
        assert roles.has_mfa(user)
        assert not roles.passed_second_factor(user)
        assert not permissions.can_manage(user, consultation)
        assert not permissions.can_view(user, consultation)
        assert not permissions.is_staff(user)


def test_an_api_token_reads_no_draft(client, organiser, draft):
    _token, secret = tokens.create_token(organiser, "script")
    url = f"/api/v1/consultations/{draft.slug}"
    response = client.get(url, headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 404


def test_the_admin_refuses_a_password_only_superuser_on_every_page(client, staff):
    login(client, staff, second_factor=False)
    for url in (ADMIN, "/admin/accounts/user/", "/admin/mfa/authenticator/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("mfa_reauthenticate")), url
