"""TOTP and recovery-code secrets are encrypted at rest, and never shown (decision 0022)."""

import io
import json
import logging

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import generate_totp_secret
from allauth.mfa.utils import decrypt
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import override_settings
from django.urls import reverse

from accounts import mfa
from tests.config.test_settings import PRODUCTION_ENV, manage
from tests.support.accounts import PASSWORD, current_totp_code, enable_totp

pytestmark = pytest.mark.django_db

OLD_SECRET_KEY = "the-old-secret-key-of-the-site-0123456789-abcdefghijklmnop"
NEW_SECRET_KEY = "the-new-secret-key-of-the-site-9876543210-qrstuvwxyzabcdef"


def totp_row(user) -> Authenticator:
    return Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)


def recovery_row(user) -> Authenticator:
    return Authenticator.objects.get(user=user, type=Authenticator.Type.RECOVERY_CODES)


def stored(user) -> str:
    """Everything the database holds about the user's factors, as one string."""
    return json.dumps([a.data for a in Authenticator.objects.filter(user=user)])


def sealed_elsewhere(text: str) -> str:
    """``text`` sealed like ours, but under a key this site does not have."""
    return mfa.PREFIX + Fernet(Fernet.generate_key()).encrypt(text.encode()).decode()


def log_in_with_password(client, user):
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response["Location"] == reverse("mfa_authenticate")


def test_activating_totp_through_allauth_stores_no_clear_secret(client, citizen):
    client.post(reverse("account_login"), {"login": citizen.email, "password": PASSWORD})
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    client.get(reverse("mfa_activate_totp"))
    secret = client.session["mfa.totp.secret"]

    response = client.post(reverse("mfa_activate_totp"), {"code": current_totp_code(secret)})

    assert response.status_code == 302
    totp, recovery = totp_row(citizen), recovery_row(citizen)
    assert totp.data["secret"].startswith(mfa.PREFIX)
    assert recovery.data["seed"].startswith(mfa.PREFIX)
    seed = decrypt(recovery.data["seed"])
    codes = RecoveryCodes(recovery).generate_codes()
    for clear in [secret, seed, *codes]:
        assert clear not in stored(citizen)
    assert decrypt(totp.data["secret"]) == secret


def test_login_with_totp_works_end_to_end(client, organiser):
    secret = enable_totp(organiser)
    assert secret not in stored(organiser)
    log_in_with_password(client, organiser)

    response = client.post(reverse("mfa_authenticate"), {"code": current_totp_code(secret)})

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(organiser.pk)


def test_a_recovery_code_logs_in_once(client, organiser):
    enable_totp(organiser)
    recovery = RecoveryCodes.activate(organiser)
    code = recovery.get_unused_codes()[0]
    assert recovery.instance.data["seed"].startswith(mfa.PREFIX)

    log_in_with_password(client, organiser)
    response = client.post(reverse("mfa_authenticate"), {"code": code})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(organiser.pk)

    client.logout()
    log_in_with_password(client, organiser)
    response = client.post(reverse("mfa_authenticate"), {"code": code})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_a_secret_no_key_opens_refuses_the_login_and_alerts_the_operators(
    client, organiser, caplog
):
    secret = enable_totp(organiser)
    row = totp_row(organiser)
    row.data["secret"] = sealed_elsewhere(secret)
    row.save()
    log_in_with_password(client, organiser)

    with caplog.at_level(logging.ERROR, logger="accounts.mfa"):
        response = client.post(reverse("mfa_authenticate"), {"code": current_totp_code(secret)})

    assert response.status_code == 200
    assert str(mfa.UNAVAILABLE) in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert "unreadable secret" in caplog.text


def test_a_legacy_clear_secret_still_works_until_it_is_sealed(organiser):
    secret = generate_totp_secret()
    Authenticator.objects.filter(user=organiser).delete()
    row = Authenticator.objects.create(user=organiser, type="totp", data={"secret": secret})
    assert row.wrap().validate_code(current_totp_code(secret))


@pytest.mark.django_db(transaction=True)
def test_the_migration_seals_legacy_clear_rows_and_undoing_it_opens_them(make_user):
    user = make_user()
    secret, seed = generate_totp_secret(), RecoveryCodes.generate_seed()
    executor = MigrationExecutor(connection)
    executor.migrate([("accounts", "0002_apitoken")])
    try:
        Authenticator.objects.create(user=user, type="totp", data={"secret": secret})
        Authenticator.objects.create(
            user=user,
            type="recovery_codes",
            data={"seed": seed, "used_mask": 0, "migrated_codes": ["12345678"]},
        )

        executor.loader.build_graph()
        executor.migrate([("accounts", "0003_seal_mfa_secrets")])

        totp, recovery = totp_row(user), recovery_row(user)
        assert totp.data["secret"].startswith(mfa.PREFIX)
        assert recovery.data["seed"].startswith(mfa.PREFIX)
        assert recovery.data["migrated_codes"][0].startswith(mfa.PREFIX)
        for clear in [secret, seed, "12345678"]:
            assert clear not in stored(user)
        assert totp.wrap().validate_code(current_totp_code(secret))
        assert RecoveryCodes(recovery).get_unused_codes() == ["12345678"]

        executor.loader.build_graph()
        executor.migrate([("accounts", "0002_apitoken")])
        assert totp_row(user).data["secret"] == secret
        assert recovery_row(user).data["seed"] == seed
    finally:
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())


