from django.urls import path

from consultation.views import notices

app_name = "notices"
urlpatterns = [
    path("", notices.notice_list, name="list"),
    path("<int:notice_id>/", notices.open_notice, name="open"),
    path("lues/", notices.mark_read, name="mark_read"),
    path("reglages/", notices.notice_settings, name="settings"),
    path("suivre/", notices.follow, name="follow"),
    path("ne-plus-suivre/", notices.unfollow, name="unfollow"),
    path("desabonnement/<str:token>/", notices.unsubscribe_view, name="unsubscribe"),
]
