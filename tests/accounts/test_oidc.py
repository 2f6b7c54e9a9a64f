"""Log in through the "agora_oidc" provider against a fake OpenID Connect provider.

The fake (tests/fake_oidc.py) runs over real HTTP on 127.0.0.1: Django fetches
its discovery document, JWKS, token and userinfo endpoints exactly as it would
FranceConnect's. The test plays the browser: it posts to the login view, visits
the provider's /authorize itself, and brings the callback back to Django.
"""

import json
import secrets
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount, SocialToken
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.urls import reverse

from accounts.oidc import nonces
from tests.fake_oidc import OMIT, FakeOIDCProvider

User = get_user_model()

CLIENT_ID = "agora-test-client"
CLIENT_SECRET = "agora-test-secret-0123456789abcdef"
ACR_VALUES = "eidas2"
PROVIDER_ID = "idp"
LOGIN_PATH = reverse("agora_oidc_login", kwargs={"provider_id": PROVIDER_ID})
CALLBACK_PATH = reverse("agora_oidc_callback", kwargs={"provider_id": PROVIDER_ID})
# ACCOUNT_DEFAULT_HTTP_PROTOCOL is pinned to "https" below, as in production.
CALLBACK_URL = f"https://testserver{CALLBACK_PATH}"
ERROR_TEMPLATE = "socialaccount/authentication_error.html"


def oidc_providers_setting(
    *, issuer, client_id, client_secret, name, scopes, acr_values, token_auth_method
):
    """SOCIALACCOUNT_PROVIDERS exactly as config/settings.py builds it from OIDC_*."""
    return {
        "agora_oidc": {
            "APPS": [
                {
                    "provider_id": "idp",
                    "name": name,
                    "client_id": client_id,
                    "secret": client_secret,
                    "settings": {
                        "server_url": issuer,
                        "scope": scopes,
                        "auth_params": {"acr_values": acr_values} if acr_values else {},
                        "token_auth_method": token_auth_method,
                    },
                }
            ]
        }
    }


@pytest.fixture(autouse=True)
def _clear_cache():
    # allauth keeps used JWT ids (jti) in the cache; no test may see another's.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def idp():
    with FakeOIDCProvider(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uris=[CALLBACK_URL]
    ) as provider:
        yield provider


@pytest.fixture
def oidc_settings(settings, idp):
    settings.OIDC_ISSUER = idp.issuer
    settings.OIDC_CLIENT_ID = CLIENT_ID
    settings.OIDC_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_ACR_VALUES = ACR_VALUES
    settings.OIDC_VERIFIES_IDENTITY = True
    settings.ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https"
    settings.SOCIALACCOUNT_PROVIDERS = oidc_providers_setting(
        issuer=idp.issuer,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        name=settings.OIDC_NAME,
        scopes=settings.OIDC_SCOPES,
        acr_values=ACR_VALUES,
        token_auth_method="client_secret_post",
    )
    return settings


pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("oidc_settings")]


# --- the browser's part ------------------------------------------------------------


def start_login(client, idp) -> str:
    """Press "log in with …": returns the provider's /authorize URL we are sent to."""
    response = client.post(LOGIN_PATH)
    assert response.status_code == 302, response.content[:500]
    location = response["Location"]
    assert location.startswith(idp.url("/authorize?")), location
    return location


