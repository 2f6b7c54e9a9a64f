import time

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django import forms
from django.conf import settings

from accounts import emails, lifecycle
from config.client_ip import client_ip
from config.text import problem, without_unsafe


class AccountAdapter(DefaultAccountAdapter):
    def is_reauthentication_required(self, *, app: str, **kwargs: object) -> bool:
        """allauth counts only a reauthentication, never the login itself: an organiser
        sent to set up the authenticator app seconds after logging in was asked for the
        password again (issue 15, point 7). A login within the reauthentication window
        (ACCOUNT_REAUTHENTICATION_TIMEOUT) is as fresh as a reauthentication."""
        if not super().is_reauthentication_required(app=app, **kwargs):
            return False
        from allauth.account import app_settings
        from allauth.account.authentication import get_authentication_records

        request = self.request
        if request is None or not request.user.is_authenticated:
            return True
        records = get_authentication_records(request, request.user)
        if not records:
            return True
        return time.time() - records[-1]["at"] >= app_settings.REAUTHENTICATION_TIMEOUT

    def send_mail(self, template_prefix, email, context):
        # Render now (in the reader's language, with the request), deliver later.
        from allauth.core import context as allauth_context
        from django.contrib.sites.shortcuts import get_current_site

        request = allauth_context.request
        ctx = {"request": request, "email": email, "current_site": get_current_site(request)}
        ctx.update(context)
        emails.send_later(self.render_mail(template_prefix, email, ctx))

    def get_from_email(self):
        return settings.DEFAULT_FROM_EMAIL

    def clean_email(self, email):
        # Django's validator lets a quoted local part hold control characters
        # ("a<ESC>b"@example.org); every form allauth shows for an address asks here.
        reason = problem(email)
        if reason:
            raise forms.ValidationError(reason)
        return super().clean_email(email)

    def get_client_ip(self, request):
        # allauth's login, sign-up and reset limits count per address: the same address
        # as our write limits (TRUSTED_PROXY_COUNT), from one implementation.
        return client_ip(request)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def populate_user(self, request, sociallogin, data):
        user = super().populate_user(request, sociallogin, data)
        if not user.display_name:
            user.display_name = _public_name(data.get("first_name")) or _public_name(
                data.get("name")
            )
        return user

    def pre_social_login(self, request, sociallogin):
        # Called for new and existing accounts alike: an identity provider that vouches
        # for the person marks (or re-marks) the account as identity-verified.
        # account.provider holds the app's provider_id ("idp"), not the provider class id.
        provider = sociallogin.account.get_provider(request)
        if provider.id == "agora_oidc" and settings.OIDC_VERIFIES_IDENTITY:
            lifecycle.mark_identity_verified(sociallogin.user, provider=settings.OIDC_NAME)

    def save_user(self, request, sociallogin, form=None):
        user = super().save_user(request, sociallogin, form)
        if user.identity_verified_at and not user.identity_provider:
            user.identity_provider = settings.OIDC_NAME
        user.save()
        return user


def _public_name(claim: object) -> str:
    """A name sent by the identity provider, made fit to show on our pages.

    Control and bidi-override characters are stripped rather than refused (as a form
    would): the person did not type it here and cannot fix it at the provider; they can
    change their display name on their profile afterwards.
    """
    if not isinstance(claim, str):
        return ""
    return " ".join(without_unsafe(claim).split())[:60]
