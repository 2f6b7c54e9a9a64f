from functools import partial

from django.contrib import messages
from django.contrib.auth import middleware as auth_middleware
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.functional import SimpleLazyObject
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from accounts import roles

# Where a role holder sent to set up MFA was going (shown on the recovery codes page).
MFA_NEXT_SESSION_KEY = "mfa_next"
# Namespaces whose every page needs MFA from a privileged account.
MFA_NAMESPACES = {"admin", "organiser", "moderation"}


class AuthenticationMiddleware(auth_middleware.AuthenticationMiddleware):
    """Django's, plus the door's mark: which second factor this session passed.

    allauth records each step of a login in the session (password, MFA code, identity
    provider); ``accounts.roles`` reads the MFA steps from there. A session that logged
    in with a password alone — whatever the door — carries no second factor, so its
    user holds no role powers (docs/security.md).
    """

    def process_request(self, request):
        super().process_request(request)
        request.user = SimpleLazyObject(
            lambda: roles.vouch_from_session(auth_middleware.get_user(request), request.session)
        )
        request.auser = partial(_auser, request)


async def _auser(request):
    user = await auth_middleware.auser(request)
    return roles.vouch_from_session(user, request.session)


def mfa_redirect(request, *, next_url=None):
    """Where a role holder goes to get their powers: set MFA up, or pass it. None when
    they need neither (their powers hold, or they hold no role)."""
    user = request.user
    if roles.lacks_required_mfa(user):
        messages.warning(
            request,
            _(
                "Your role lets you change what others see, so it requires two-factor "
                "authentication. Set it up to continue."
            ),
        )
        target = "mfa_activate_totp"
    elif roles.needs_second_factor(user):
        messages.warning(
            request,
            _(
                "Your role lets you change what others see: confirm it is you with your "
                "authenticator app to continue."
            ),
        )
        target = "mfa_reauthenticate"
    else:
        # Powers hold: the page asked for before setting MFA up is reached.
        request.session.pop(MFA_NEXT_SESSION_KEY, None)
        return None
    next_url = next_url or request.get_full_path()
    if target == "mfa_activate_totp":
        # allauth ends the activation on the recovery codes page, which knows nothing of
        # ``next``: it offers to continue there (templates/allauth/layouts/manage.html).
        request.session[MFA_NEXT_SESSION_KEY] = next_url
    return redirect(f"{reverse(target)}?{urlencode({'next': next_url})}")


class UserLanguageMiddleware:
    """A signed-in person without a language cookie gets their preferred language."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.conf import settings

        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES
            and user.preferred_language
        ):
            translation.activate(user.preferred_language)
            request.LANGUAGE_CODE = user.preferred_language
        return self.get_response(request)


class RequireMFAMiddleware:
    """Staff, organisers and moderators reach their pages only once MFA is set up and
    their session has passed it.

    A view opts in with ``accounts.decorators.mfa_required``; the admin and the
    organiser and moderation namespaces are covered wholesale.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        needs_mfa = getattr(view_func, "mfa_required", False) or bool(
            match and MFA_NAMESPACES.intersection(match.namespaces)
        )
        if needs_mfa:
            return mfa_redirect(request)
        return None
