import re

from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.helpers import render_authentication_error
from allauth.socialaccount.internal import jwtkit
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.oauth2.views import (
    OAuth2CallbackView,
    OAuth2LoginView,
)
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from django.http import Http404
from requests import RequestException

from accounts.oidc import nonces

# Asymmetric signatures only: "none" and shared-secret algorithms are refused.
ACCEPTED_ALGORITHMS = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384"}
# What PostgreSQL cannot store in the account's JSON extra data (a 500 at login otherwise).
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class NonceOIDCAdapter(OpenIDConnectOAuth2Adapter):
    @property
    def openid_config(self):
        config = super().openid_config
        configured = self.get_provider().app.settings["server_url"].rstrip("/")
        if config.get("issuer", "").rstrip("/") != configured:
            # OpenID Connect Discovery §4.3: the document must describe the issuer we trust.
            raise OAuth2Error("Discovery document issuer does not match the configured issuer")
        return config

    def complete_login(self, request, app, token, **kwargs):
        if not kwargs["response"].get("id_token"):
            raise OAuth2Error("The identity provider returned no ID token")
        login = super().complete_login(request, app, token, **kwargs)
        claims = login.account.extra_data.get("id_token") or {}
        if not nonces.consume(request, claims.get("nonce")):
            raise OAuth2Error("ID token nonce is missing, unknown or already used")
        userinfo = login.account.extra_data.get("userinfo")
        if userinfo and userinfo.get("sub") != claims.get("sub"):
            # OpenID Connect Core §5.3.2: otherwise the UserInfo values must not be used.
            raise OAuth2Error("UserInfo sub does not match the ID token sub")
        wanted_acr = app.settings.get("auth_params", {}).get("acr_values", "").split()
        if wanted_acr and claims.get("acr") not in wanted_acr:
            raise OAuth2Error("ID token acr does not match the requested acr_values")
        return login

    def _decode_id_token(self, app, id_token):
        # Unlike the generic provider, always check the signature, even over TLS.
        import jwt

        try:
            header = jwt.get_unverified_header(id_token)
        except jwt.PyJWTError as exc:
            raise OAuth2Error("ID token is not a JWT") from exc
        if header.get("alg") not in ACCEPTED_ALGORITHMS:
            raise OAuth2Error("ID token is not signed with an accepted algorithm")
        if not header.get("kid"):
            # allauth looks the key up by kid and would fail with a KeyError (a 500).
            raise OAuth2Error("ID token header names no key (kid)")
        claims = jwtkit.verify_and_decode(
            credential=id_token,
            keys_url=self.openid_config["jwks_uri"],
            issuer=self.openid_config["issuer"],
            audience=app.client_id,
            lookup_kid=jwtkit.lookup_kid_jwk,
            verify_signature=True,
        )
        return _storable(claims)

    def _fetch_user_info(self, access_token):
        return _storable(super()._fetch_user_info(access_token))

    def get_callback_url(self, request, app):
        from allauth.utils import build_absolute_uri
        from django.urls import reverse

        url = reverse("agora_oidc_callback", kwargs={"provider_id": self.provider_id})
        return build_absolute_uri(request, url, self.redirect_uri_protocol)


def _storable(value):
    """Claims as sent, less the NUL characters and lone surrogates (JSON escapes such as
    ``\\u0000``) that the account's extra data could not hold. The display name made from
    them is cleaned further (``accounts.adapters``)."""
    if isinstance(value, str):
        return UNSTORABLE.sub("", value)
    if isinstance(value, dict):
        return {_storable(key): _storable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_storable(item) for item in value]
    return value


def _discovery_failed(request, provider_id, exc):
    # allauth reads the discovery document outside its own error handling (in
    # get_client): an unreachable provider or a foreign issuer would be a 500.
    provider = get_adapter(request).get_provider(request, provider_id)
    return render_authentication_error(request, provider, exception=exc)


def login(request, provider_id):
    try:
        return OAuth2LoginView.adapter_view(NonceOIDCAdapter(request, provider_id))(request)
    except SocialApp.DoesNotExist as exc:
        raise Http404 from exc
    except (OAuth2Error, RequestException) as exc:
        return _discovery_failed(request, provider_id, exc)


def callback(request, provider_id):
    try:
        return OAuth2CallbackView.adapter_view(NonceOIDCAdapter(request, provider_id))(request)
    except SocialApp.DoesNotExist as exc:
        raise Http404 from exc
    except (OAuth2Error, RequestException) as exc:
        return _discovery_failed(request, provider_id, exc)
