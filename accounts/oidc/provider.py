from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider

from accounts.oidc import nonces
from accounts.oidc.views import NonceOIDCAdapter


class AgoraOIDCProvider(OpenIDConnectProvider):
    id = "agora_oidc"
    name = "OpenID Connect"
    oauth2_adapter_class = NonceOIDCAdapter

    def redirect(self, request, process, next_url=None, data=None, **kwargs):
        auth_params = kwargs.pop("auth_params", None)
        if auth_params is None:
            auth_params = self.get_auth_params()
        auth_params["nonce"] = nonces.issue(request)
        return super().redirect(request, process, next_url, data, auth_params=auth_params, **kwargs)


provider_classes = [AgoraOIDCProvider]
