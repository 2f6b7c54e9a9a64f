from allauth.mfa.models import Authenticator
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from config.forms import SafeTextForm


class UserTextChangeForm(SafeTextForm, UserChangeForm):
    """A display name typed by staff follows the site's rule for free text (config.text)."""


class UserTextCreationForm(SafeTextForm, AdminUserCreationForm):
    pass


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserTextChangeForm
    add_form = UserTextCreationForm
    ordering = ["email"]
    list_display = [
        "email",
        "display_name",
        "is_organiser",
        "is_moderator",
        "is_staff",
        "is_active",
    ]
    list_filter = ["is_organiser", "is_moderator", "is_staff", "is_active"]
    search_fields = ["email", "display_name"]
    readonly_fields = ["date_joined", "last_login", "identity_verified_at", "identity_provider"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Profile"), {"fields": ["display_name", "preferred_language"]}),
        (
            _("Roles"),
            {"fields": ["is_organiser", "is_moderator", "is_staff", "is_superuser", "is_active"]},
        ),
        (_("Identity"), {"fields": ["identity_verified_at", "identity_provider"]}),
        (_("Dates"), {"fields": ["date_joined", "last_login"]}),
    ]
    actions = ["suspend"]

    @admin.action(description=_("Suspend the selected accounts (and close their live connections)"))
    def suspend(self, request, queryset):
        from accounts.lifecycle import suspend_account

        for user in queryset.filter(is_active=True):
            suspend_account(user, reason=f"suspended by {request.user.pk} in the admin")

    add_fieldsets = [
        (
            None,
            {"classes": ["wide"], "fields": ["email", "display_name", "password1", "password2"]},
        ),
    ]


# allauth's own Authenticator admin shows `data`: the TOTP secret and the recovery codes' seed.
admin.site.unregister(Authenticator)


@admin.register(Authenticator)
class AuthenticatorAdmin(admin.ModelAdmin):
    """Which factors an account has, never their secrets. Staff may delete one (a lost
    phone): its owner then sets two-factor authentication up again."""

    list_display = ["user", "type", "created_at", "last_used_at"]
    list_filter = ["type"]
    list_select_related = ["user"]
    search_fields = ["user__email"]
    fields = readonly_fields = ("user", "type", "created_at", "last_used_at")  # never "data"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
