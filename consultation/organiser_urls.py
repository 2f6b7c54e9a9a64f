from django.urls import path

from consultation.views import organiser

app_name = "organiser"
urlpatterns = [
    path("", organiser.dashboard, name="dashboard"),
]
