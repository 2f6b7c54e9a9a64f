import json

from allauth.core import ratelimit
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from accounts import lifecycle, privacy
from accounts.forms import DeleteAccountForm, ProfileForm


@login_required
def profile(request):
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your profile has been saved."))
        response = redirect("accounts:profile")
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            request.user.preferred_language,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
        return response
    return render(request, "accounts/profile.html", {"form": form})


@login_required
def my_data(request):
    return render(request, "accounts/my_data.html", {"data": privacy.export_all(request.user)})


@login_required
def my_data_download(request):
    payload = json.dumps(privacy.export_all(request.user), ensure_ascii=False, indent=2)
    response = HttpResponse(payload, content_type="application/json; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="agora-my-data-{stamp}.json"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
def delete_account(request):
    # Every attempt counts (allauth's limiter, ACCOUNT_RATE_LIMITS "confirm_deletion"):
    # once limited, even the right password waits.
    if request.method == "POST" and not ratelimit.consume(
        request, action="confirm_deletion", user=request.user
    ):
        message = _("Too many attempts in a short time. Please wait a few minutes and try again.")
        return render(request, "429.html", {"message": message}, status=429)
    form = DeleteAccountForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        lifecycle.delete_account(request.user)
        logout(request)
        messages.success(request, _("Your account and your personal data have been deleted."))
        return redirect("home")
    return render(request, "accounts/delete.html", {"form": form})


@csrf_exempt
@require_POST
def set_language(request):
    """Django's set_language, plus remembering the choice on the account.

    The CSRF check is asked for a signed-in person only (their choice is saved on the
    account). A visitor who is not signed in switches with a form that carries no token,
    so that the anonymous pages hold nobody's token and can be cached whole
    (config/page_cache.py, decision 0039): a forged request could at worst change the
    language of that visitor's next page, which they change back with the same form."""
    if request.user.is_authenticated:
        # Django's own view as the callback: it is not marked exempt, so the check runs.
        check = CsrfViewMiddleware(lambda request: HttpResponse())
        refused = check.process_view(request, django_set_language, (), {})
        if refused is not None:
            return refused
    response = django_set_language(request)
    language = request.POST.get("language")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        request.user.preferred_language = language
        request.user.save(update_fields=["preferred_language"])
    return response
