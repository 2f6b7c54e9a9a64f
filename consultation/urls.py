from django.urls import path

from consultation.views import public

app_name = "consultation"
urlpatterns = [
    path("consultations/", public.consultation_list, name="list"),
]
