"""The organiser space, mounted at /organisation/. The whole "organiser" namespace
requires MFA from role holders (accounts.middleware.RequireMFAMiddleware)."""

from django.urls import path

from consultation.views import (
    organiser,
    organiser_card,
    organiser_charter,
    organiser_items,
    results,
)

app_name = "organiser"
urlpatterns = [
    path("", organiser.dashboard, name="dashboard"),
    path("nouvelle/", organiser.create, name="create"),
    path("<slug:slug>/", organiser.manage, name="manage"),
    path("<slug:slug>/modifier/", organiser.edit, name="edit"),
    path("<slug:slug>/mesures/", organiser_items.items, name="items"),
    path("<slug:slug>/mesures/ajouter/", organiser_items.item_add, name="item_add"),
    path("<slug:slug>/mesures/importer/", organiser_items.import_items, name="import"),
    path(
        "<slug:slug>/mesures/<int:item_id>/modifier/", organiser_items.item_edit, name="item_edit"
    ),
    path(
        "<slug:slug>/mesures/<int:item_id>/supprimer/",
        organiser_items.item_delete,
        name="item_delete",
    ),
    path(
        "<slug:slug>/mesures/<int:item_id>/deplacer/", organiser_items.item_move, name="item_move"
    ),
    path("<slug:slug>/calendrier/", organiser.schedule, name="schedule"),
    path("<slug:slug>/ouvrir/", organiser.open_now, name="open_now"),
    path("<slug:slug>/brouillon/", organiser.back_to_draft, name="back_to_draft"),
    path("<slug:slug>/cloturer/", organiser.close, name="close"),
    path("<slug:slug>/equipe/", organiser.team, name="team"),
    path("<slug:slug>/charte/", organiser_charter.charter_page, name="charter"),
    path("<slug:slug>/regle/", organiser_card.card_page, name="card"),
    path("<slug:slug>/resultats/", results.review, name="results"),
    path("<slug:slug>/resultats/calculer/", results.compute_now, name="results_compute"),
    path("<slug:slug>/resultats/publier/", results.publish, name="results_publish"),
    path(
        "<slug:slug>/resultats/reponses/<int:item_id>/",
        results.respond,
        name="results_respond",
    ),
    path(
        "<slug:slug>/equipe/<int:membership_id>/retirer/",
        organiser.team_remove,
        name="team_remove",
    ),
]
