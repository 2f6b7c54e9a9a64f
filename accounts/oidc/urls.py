from django.urls import include, path, re_path

from accounts.oidc import views

urlpatterns = [
    re_path(
        r"^(?P<provider_id>[^/]+)/",
        include(
            [
                path("login/", views.login, name="agora_oidc_login"),
                path("login/callback/", views.callback, name="agora_oidc_callback"),
            ]
        ),
    )
]
urlpatterns = [path("oidc/", include(urlpatterns))]
