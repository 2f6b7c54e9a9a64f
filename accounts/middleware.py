from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from accounts.roles import lacks_required_mfa

# Namespaces whose every page needs MFA from a privileged account.
MFA_NAMESPACES = {"admin", "organiser", "moderation"}


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
    """Staff, organisers and moderators reach their pages only once MFA is set up.

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
        if needs_mfa and lacks_required_mfa(request.user):
            messages.warning(
                request,
                _(
                    "Your role lets you change what others see, so it requires two-factor "
                    "authentication. Set it up to continue."
                ),
            )
            next_query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse('mfa_activate_totp')}?{next_query}")
        return None
