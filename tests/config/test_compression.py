"""HTML is sent compressed to visitors and as it is to logged-in people (decision 0038,
config/compression.py): BREACH needs a secret in a compressed body that also reflects the
attacker's input, and only a logged-in person's pages hold one."""

import gzip

import pytest
from django.urls import reverse

from tests.factories import make_consultation
from tests.support.accounts import login

pytestmark = pytest.mark.django_db
GZIP = {"HTTP_ACCEPT_ENCODING": "gzip, deflate, br"}


def test_a_visitor_gets_the_consultation_page_compressed(client):
    consultation = make_consultation(items=12)
    response = client.get(consultation.get_absolute_url() + "?q=mesure", **GZIP)
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    page = gzip.decompress(response.content).decode()
    assert consultation.display_title in page
    assert len(response.content) < len(page) / 3
    # The CSRF token a form carries differs in each response, so it cannot be guessed at.
    again = gzip.decompress(client.get(reverse("account_login"), **GZIP).content).decode()
    other = gzip.decompress(client.get(reverse("account_login"), **GZIP).content).decode()
    token = 'name="csrfmiddlewaretoken" value="'
    assert again.split(token)[1][:64] != other.split(token)[1][:64]


def test_a_logged_in_person_gets_their_pages_uncompressed(client, citizen):
    consultation = make_consultation(items=12)
    login(client, citizen)
    for address in (consultation.get_absolute_url() + "?q=mesure", reverse("accounts:profile")):
        response = client.get(address, **GZIP)
        assert response.status_code == 200, address
        assert not response.has_header("Content-Encoding"), address
        assert response.content.decode().startswith("<!DOCTYPE html>"), address


def test_downloads_and_the_api_are_not_compressed_again(client):
    consultation = make_consultation(items=3)
    response = client.get(f"/api/v1/consultations/{consultation.slug}/live", **GZIP)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert not response.has_header("Content-Encoding")
