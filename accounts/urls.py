from django.urls import path

from accounts import api_tokens_views, views

app_name = "accounts"
urlpatterns = [
    path("profil/", views.profile, name="profile"),
    path("mes-donnees/", views.my_data, name="my_data"),
    path("mes-donnees/telecharger/", views.my_data_download, name="my_data_download"),
    path("supprimer/", views.delete_account, name="delete"),
    path("jetons-api/", api_tokens_views.tokens, name="api_tokens"),
]
