"""Accounts in tests: the shared password, second factors, and logging a persona in.

Plain functions, imported where they are used (``from tests.support.accounts import
login``); the personas themselves are fixtures in tests/conftest.py.
"""

import time

PASSWORD = "correct horse battery staple"
ALLAUTH_BACKEND = "allauth.account.auth_backends.AuthenticationBackend"


def enable_totp(user) -> str:
    """Give ``user`` a (new) TOTP authenticator, replacing any; return its secret.

    The user object is then marked as a door would mark it after the login's MFA step
    (accounts.roles), so domain calls made with it in tests act with its role's powers.
    Requests get their own user object: log in with ``login`` / ``client_for``."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from accounts import roles

    remove_mfa(user)
    secret = generate_totp_secret()
    authenticator = TOTP.activate(user, secret).instance
    roles.vouch_second_factor(user, [authenticator.pk])
    return secret


def remove_mfa(user) -> None:
    from allauth.mfa.models import Authenticator

    from accounts import roles

    Authenticator.objects.filter(user=user).delete()
    roles.forget_mfa(user)


def current_totp_code(secret: str) -> str:
    from allauth.mfa import app_settings
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    counter = int(time.time()) // app_settings.TOTP_PERIOD
    return format_hotp_value(hotp_value(secret, counter))


def login(client, user, *, second_factor=True, backend=ALLAUTH_BACKEND):
    """Log ``user`` in on ``client`` as allauth's login form would: with the MFA step
    recorded in the session when the account has TOTP (and ``second_factor``), without
    it otherwise — a password-only session."""
    from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY
    from allauth.mfa.models import Authenticator

    client.force_login(user, backend=backend)
    totp = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    records = [{"method": "password", "at": time.time()}]
    if second_factor and totp is not None:
        records.append({"method": "mfa", "at": time.time(), "id": totp.pk, "type": "totp"})
    session = client.session
    session[AUTHENTICATION_METHODS_SESSION_KEY] = records
    session["account_authentication_methods_user"] = str(user.pk)
    session.save()
    return client
