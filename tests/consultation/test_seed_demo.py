"""`seed_demo` (run by `make run`): the demo consultations, created once."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

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
