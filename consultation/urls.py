from django.urls import include, path

from consultation import views

organiser_patterns = ([path("", views.organiser_dashboard, name="dashboard")], "organiser")
moderation_patterns = ([path("", views.moderation_queue, name="queue")], "moderation")

urlpatterns = [
    path("organisation/", include(organiser_patterns)),
    path("moderation/", include(moderation_patterns)),
]
