"""The moderators' space (/moderation/): MFA for the whole namespace (accounts.middleware);
each page asks ``can_moderate`` for the consultation it shows. The queues are
``views/moderation.py``; the pages where moderators act (a comment, an appeal: GET and
POST) are ``views/moderation_actions.py``."""

from django.urls import path

from consultation.views import moderation, moderation_actions

app_name = "moderation"
urlpatterns = [
    path("", moderation.queue, name="queue"),
    path("appels/<int:appeal_id>/", moderation_actions.appeal_page, name="appeal"),
    path("<slug:slug>/", moderation.consultation_queue, name="consultation"),
    path(
        "<slug:slug>/commentaires/<int:comment_id>/",
        moderation_actions.comment_page,
        name="comment",
    ),
]
