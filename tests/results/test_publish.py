"""Publishing: closed → published, versions, frozen numbers, official responses."""

import json

import pytest
from django.conf import settings
from django.db import IntegrityError, transaction

from accounts import lifecycle as accounts_lifecycle
from accounts import privacy
from consultation.errors import Conflict, Invalid, NotAllowed
from consultation.models import Consultation, Membership, OfficialResponse, Publication
from consultation.results import computing, opendata, publishing, reading
from tests.factories import add_member, close

pytestmark = pytest.mark.django_db
S = Consultation.Status


@pytest.fixture
def counted(voted):
    """A closed consultation whose final results are computed."""
    consultation = close(voted(5))
    computing.compute_results(consultation.pk, "final")
    return consultation


def test_publishing_records_who_when_and_moves_to_published(counted, organiser):
    publication = publishing.publish(counted, organiser)
    counted.refresh_from_db()
    assert counted.status == S.PUBLISHED
    assert (publication.version, publication.published_by, publication.published_by_name) == (
        1,
        organiser,
        "Odile",
    )
    document = publication.results
    assert document["version"] == 1 and document["consultation"] == counted.slug
    assert document["methods"] == counted.computed_results.get(kind="final").results["methods"]
    directory = opendata.version_dir(counted, 1)
    assert (directory / "results.json").read_text() == publication.results_json
    assert (directory / "manifest.json").read_text() == publication.manifest_json
    listed = {f["name"]: f["sha256"] for f in publication.manifest["files"]}
    assert set(listed) == {
        "items.csv",
        "items.json",
        "rankings.csv",
        "rankings.json",
        "grades.csv",
        "grades.json",
        "votes.csv",
        "votes.json",
        "moderation_log.csv",
        "moderation_log.json",
        "results.json",
        "card.json",  # the declared rule, frozen at opening (issue 14)
        # comments, participation, licence, schemas, data package, DCAT-AP (issue 14)
        "comments.csv",
        "participation.csv",
        "LICENCE.txt",
        "datapackage.json",
        "dcat.jsonld",
        *(f"{stem}.schema.json" for stem in ("items", "rankings", "grades", "votes")),
        *(f"{stem}.schema.json" for stem in ("comments", "participation", "moderation_log")),
    }
    for name, digest in listed.items():
        assert opendata.formats.sha256_file(directory / name) == digest
    assert document["computed_from"]["rankings.csv"] == listed["rankings.csv"]


def test_republishing_creates_a_new_version_and_keeps_the_old_one(counted, organiser):
    first = publishing.publish(counted, organiser)
    with pytest.raises(Invalid) as refusal:
        publishing.publish(counted, organiser)
    assert refusal.value.code == "note_required"
    second = publishing.publish(counted, organiser, note="Réponses officielles ajoutées.")
    assert second.version == 2 and second.note == "Réponses officielles ajoutées."
    assert [p.version for p in reading.publication_versions(counted)] == [2, 1]
    assert reading.published_results(counted).pk == second.pk
    assert reading.published_results(counted, 1).results_json == first.results_json
    assert reading.published_results(counted, 3) is None
    assert opendata.version_dir(counted, 1).is_dir() and opendata.version_dir(counted, 2).is_dir()
    assert Consultation.objects.get(pk=counted.pk).status == S.PUBLISHED


def test_a_publication_cannot_be_changed_by_code_or_by_sql(counted, organiser):
    publication = publishing.publish(counted, organiser)
    publication.note = "Rewritten"
    with pytest.raises(ValueError):
        publication.save()
    for field, value in (("results_json", "{}"), ("note", "x"), ("version", 7)):
        with pytest.raises(IntegrityError), transaction.atomic():
            Publication.objects.filter(pk=publication.pk).update(**{field: value})
    assert Publication.objects.get(pk=publication.pk).results_json == publication.results_json


def test_the_admin_shows_publications_read_only(counted, organiser, staff, rf):
    from django.contrib import admin

    publication = publishing.publish(counted, organiser)
    request = rf.get("/admin/")
    request.user = staff
    model_admin = admin.site._registry[Publication]
    assert model_admin.has_view_permission(request, publication)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, publication)
    assert not model_admin.has_delete_permission(request, publication)


