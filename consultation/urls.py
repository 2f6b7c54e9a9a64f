from django.urls import path

from consultation.views import feeds, open_data, participation, public, results

app_name = "consultation"

ITEM = "consultations/<slug:slug>/mesures/<int:item_id>/"
COMMENT = ITEM + "commentaires/<int:comment_id>/"
RESULTS = "consultations/<slug:slug>/resultats/"

urlpatterns = [
    path("consultations/", public.consultation_list, name="list"),
    # Feeds (docs/decisions/0030-feeds.md): not slugs, so no consultation's address.
    path("consultations/flux.atom", feeds.consultations_feed, name="feed"),
    path("consultations/calendrier.ics", feeds.calendar, name="calendar"),
    path("consultations/<slug:slug>/", public.consultation_detail, name="detail"),
    path(
        "consultations/<slug:slug>/calendrier.ics",
        feeds.consultation_calendar,
        name="consultation_calendar",
    ),
    path("consultations/<slug:slug>/classement/", participation.ranking, name="ranking"),
    path(
        "consultations/<slug:slug>/donnees/<int:version>/<str:filename>",
        open_data.download,
        name="open_data",
    ),
    path("donnees/catalogue.jsonld", open_data.catalog, name="open_data_catalog"),
    path(RESULTS, results.results_page, name="results"),
    path(RESULTS + "v<int:version>/", results.results_page, name="results_version"),
    path(RESULTS + "flux.atom", feeds.results_feed, name="results_feed"),
    path(RESULTS + "rapport/", results.report, name="report"),
    path(RESULTS + "v<int:version>/rapport/", results.report, name="report_version"),
    path("methodes/", results.methods, name="methods"),
    path(ITEM, public.item_detail, name="item"),
    path(ITEM + "vote/", participation.vote, name="vote"),
    path(ITEM + "note/", participation.grade, name="grade"),
    path(ITEM + "commentaires/", participation.comment_post, name="comment"),
    path(COMMENT + "repondre/", participation.comment_reply, name="comment_reply"),
    path(COMMENT + "modifier/", participation.comment_edit, name="comment_edit"),
    path(COMMENT + "supprimer/", participation.comment_delete, name="comment_delete"),
    path(COMMENT + "utile/", participation.comment_useful, name="comment_useful"),
    path("ma-participation/", participation.my_participation, name="my_participation"),
]
