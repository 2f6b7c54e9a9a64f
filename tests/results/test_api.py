"""The results API: published versions, their files, JSON refusals."""

import pytest

from consultation.results import computing, publishing
from tests.factories import close
from tests.support.api import ApiClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return ApiClient()


@pytest.fixture
def counted(voted):
    consultation = close(voted(4))
    computing.compute_results(consultation.pk, "final")
    return consultation


def test_published_results_latest_and_by_version(api, counted, organiser):
    publishing.publish(counted, organiser)
    publishing.publish(counted, organiser, note="Correction.")
    body = api.get(f"/consultations/{counted.slug}/results/published").json()
    assert (body["version"], body["latest_version"], body["note"]) == (2, 2, "Correction.")
    assert body["published_by"] == "Odile"
    assert body["results"]["format"] == "agora-results/1"
    assert body["results"]["version"] == 2
    names = {f["name"] for f in body["files"]}
    assert {"rankings.csv", "results.json"} <= names
    assert body["manifest_url"].endswith("/donnees/2/manifest.json")
    older = api.get(f"/consultations/{counted.slug}/results/published?version=1").json()
    assert older["version"] == 1 and older["latest_version"] == 2


def test_versions_are_listed_newest_first(api, counted, organiser):
    assert api.get(f"/consultations/{counted.slug}/results/versions").json() == []
    publishing.publish(counted, organiser)
    publishing.publish(counted, organiser, note="Pourquoi.")
    versions = api.get(f"/consultations/{counted.slug}/results/versions").json()
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[0]["note"] == "Pourquoi."


def test_the_open_data_manifest(api, counted, organiser):
    publishing.publish(counted, organiser)
    body = api.get(f"/consultations/{counted.slug}/open-data").json()
    assert body["version"] == 1
    assert body["manifest"]["format"] == "agora-manifest/1"
    assert all(len(f["sha256"]) == 64 for f in body["files"])


def test_unpublished_results_are_a_json_404(api, counted):
    for path in ("/results/published", "/open-data", "/results/published?version=1"):
        response = api.get(f"/consultations/{counted.slug}{path}")
        assert response.status_code == 404
        assert response.json()["code"] == "not_published"


def test_a_missing_or_malformed_version_is_refused_in_json(api, counted, organiser):
    publishing.publish(counted, organiser)
    response = api.get(f"/consultations/{counted.slug}/results/published?version=9")
    assert response.status_code == 404 and response.json()["code"] == "version_not_found"
    for bad in ("0", "-1", "two", "99999999999999999999"):
        response = api.get(f"/consultations/{counted.slug}/results/published?version={bad}")
        assert response.status_code == 422, bad
        assert response.json()["code"] == "invalid_input"


def test_drafts_have_no_results(api, organiser):
    from tests.factories import make_consultation

    draft = make_consultation(status="draft", organiser=organiser)
    response = api.get(f"/consultations/{draft.slug}/results/versions")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
