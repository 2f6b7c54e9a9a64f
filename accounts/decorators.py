from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from accounts.roles import can_participate


def mfa_required(view):
    """Mark a privileged page: RequireMFAMiddleware sends role holders without MFA to set it up."""
    view.mfa_required = True
    return view


def participant_required(view):
    """Taking part (commenting, voting, ranking) needs a verified e-mail address."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not can_participate(request.user):
            messages.info(
                request,
                _("Please verify your e-mail address before taking part: check your inbox."),
            )
            return redirect("account_email")
        return view(request, *args, **kwargs)

    return wrapper