def test_rotating_secret_key_keeps_secrets_readable_then_rotate_reseals_them(organiser):
    with override_settings(SECRET_KEY=OLD_SECRET_KEY):
        secret = enable_totp(organiser)
    before = totp_row(organiser).data["secret"]

    with override_settings(SECRET_KEY=NEW_SECRET_KEY, SECRET_KEY_FALLBACKS=[OLD_SECRET_KEY]):
        assert decrypt(before) == secret
        call_command("rotate_mfa_keys", stdout=io.StringIO())
    after = totp_row(organiser).data["secret"]

    assert after != before and after.startswith(mfa.PREFIX)
    with override_settings(SECRET_KEY=NEW_SECRET_KEY, SECRET_KEY_FALLBACKS=[]):
        assert decrypt(after) == secret
    with override_settings(SECRET_KEY=OLD_SECRET_KEY), pytest.raises(mfa.UnreadableSecret):
        decrypt(after)


def test_explicit_keys_take_over_from_the_derived_key_and_rotate(organiser):
    first, second = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    secret = enable_totp(organiser)  # under the key derived from SECRET_KEY
    seed = decrypt(RecoveryCodes.activate(organiser).instance.data["seed"])

    with override_settings(MFA_ENCRYPTION_KEYS=[first]):
        assert decrypt(totp_row(organiser).data["secret"]) == secret  # derived keys still open
        call_command("rotate_mfa_keys", stdout=io.StringIO())
    with override_settings(MFA_ENCRYPTION_KEYS=[second, first]):
        assert decrypt(totp_row(organiser).data["secret"]) == secret
        call_command("rotate_mfa_keys", stdout=io.StringIO())

    # Now under `second` alone: neither SECRET_KEY nor `first` opens them.
    with override_settings(MFA_ENCRYPTION_KEYS=[second], SECRET_KEY=NEW_SECRET_KEY):
        assert decrypt(totp_row(organiser).data["secret"]) == secret
        assert decrypt(recovery_row(organiser).data["seed"]) == seed
    with override_settings(MFA_ENCRYPTION_KEYS=[first]), pytest.raises(mfa.UnreadableSecret):
        decrypt(totp_row(organiser).data["secret"])


def test_rotate_names_the_authenticators_no_key_opens_and_reseals_the_others(organiser, moderator):
    row = totp_row(moderator)
    row.data["secret"] = sealed_elsewhere(generate_totp_secret())
    row.save()
    before = totp_row(organiser).data["secret"]

    with pytest.raises(CommandError, match=rf"ids {row.pk}\)"):
        call_command("rotate_mfa_keys", stdout=io.StringIO())

    assert totp_row(organiser).data["secret"] != before
    assert totp_row(moderator).data == row.data


def test_a_malformed_encryption_key_refuses_to_start_without_echoing_it():
    result = manage("check", env={**PRODUCTION_ENV, "MFA_ENCRYPTION_KEYS": "hunter2-not-a-key"})
    assert result.returncode != 0
    assert "MFA_ENCRYPTION_KEYS: key number 1 is not a Fernet key" in result.stderr
    assert "hunter2" not in result.stderr


# --- The admin -------------------------------------------------------------


@pytest.fixture
def citizen_factors(citizen):
    secret = enable_totp(citizen)
    recovery = RecoveryCodes.activate(citizen)
    return [secret, decrypt(recovery.instance.data["seed"]), *recovery.generate_codes()]


def test_admin_lists_authenticators_without_their_secrets(client_for, staff, citizen_factors):
    response = client_for(staff).get(reverse("admin:mfa_authenticator_changelist"))

    assert response.status_code == 200
    assert response.context["cl"].result_count == 3  # the citizen's two, the staff TOTP
    page = response.content.decode()
    assert "Camille" in page
    assert mfa.PREFIX not in page
    for clear in citizen_factors:
        assert clear not in page


@pytest.mark.parametrize("kind", ["totp", "recovery_codes"])
def test_admin_authenticator_page_shows_no_secret(
    client_for, staff, citizen, citizen_factors, kind
):
    row = Authenticator.objects.get(user=citizen, type=kind)

    response = client_for(staff).get(reverse("admin:mfa_authenticator_change", args=[row.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Camille" in page
    assert 'name="data"' not in page and mfa.PREFIX not in page
    for clear in citizen_factors:
        assert clear not in page


def test_staff_may_delete_a_lost_authenticator(client_for, staff, citizen, citizen_factors):
    row = totp_row(citizen)
    url = reverse("admin:mfa_authenticator_delete", args=[row.pk])

    response = client_for(staff).post(url, {"post": "yes"})

    assert response.status_code == 302
    assert not Authenticator.objects.filter(pk=row.pk).exists()
