"""Published open data is downloadable, with the right types; nothing else is."""

import pytest
from django.urls import reverse

from consultation.results import computing, opendata, publishing
from tests.factories import close

pytestmark = pytest.mark.django_db


def url(consultation, version, name):
    return reverse(
        "consultation:open_data",
        kwargs={"slug": consultation.slug, "version": version, "filename": name},
    )


@pytest.fixture
def counted(voted):
    consultation = close(voted(4))
    computing.compute_results(consultation.pk, "final")
    return consultation


def test_published_files_download_with_their_type_and_name(client, counted, organiser):
    publishing.publish(counted, organiser)
    response = client.get(url(counted, 1, "rankings.csv"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="{counted.slug}-v1-rankings.csv"'
    )
    body = b"".join(response.streaming_content)
    assert body == (opendata.version_dir(counted, 1) / "rankings.csv").read_bytes()
    for name in ("results.json", "manifest.json", "items.json"):
        response = client.get(url(counted, 1, name))
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json; charset=utf-8"


def test_nothing_is_served_before_publication_or_outside_the_manifest(client, counted, organiser):
    assert client.get(url(counted, 1, "rankings.csv")).status_code == 404
    assert client.get(url(counted, 1, "manifest.json")).status_code == 404
    publishing.publish(counted, organiser)
    assert client.get(url(counted, 2, "rankings.csv")).status_code == 404
    assert client.get(url(counted, 1, "secrets.txt")).status_code == 404
    assert client.get(url(counted, 1, "..")).status_code == 404
