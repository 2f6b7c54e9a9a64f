"""What a visitor sees when something is broken: always the site's error page, never a bare
error from the server, even when what the page itself needs (the static manifest) is missing."""

import pytest
from django.test import Client, override_settings

from tests.support.html import problems

MANIFEST_STORAGE = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "servestatic.storage.CompressedManifestStaticFilesStorage"},
}


def get_boom():
    return Client(raise_request_exception=False).get("/boom/")


@pytest.mark.django_db
@override_settings(ROOT_URLCONF="tests.config.urls_boom", DEBUG=False)
def test_a_server_error_answers_the_error_page():
    response = get_boom()
    assert response.status_code == 500
    assert b"Une erreur est survenue" in response.content
    assert b"Server error" in response.content
    assert problems(response.content) == []


@pytest.mark.django_db
def test_the_error_page_renders_without_the_static_manifest(tmp_path):
    # collectstatic never ran into this directory: no manifest, so {% static %} would raise.
    with override_settings(
        ROOT_URLCONF="tests.config.urls_boom",
        DEBUG=False,
        STATIC_ROOT=tmp_path,
        STORAGES=MANIFEST_STORAGE,
    ):
        response = get_boom()
    assert response.status_code == 500
    assert b"Une erreur est survenue" in response.content
    assert b"Server error" in response.content
    assert problems(response.content) == []


@pytest.mark.django_db
def test_the_error_page_still_links_its_stylesheet_when_it_can():
    with override_settings(ROOT_URLCONF="tests.config.urls_boom", DEBUG=False):
        response = get_boom()
    assert b'rel="stylesheet"' in response.content
    assert b"/static/css/agora" in response.content
