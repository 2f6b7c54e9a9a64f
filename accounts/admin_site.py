"""The admin site, with one login: allauth's, and its MFA stage.

Django's admin has a login form of its own that logs a staff account in with its
password alone, and allauth's throttling does not count its failures. Here that form is
gone: the admin's login page sends people to allauth's (which asks for the TOTP code and
counts failed attempts), and the admin answers only to a session whose user holds staff
powers (``accounts.roles.has_staff_powers``: staff, active, second factor passed).
"""

from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

from accounts import roles


class AgoraAdminSite(admin.AdminSite):
    def has_permission(self, request):
        return roles.has_staff_powers(request.user)

    def login(self, request, extra_context=None):
        """Never a password form: on to allauth's login, the second factor, or the admin."""
        from accounts.middleware import mfa_redirect

        next_url = request.GET.get(REDIRECT_FIELD_NAME) or request.POST.get(REDIRECT_FIELD_NAME)
        if not next_url or not url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            next_url = reverse("admin:index", current_app=self.name)
        user = request.user
        if not user.is_authenticated:
            query = urlencode({REDIRECT_FIELD_NAME: next_url})
            return redirect(f"{resolve_url('account_login')}?{query}")
        if self.has_permission(request):
            return redirect(next_url)
        if user.is_active and (user.is_staff or user.is_superuser):
            response = mfa_redirect(request, next_url=next_url)
            if response is not None:
                return response
        raise PermissionDenied
