"""French by default, English on request; every string translated."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_pages_are_french_by_default(client):
    response = client.get(reverse("home"))
    assert b'<html lang="fr"' in response.content
    assert "Aller au contenu principal" in response.content.decode()


def test_switching_language_renders_english(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    response = client.get(reverse("home"))
    assert b'<html lang="en"' in response.content
    assert "Skip to main content" in response.content.decode()


def test_a_visitor_switches_without_a_token_but_a_signed_in_person_needs_one(citizen):
    """The anonymous pages carry no CSRF token, so they can be cached whole (decision
    0039); a signed-in person's choice is saved on the account, so it is guarded."""
    from django.test import Client

    from tests.support.accounts import login

    visitor = Client(enforce_csrf_checks=True)
    page = visitor.get(reverse("home")).content.decode()
    assert "csrfmiddlewaretoken" not in page
    response = visitor.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert b'<html lang="en"' in visitor.get(reverse("home")).content

    signed_in = login(Client(enforce_csrf_checks=True), citizen)
    forged = signed_in.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert forged.status_code == 403
    citizen.refresh_from_db()
    assert citizen.preferred_language != "en"
    page = signed_in.get(reverse("home")).content.decode()
    token = page.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    answer = signed_in.post(
        reverse("set_language"), {"language": "en", "next": "/", "csrfmiddlewaretoken": token}
    )
    assert answer.status_code == 302
    citizen.refresh_from_db()
    assert citizen.preferred_language == "en"


def test_the_choice_is_remembered_on_the_account(client_for, citizen):
    client = client_for(citizen)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    citizen.refresh_from_db()
    assert citizen.preferred_language == "en"
    # Another browser, no language cookie: the account's language wins.
    client.cookies.clear()
    client.force_login(citizen)
    assert b'<html lang="en"' in client.get(reverse("home")).content


def test_switching_language_works_without_javascript(client):
    content = client.get(reverse("home")).content.decode()
    assert 'action="/i18n/setlang/"' in content
    assert 'type="submit"' in content


def test_every_string_has_a_french_translation(tmp_path):
    """Extract strings from a copy of the sources and check none lacks French."""
    root = Path(settings.BASE_DIR)
    copy = tmp_path / "src"
    shutil.copytree(
        root,
        copy,
        ignore=shutil.ignore_patterns(".venv", "var", ".git", "node_modules", "__pycache__"),
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "fr", "--no-obsolete", "-v", "0"],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=120,
        env={"DEBUG": "true", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    stats = subprocess.run(
        ["msgfmt", "--statistics", "-o", "/dev/null", "locale/fr/LC_MESSAGES/django.po"],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert stats.returncode == 0, stats.stderr
    assert "untranslated" not in stats.stderr and "fuzzy" not in stats.stderr, stats.stderr


def test_the_grade_scales_are_named_in_the_page_language():
    from django.utils import translation

    from consultation.models import Consultation

    with translation.override("en"):
        labels = [str(label) for _value, label in Consultation.GradeScale.choices]
        assert labels == ["6 grades (Very good … To reject)", "7 grades (Excellent … To reject)"]
    with translation.override("fr"):
        labels = [str(label) for _value, label in Consultation.GradeScale.choices]
        assert labels == [
            "6 mentions (Très bien … À rejeter)",
            "7 mentions (Excellent … À rejeter)",
        ]
