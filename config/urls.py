from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from accounts import views as account_views
from config import views
from consultation.api import api

admin.site.site_header = _("Agora administration")
admin.site.site_title = settings.SITE_NAME

# What a visitor gets when a view fails: the error page, even when its stylesheet is missing.
# A database that does not answer is a 503 with Retry-After (config/outage.py), anything
# else the 500 page of config/views.py.
handler500 = "config.outage.server_error"

urlpatterns = [
    path("", views.home, name="home"),
    path("mentions-legales/", views.legal_notice, name="legal_notice"),
    path("donnees-personnelles/", views.privacy_policy, name="privacy"),
    path("accessibilite/", views.accessibility, name="accessibility"),
    path("health/", views.health, name="health"),
    path("i18n/setlang/", account_views.set_language, name="set_language"),
    path("compte/", include("allauth.urls")),
    path("compte/", include("accounts.urls")),
    path("", include("consultation.urls")),
    path("organisation/", include("consultation.organising.urls")),
    path("", include("consultation.moderation.public_urls")),
    path("moderation/", include("consultation.moderation.urls")),
    path("notifications/", include("consultation.notices.urls")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]
