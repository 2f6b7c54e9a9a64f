"""A password change or a suspension ends what the old credentials opened: API tokens
and live connections, whichever path made the change (allauth, the admin, a shell)."""

import pytest
from django.urls import reverse

from accounts import tokens
from tests.factories import make_consultation
from tests.support.accounts import PASSWORD
from tests.support.sockets import Socket, in_thread, session_cookie

NEW_PASSWORD = "another long passphrase 42"
ME = "/api/v1/consultations"


def api_status(client, secret):
    return client.get(ME, headers={"Authorization": f"Bearer {secret}"}).status_code


@pytest.mark.django_db
def test_changing_the_password_ends_every_older_token(client, client_for, citizen):
    _token, secret = tokens.create_token(citizen, "script")
    assert api_status(client, secret) == 200
    browser = client_for(citizen)
    response = browser.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert api_status(client, secret) == 401
    # A token created with the new password works, and the page says which one ended.
    _token, fresh = tokens.create_token(citizen, "new script")
    assert api_status(client, fresh) == 200
    page = browser.get(reverse("accounts:api_tokens")).content.decode()
    assert page.count("No longer valid") + page.count("N’est plus valable") == 1


@pytest.mark.django_db
def test_a_password_reset_ends_tokens_too(client, citizen):
    _token, secret = tokens.create_token(citizen, "script")
    citizen.set_password(NEW_PASSWORD)  # the shell, a reset link, the admin: same path
    citizen.save()
    assert api_status(client, secret) == 401


@pytest.mark.django_db
def test_a_rehash_at_login_is_no_change_of_password(client, citizen, settings):
    _token, secret = tokens.create_token(citizen, "script")
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",  # a new preferred hasher
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    citizen.refresh_from_db()
    assert citizen.check_password(PASSWORD)  # upgrades the stored hash
    citizen.refresh_from_db()
    assert citizen.password.startswith("pbkdf2_sha256$")
    assert citizen.credentials_changed_at is None
    assert api_status(client, secret) == 200


@pytest.mark.django_db
def test_suspending_in_the_admin_form_ends_tokens(client, client_for, staff, citizen):
    _token, secret = tokens.create_token(citizen, "script")
    admin = client_for(staff)
    url = reverse("admin:accounts_user_change", args=[citizen.pk])
    # The change form, posted with "active" unticked (a checkbox left out of the POST).
    data = {
        "email": citizen.email,
        "display_name": citizen.display_name,
        "preferred_language": citizen.preferred_language,
    }
    response = admin.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    citizen.refresh_from_db()
    assert not citizen.is_active
    assert api_status(client, secret) == 401


# --- Live connections ---------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_password_change_closes_the_accounts_sockets_so_they_reconnect(client, citizen):
    consultation = await in_thread(make_consultation)()
    cookie = await in_thread(session_cookie)(client, citizen)
    socket = Socket(f"/ws/consultations/{consultation.slug}/", cookies=cookie)
    assert await socket.open()
    await socket.frame()

    def change_password():
        citizen.set_password(NEW_PASSWORD)
        citizen.save()

    await in_thread(change_password)()
    # 4401: signed out; the page reconnects, and the old session is anonymous now.
    assert await socket.close_code() == 4401


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_deactivating_an_account_by_any_path_closes_its_sockets(client, citizen):
    from django.contrib.auth import get_user_model

    consultation = await in_thread(make_consultation)()
    cookie = await in_thread(session_cookie)(client, citizen)
    socket = Socket(f"/ws/consultations/{consultation.slug}/", cookies=cookie)
    assert await socket.open()
    await socket.frame()

    def deactivate():  # as the admin's change form does: a plain save of is_active
        user = get_user_model().objects.get(pk=citizen.pk)
        user.is_active = False
        user.save()

    await in_thread(deactivate)()
    assert await socket.close_code() == 4408
