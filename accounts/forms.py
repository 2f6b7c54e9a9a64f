from typing import Any

from django import forms
from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from config.forms import SafeTextForm


class SignupForm(SafeTextForm, forms.Form):
    """Extra sign-up fields; allauth's own form handles e-mail and password."""

    display_name = forms.CharField(
        label=_("Display name"),
        max_length=60,
        help_text=_("Shown next to your contributions. A pseudonym is fine."),
        widget=forms.TextInput(attrs={"autocomplete": "nickname"}),
    )

    def signup(self, request, user):
        user.display_name = self.cleaned_data["display_name"].strip()
        user.preferred_language = _active_language(request)
        user.save(update_fields=["display_name", "preferred_language"])


def _active_language(request: HttpRequest) -> str:
    code = getattr(request, "LANGUAGE_CODE", settings.LANGUAGE_CODE)
    return code if code in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


class ProfileForm(SafeTextForm, forms.ModelForm):
    class Meta:
        model = User
        fields = ["display_name", "preferred_language"]
        widgets = {"display_name": forms.TextInput(attrs={"autocomplete": "nickname"})}


class DeleteAccountForm(forms.Form):
    """Deleting an account is confirmed by what proves it is you: password or MFA code."""

    password = forms.CharField(
        label=_("Your password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    code = forms.CharField(
        label=_("Or a code from your authenticator app (or a recovery code)"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        from accounts.roles import has_mfa

        if not has_mfa(user):
            del self.fields["code"]
        if not user.has_usable_password():
            del self.fields["password"]
        if not self.fields:
            # An account opened through an identity provider, without password or MFA:
            # typing the address is the only proof left short of a provider round-trip.
            self.fields["email"] = forms.EmailField(label=_("Type your e-mail address to confirm"))

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if "email" in self.fields:
            if (data.get("email") or "").lower() != self.user.email.lower():
                raise forms.ValidationError(_("This is not the address of your account."))
            return data
        password, code = data.get("password"), data.get("code")
        if password and self.user.check_password(password):
            return data
        if code and _mfa_code_is_valid(self.user, code):
            return data
        if not password and not code:
            raise forms.ValidationError(_("Enter your password or an authentication code."))
        raise forms.ValidationError(_("Incorrect password or code."))


def _mfa_code_is_valid(user: User, code: str) -> bool:
    from allauth.mfa.models import Authenticator

    for authenticator in Authenticator.objects.filter(user=user):
        wrapped = authenticator.wrap()
        if authenticator.type == Authenticator.Type.TOTP and wrapped.validate_code(code):
            return True
        if authenticator.type == Authenticator.Type.RECOVERY_CODES and wrapped.validate_code(code):
            return True
    return False
