"""Site-wide pages: home, legal pages, health."""

from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from config import health as health_report


def home(request):
    return render(request, "pages/home.html")


def legal_notice(request):
    return render(request, "pages/legal_notice.html")


def privacy_policy(request):
    from django.conf import settings

    return render(
        request,
        "pages/privacy.html",
        {"unverified_retention_days": settings.UNVERIFIED_ACCOUNT_RETENTION_DAYS},
    )


def accessibility(request):
    return render(request, "pages/accessibility.html")


@never_cache
def health(request):
    report = health_report.status()
    ok = report["database"] and report["cache"]
    return JsonResponse({"ok": ok, **report}, status=200 if ok else 503)