def callback(client, callback_url: str):
    """Arrive back from the provider at our callback URL."""
    parts = urlsplit(callback_url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == CALLBACK_URL
    return client.get(f"{parts.path}?{parts.query}")


def log_in(client, idp):
    return callback(client, idp.authorize(start_login(client, idp)))


def query(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def logged_in_user_id(client):
    return client.session.get("_auth_user_id")


def assert_rejected(client, response, reason: str | None = None, cause=None):
    """allauth's authentication error page, nobody logged in, nothing created."""
    assert response.status_code == 401
    assert ERROR_TEMPLATE in [t.name for t in response.templates]
    exception = response.context["auth_error"]["exception"]
    if reason is not None:
        assert reason in str(exception)
    if cause is not None:
        assert isinstance(exception.__cause__, cause), repr(exception.__cause__)
    assert logged_in_user_id(client) is None
    assert not SocialAccount.objects.exists()
    assert not User.objects.exists()


# --- the happy path ----------------------------------------------------------------


def test_login_creates_verified_account(client, idp, settings):
    authorize_url = start_login(client, idp)

    sent = query(authorize_url)
    assert sent["client_id"] == CLIENT_ID
    assert sent["redirect_uri"] == CALLBACK_URL
    assert sent["response_type"] == "code"
    assert "openid" in sent["scope"].split()
    assert sent["state"]
    assert len(sent["nonce"]) >= 32
    assert sent["acr_values"] == ACR_VALUES
    # The nonce is bound to this browser's session.
    assert sent["nonce"] in client.session[nonces.SESSION_KEY]

    response = callback(client, idp.authorize(authorize_url))

    # The provider really received what the login view sent.
    assert idp.last_authorize.nonce == sent["nonce"]
    assert idp.last_authorize.acr_values == ACR_VALUES
    token_request = idp.received.token[-1]
    assert token_request["client_secret"] == CLIENT_SECRET  # client_secret_post
    assert token_request["redirect_uri"] == CALLBACK_URL

    assert response.status_code == 302, response.content[:500]
    user = User.objects.get()
    assert user.email == "marianne@example.org"
    assert user.identity_verified_at is not None
    assert user.identity_provider == settings.OIDC_NAME
    assert user.display_name == "Marianne"
    assert EmailAddress.objects.get(user=user).verified
    assert logged_in_user_id(client) == str(user.pk)
    assert client.get(reverse("accounts:profile")).status_code == 200

    account = SocialAccount.objects.get()
    assert (account.user, account.provider, account.uid) == (user, PROVIDER_ID, idp.subject)
    assert account.get_provider().id == "agora_oidc"
    assert account.extra_data["id_token"]["nonce"] == sent["nonce"]
    assert account.extra_data["id_token"]["acr"] == ACR_VALUES
    # No token is kept: neither as a SocialToken nor in the account's extra data.
    assert not SocialToken.objects.exists()
    stored = json.dumps(account.extra_data)
    for issued in idp.issued_tokens:
        assert issued["access_token"] not in stored
        assert issued["id_token"] not in stored
    assert "access_token" not in stored
    assert "refresh_token" not in stored

    # The nonce was spent.
    assert sent["nonce"] not in client.session.get(nonces.SESSION_KEY, {})


def test_returning_user_logs_in_to_the_same_account(client, idp, settings):
    assert log_in(client, idp).status_code == 302
    first = User.objects.get()
    client.logout()
    # Every login through the provider re-marks the account as identity-verified.
    User.objects.update(identity_verified_at=None, identity_provider="")

    response = log_in(client, idp)

    assert response.status_code == 302
    assert User.objects.get() == first
    assert SocialAccount.objects.count() == 1
    assert logged_in_user_id(client) == str(first.pk)
    first.refresh_from_db()
    assert first.identity_verified_at is not None
    assert first.identity_provider == settings.OIDC_NAME


def test_two_tabs_can_log_in_in_any_order(client, idp):
    first_tab = start_login(client, idp)
    second_tab = start_login(client, idp)
    assert query(first_tab)["nonce"] != query(second_tab)["nonce"]

    assert callback(client, idp.authorize(first_tab)).status_code == 302

    assert logged_in_user_id(client) == str(User.objects.get().pk)


@pytest.mark.parametrize(
    ("given_name", "name", "shown"),
    [
        ("Mari\x1b[31manne\x07", None, "Mari[31manne"),
        ("\u202eennairaM\u202c", None, "ennairaM"),
        ("Ma\u2066ri\u2069anne\x85", None, "Marianne"),
        ("Marie\nAnne\t", None, "Marie Anne"),
        ("\x1b\u2067", "Marianne\x00 Dupont", "Marianne Dupont"),
        ("Mari\ud800anne\udfff", None, "Marianne"),
    ],
)
def test_a_name_from_the_provider_loses_its_control_and_bidi_override_characters(
    client, idp, given_name, name, shown
):
    """Stripped, not refused: the person did not type it here and cannot fix it there."""
    idp.user_claims["given_name"] = given_name
    if name is not None:
        idp.user_claims["name"] = name
    assert log_in(client, idp).status_code == 302
    assert User.objects.get().display_name == shown
    page = client.get(reverse("accounts:profile")).content.decode()
    for character in "\x00\x07\x1b\x85\u202c\u202e\u2066\u2067\u2069":
        assert character not in page


# --- the ID token's nonce ----------------------------------------------------------


def test_wrong_nonce_is_rejected(client, idp):
    idp.nonce_override = secrets.token_urlsafe(32)

    assert_rejected(client, log_in(client, idp), reason="nonce")


def test_missing_nonce_is_rejected(client, idp):
    idp.nonce_override = OMIT

    assert_rejected(client, log_in(client, idp), reason="nonce")


def test_replayed_id_token_is_rejected(client, idp):
    """The same code, hence the same ID token, brought back a second time."""
    first = idp.authorize(start_login(client, idp))
    assert callback(client, first).status_code == 302
    user = User.objects.get()
    last_login = user.last_login
    idp.allow_code_reuse = True

    # A new login attempt in the same browser (fresh state and nonce), but the
    # callback carries the old code: the provider hands out the old ID token again.
    second_state = query(start_login(client, idp))["state"]
    replayed = f"{CALLBACK_URL}?code={query(first)['code']}&state={second_state}"
    response = callback(client, replayed)

    assert len(idp.received.token) == 2
    assert idp.issued_tokens[0] == idp.issued_tokens[1]
    assert response.status_code == 401
    assert ERROR_TEMPLATE in [t.name for t in response.templates]
    assert "nonce" in str(response.context["auth_error"]["exception"])
    user.refresh_from_db()
    assert user.last_login == last_login  # no second login happened
    assert SocialAccount.objects.count() == 1


def test_code_from_another_browser_is_rejected(client, idp):
    """A code obtained by the victim's browser, injected into the attacker's session."""
    from django.test import Client

    victim = Client()
    stolen = query(idp.authorize(start_login(victim, idp)))["code"]

    state = query(start_login(client, idp))["state"]
    response = callback(client, f"{CALLBACK_URL}?code={stolen}&state={state}")

    assert_rejected(client, response, reason="nonce")


# --- issuer, audience, signature, expiry -------------------------------------------


def test_wrong_issuer_in_id_token_is_rejected(client, idp):
    idp.issuer_in_token = "https://idp.example.net"

    assert_rejected(client, log_in(client, idp), cause=jwt.InvalidIssuerError)


def test_wrong_audience_in_id_token_is_rejected(client, idp):
    idp.audience_in_token = "some-other-client"

    assert_rejected(client, log_in(client, idp), cause=jwt.InvalidAudienceError)


def test_expired_id_token_is_rejected(client, idp):
    idp.token_lifetime = -120

    assert_rejected(client, log_in(client, idp), cause=jwt.ExpiredSignatureError)


def test_discovery_document_for_another_issuer_is_refused_at_login(client, idp):
    idp.discovery_issuer = "https://idp.example.net"

    response = client.post(LOGIN_PATH)

    assert response.status_code == 401
    assert ERROR_TEMPLATE in [t.name for t in response.templates]
    assert "issuer" in str(response.context["auth_error"]["exception"])
    assert idp.received.authorize == []


def test_discovery_document_for_another_issuer_is_refused_at_callback(client, idp):
    authorize_url = start_login(client, idp)
    callback_url = idp.authorize(authorize_url)
    idp.discovery_issuer = "https://idp.example.net"

    response = callback(client, callback_url)

    assert_rejected(client, response, reason="issuer")
    assert idp.received.token == []  # refused before the code was even redeemed


def test_unreachable_provider_gives_the_error_page(client, idp):
    idp.stop()

    response = client.post(LOGIN_PATH)

    assert response.status_code == 401
    assert ERROR_TEMPLATE in [t.name for t in response.templates]


def test_id_token_signed_with_another_key_is_rejected(client, idp):
    idp.sign_with_other_key = True

    assert_rejected(client, log_in(client, idp), cause=jwt.InvalidSignatureError)


@pytest.mark.parametrize("alg", ["HS256", "none"])
def test_id_token_without_an_asymmetric_signature_is_rejected(client, idp, alg):
    idp.id_token_alg = alg

    assert_rejected(client, log_in(client, idp), reason="algorithm")


def test_id_token_naming_no_key_is_rejected_without_a_server_error(client, idp):
    idp.omit_kid = True

    assert_rejected(client, log_in(client, idp), reason="kid")


def test_token_response_without_id_token_is_rejected(client, idp):
    idp.omit_id_token = True

    assert_rejected(client, log_in(client, idp), reason="ID token")


def test_userinfo_for_another_subject_is_rejected(client, idp):
    idp.userinfo_sub = "someone-else"

    assert_rejected(client, log_in(client, idp), reason="sub")


# --- acr ---------------------------------------------------------------------------


def test_acr_below_the_requested_level_is_rejected(client, idp):
    idp.acr = "eidas1"

    assert_rejected(client, log_in(client, idp), reason="acr")
    assert idp.last_authorize.acr_values == "eidas2"


def test_missing_acr_is_rejected(client, idp):
    idp.acr = OMIT

    assert_rejected(client, log_in(client, idp), reason="acr")


# --- an existing local account -----------------------------------------------------


def test_existing_local_account_is_not_taken_over_by_email(client, idp, django_user_model):
    """SOCIALACCOUNT_EMAIL_AUTHENTICATION=False: same e-mail is not proof of same person."""
    local = django_user_model.objects.create_user(
        email="marianne@example.org", password="a-long-local-password"
    )
    EmailAddress.objects.create(user=local, email=local.email, verified=True, primary=True)

    response = log_in(client, idp)

    assert response.status_code in (200, 302)
    assert logged_in_user_id(client) is None
    assert not SocialAccount.objects.exists()
    assert list(User.objects.all()) == [local]
    local.refresh_from_db()
    assert local.identity_verified_at is None
    assert local.identity_provider == ""
    assert local.last_login is None


# --- a role holder logging in through the provider -----------------------------------


def test_a_staff_account_logging_in_through_the_provider_must_still_pass_the_second_factor(
    client, idp
):
    """The provider vouches for the person, not for a second factor: a staff account
    with TOTP goes through allauth's MFA stage after the provider, like after a password,
    and holds staff powers only once the code is given."""
    from tests.support.accounts import current_totp_code, enable_totp

    assert log_in(client, idp).status_code == 302
    user = User.objects.get()
    user.is_staff = user.is_superuser = True
    user.save()
    secret = enable_totp(user)
    client.logout()

    response = log_in(client, idp)

    assert response["Location"] == reverse("mfa_authenticate")
    assert logged_in_user_id(client) is None
    admin_login = client.get(reverse("admin:index"))["Location"]
    assert client.get(admin_login)["Location"].startswith(reverse("account_login"))
    response = client.post(reverse("mfa_authenticate"), {"code": current_totp_code(secret)})
    assert response.status_code == 302
    assert logged_in_user_id(client) == str(user.pk)
    assert client.get(reverse("admin:index")).status_code == 200
