from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from allauth.mfa.signals import authenticator_added

        from accounts import checks, privacy  # noqa: F401 - checks registers system checks

        privacy.register_account_sections()
        # allauth offers this signal, not an adapter hook, as its seam for "TOTP activated".
        authenticator_added.connect(_activation_passes_the_second_factor)


def _activation_passes_the_second_factor(sender, request, user, authenticator, **kwargs):
    """Activating TOTP takes the password (allauth reauthenticates first) and a code from
    the new authenticator: both factors, so the session has passed MFA, as if it had
    logged in with it. Without this, a new organiser would be asked for a code again
    seconds after setting up the app (accounts.middleware)."""
    from allauth.account.internal.flows.login import record_authentication
    from allauth.mfa.models import Authenticator

    if request is None or authenticator.type != Authenticator.Type.TOTP:
        return
    record_authentication(request, user, "mfa", id=authenticator.pk, type=authenticator.type)
