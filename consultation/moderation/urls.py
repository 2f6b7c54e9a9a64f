"""The moderators' space (/moderation/): MFA for the whole namespace (accounts.middleware);
each page asks ``can_moderate`` for the consultation it shows."""

from django.urls import path

from consultation.views import moderation

app_name = "moderation"
urlpatterns = [
    path("", moderation.queue, name="queue"),
    path("appels/<int:appeal_id>/", moderation.appeal_page, name="appeal"),
    path("<slug:slug>/", moderation.consultation_queue, name="consultation"),
    path(
        "<slug:slug>/commentaires/<int:comment_id>/",
        moderation.comment_page,
        name="comment",
    ),
]
