"""Moderation as citizens meet it: the charter, reporting, the public log, a decision about
them and their appeal. No role needed (``moderation/urls.py`` is the moderators' space)."""

from django.urls import path

from consultation.views import moderation_public

app_name = "moderation_public"

COMMENT = "consultations/<slug:slug>/mesures/<int:item_id>/commentaires/<int:comment_id>/"

urlpatterns = [
    path("consultations/<slug:slug>/charte/", moderation_public.charter_page, name="charter"),
    path(
        "consultations/<slug:slug>/journal-de-moderation/",
        moderation_public.log_page,
        name="log",
    ),
    path(COMMENT + "signaler/", moderation_public.report, name="report"),
    path(
        "decisions-de-moderation/<int:decision_id>/",
        moderation_public.decision_page,
        name="decision",
    ),
]
