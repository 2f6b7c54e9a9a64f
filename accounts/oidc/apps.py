from django.apps import AppConfig


class OIDCConfig(AppConfig):
    """allauth provider "agora_oidc": generic OpenID Connect with nonce and acr checks."""

    name = "accounts.oidc"
    label = "agora_oidc"
    verbose_name = "OpenID Connect"
