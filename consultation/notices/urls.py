from django.urls import path

from consultation.views import notices

app_name = "notices"
urlpatterns = [
    path("", notices.notice_list, name="list"),
    path("lues/", notices.mark_read, name="mark_read"),
]
