from django.urls import path

from consultation.views import moderation

app_name = "moderation"
urlpatterns = [
    path("", moderation.queue, name="queue"),
]