def test_publishing_waits_for_the_close_and_for_the_results(voted, organiser):
    consultation = voted(3)
    with pytest.raises(Conflict) as refusal:
        publishing.publish(consultation, organiser)
    assert refusal.value.code == "not_closed"
    close(consultation)
    with pytest.raises(Conflict) as refusal:
        publishing.publish(consultation, organiser)
    assert refusal.value.code == "results_not_computed"
    assert not Publication.objects.exists()


def test_only_its_organisers_may_publish(counted, make_user, moderator):
    add_member(counted, moderator, Membership.Role.MODERATOR)
    for person in (make_user(), moderator, make_user(is_organiser=True)):
        with pytest.raises(NotAllowed) as refusal:
            publishing.publish(counted, person)
        assert refusal.value.code == "not_organiser"
    assert not Publication.objects.exists()


def test_official_responses_are_frozen_into_each_version(counted, organiser):
    first, second = counted.items.order_by("position", "id")[:2]
    publishing.set_official_response(
        organiser, first, "Nous la mettrons en œuvre.", "We will do it."
    )
    v1 = publishing.publish(counted, organiser)
    publishing.set_official_response(organiser, first, "Nous l'étudierons.")
    publishing.set_official_response(organiser, second, "Écartée.")
    v2 = publishing.publish(counted, organiser, note="Réponses révisées.")
    assert v1.results["official_responses"] == {
        str(first.pk): {
            "text": "Nous la mettrons en œuvre.",
            "text_en": "We will do it.",
            "author": "Odile",
            "updated_at": v1.results["official_responses"][str(first.pk)]["updated_at"],
        }
    }
    assert Publication.objects.get(version=1).results == v1.results  # unchanged
    responses = v2.results["official_responses"]
    assert responses[str(first.pk)]["text"] == "Nous l'étudierons."
    assert responses[str(first.pk)]["text_en"] == ""
    assert responses[str(second.pk)]["text"] == "Écartée."
    publishing.set_official_response(organiser, second, "")  # removing a draft
    assert not OfficialResponse.objects.filter(item=second).exists()


def test_official_responses_wait_for_the_close_and_need_french(voted, organiser, citizen):
    consultation = voted(2)
    item = consultation.items.first()
    with pytest.raises(Conflict):
        publishing.set_official_response(organiser, item, "Trop tôt.")
    close(consultation)
    item.consultation.refresh_from_db()
    with pytest.raises(NotAllowed):
        publishing.set_official_response(citizen, item, "Pas moi.")
    with pytest.raises(Invalid) as refusal:
        publishing.set_official_response(organiser, item, "", "English only")
    assert refusal.value.code == "french_required"


def test_the_review_shows_what_publishing_would_freeze(counted, organiser, citizen):
    review = reading.review_results(organiser, counted)
    assert review.results["methods"] and review.latest is None and review.can_publish
    assert review.changed_since_latest
    publishing.publish(counted, organiser)
    review = reading.review_results(organiser, counted)
    assert review.latest.version == 1 and not review.changed_since_latest
    with pytest.raises(NotAllowed):
        reading.review_results(citizen, counted)


def test_an_organiser_who_deletes_their_account_stays_named_on_what_they_published(
    counted, organiser
):
    item = counted.items.first()
    publishing.set_official_response(organiser, item, "Réponse.")
    publishing.publish(counted, organiser)
    exported = privacy.export_all(organiser)["participation"]
    assert exported["published_results"][0]["version"] == 1
    assert exported["official_responses"][0]["text"] == "Réponse."
    accounts_lifecycle.delete_account(organiser)
    publication = Publication.objects.get()
    assert publication.published_by is None and publication.published_by_name == "Odile"
    assert json.loads(publication.results_json)["official_responses"][str(item.pk)]["author"] == (
        "Odile"
    )
    assert OfficialResponse.objects.get(item=item).author is None


def test_the_published_files_live_under_media_root(counted, organiser):
    publishing.publish(counted, organiser)
    assert opendata.version_dir(counted, 1) == (
        settings.MEDIA_ROOT / "opendata" / counted.slug / "v1"
    )
