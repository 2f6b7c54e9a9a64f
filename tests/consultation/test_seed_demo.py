"""`seed_demo` (run by `make run`): the demo consultations, created once."""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError

from consultation.models import (
    Ballot,
    Comment,
    ComputedResult,
    Consultation,
    Grade,
    Item,
    Membership,
    Theme,
    Vote,
)

pytestmark = pytest.mark.django_db
MANAGE = Path(__file__).resolve().parents[2] / "manage.py"
MODELS = [
    Consultation,
    Theme,
    Item,
    Vote,
    Grade,
    Ballot,
    Comment,
    Membership,
    ComputedResult,
    get_user_model(),
]


@pytest.fixture(autouse=True)
def local_development(settings):
    settings.DEBUG = True  # as `make run` sets it


def counts():
    return {model.__name__: model.objects.count() for model in MODELS}


def seed():
    out = io.StringIO()
    call_command("seed_demo", participants=60, stdout=out)
    return out.getvalue()


def test_seeding_twice_duplicates_nothing_and_prints_passwords_once():
    first_output = seed()
    first = counts()
    second_output = seed()
    assert counts() == first
    assert first_output.count("password:") == 4
    assert "password:" not in second_output


def test_the_programme_consultation_is_open_with_forty_measures_in_two_languages():
    seed()
    c = Consultation.objects.get(slug="numerique-en-commun")
    assert c.status == "open" and c.ranking_size == 5 and c.results_visibility == "live"
    assert c.voting_enabled and c.grading_enabled and c.ranking_enabled and c.comments_enabled
    assert c.items.count() >= 40
    assert c.themes.count() >= 5
    assert not c.items.filter(theme__isnull=True).exists()
    assert not c.items.filter(title_en="").exists() and not c.items.filter(summary_en="").exists()


def test_the_single_question_shows_results_only_after_close():
    seed()
    c = Consultation.objects.get(slug="reseaux-sociaux-moins-de-16-ans")
    assert c.items.count() == 1
    assert c.results_visibility == "after_close"
    assert c.voting_enabled and c.comments_enabled
    assert not (c.grading_enabled or c.ranking_enabled)


def test_the_closed_consultation_has_generated_participation():
    seed()
    c = Consultation.objects.get(slug="mediatheque-horaires-et-services")
    assert c.status == "closed"
    assert c.ballots.count() == 60
    assert Vote.objects.filter(item__consultation=c).exists()
    assert Grade.objects.filter(item__consultation=c).exists()
    # Invariants hold for generated data too: one vote per person per item.
    votes = Vote.objects.filter(item__consultation=c)
    assert votes.count() == votes.values("item", "user").distinct().count()


def test_the_closed_consultation_waits_for_its_organiser_with_results_computed():
    seed()
    closed = Consultation.objects.get(slug="mediatheque-horaires-et-services")
    final = ComputedResult.objects.get(consultation=closed, kind="final")
    assert final.results["methods"]["schulze"]["n_ballots"] == closed.ballots.count()
    assert closed.status == "closed"  # publishing is the organiser's act, not the seed's


def test_it_refuses_to_run_when_debug_is_off_and_creates_nothing(settings):
    settings.DEBUG = False
    before = counts()
    with pytest.raises(CommandError, match="DEBUG is off") as refusal:
        call_command("seed_demo", participants=60, stdout=io.StringIO())
    assert "--force" in str(refusal.value)
    assert counts() == before
    assert not get_user_model().objects.filter(is_superuser=True).exists()


def test_from_the_command_line_the_refusal_exits_non_zero(tmp_path):
    """As an operator would run it on a production server (DEBUG unset)."""
    environment = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "SECRET_KEY": "k" * 60,
        "ALLOWED_HOSTS": "consultation.example.org",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'production.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, str(MANAGE), "seed_demo"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "DEBUG is off" in result.stderr and "--force" in result.stderr
    assert "password:" not in result.stdout


def test_force_seeds_even_when_debug_is_off(settings):
    settings.DEBUG = False
    out = io.StringIO()
    call_command("seed_demo", participants=60, force=True, stdout=out)
    assert out.getvalue().count("password:") == 4
    assert Consultation.objects.filter(slug="numerique-en-commun").exists()


def test_force_is_documented_in_the_help(capsys):
    with pytest.raises(SystemExit):
        ManagementUtility(["manage.py", "seed_demo", "--help"]).execute()
    assert "--force" in capsys.readouterr().out
