"""Personal API tokens: list, create (the secret is shown once), revoke.

A token acts as its owner on the JSON API with a citizen's powers only (accounts.tokens):
never a way around the MFA that guards a role's powers. A password change ends every
token created before it; the page says which.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import roles
from accounts import tokens as api_tokens
from accounts.models import ApiToken, User
from config.forms import SafeTextForm

# Enough for every script a person may run; a limit keeps a leaked session from minting
# tokens without end.
MAX_TOKENS = 20


class TokenForm(SafeTextForm, forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Token name"),
        max_length=80,
        help_text=gettext_lazy("To recognise it later, e.g. “my analysis script”."),
    )


@login_required
def tokens(request):
    form = TokenForm()
    secret = None
    if request.method == "POST" and "revoke" in request.POST:
        if api_tokens.revoke(request.user, _token_id(request.POST["revoke"])):
            messages.success(request, _("The token has been revoked."))
        return redirect("accounts:api_tokens")
    may_create = roles.can_participate(request.user)
    if request.method == "POST":
        form = TokenForm(request.POST)
        if not may_create:
            messages.error(request, _("Verify your e-mail address before creating a token."))
            return redirect("accounts:api_tokens")
        if ApiToken.objects.filter(user=request.user).count() >= MAX_TOKENS:
            form.add_error(None, _("You have too many tokens: revoke one first."))
        elif form.is_valid():
            _token, secret = api_tokens.create_token(request.user, form.cleaned_data["name"])
            form = TokenForm()
    response = render(
        request,
        "accounts/api_tokens.html",
        {
            "form": form,
            "secret": secret,
            "may_create": may_create,
            "tokens": _with_state(request.user),
        },
    )
    # The page may show a secret: no cache keeps a copy.
    response["Cache-Control"] = "no-store"
    return response


def _with_state(user: User) -> list[ApiToken]:
    """The user's tokens, each marked ``ended`` when a password change outlived it."""
    changed = user.credentials_changed_at
    listed = list(ApiToken.objects.filter(user=user))
    for token in listed:
        token.ended = changed is not None and token.created_at < changed
    return listed


def _token_id(value: str) -> int:
    return int(value) if value.isdigit() and len(value) < 19 else 0
