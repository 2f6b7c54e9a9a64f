"""`seed_demo` (run by `make run`): the demo consultations, created once."""

import io
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError
from django.utils import timezone

from consultation import permissions
from consultation.models import (
    Appeal,
    Ballot,
    Charter,
    Comment,
    ComputedResult,
    Consultation,
    Decision,
    Grade,
    Item,
    Membership,
    Notice,
    Report,
    Suspension,
    Theme,
    Vote,
)
from consultation.moderation import appeals, reports
from consultation.moderation import log as moderation_log
from consultation.participation import debate
from consultation.queries import fold
from tests.support.accounts import enable_totp

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
    Report,
    Decision,
    Appeal,
    Suspension,
    Notice,
    Charter,
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


def test_every_demo_comment_can_be_found_by_a_search_of_its_debate():
    """The demo writes each comment's folded copy as the site does (what a search reads)."""
    seed()
    comments = Comment.objects.all()
    assert comments.filter(item__consultation__slug="mediatheque-horaires-et-services").exists()
    assert comments.filter(moderation=Comment.Moderation.HIDDEN).exists()  # the reported ones
    assert all(c.folded_body == fold(c.body) != "" for c in comments)


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


def demo(email):
    return get_user_model().objects.get(email=email)


def test_the_demo_moderator_finds_a_queue_a_held_comment_and_an_appeal_to_answer():
    output = seed()
    numerique = Consultation.objects.get(slug="numerique-en-commun")
    assert numerique.quarantine_threshold == 3
    assert "reported comments for the moderators" in output
    moderator = demo("moderateur@demo.agora.test")
    enable_totp(moderator)  # as the demo asks of them on their first visit

    queue = reports.queue(permissions.moderated_consultations(moderator))
    assert len(queue) == 3
    assert all(entry["comment"].item.consultation == numerique for entry in queue)
    held = queue[0]["comment"]  # set aside, its author waiting: the most urgent
    assert held.is_held and held.held_because == Comment.Held.REPORTS
    assert queue[0]["reporters"] == 3 and queue[0]["rules"] == [("spam", 3)]
    assert sorted(entry["reporters"] for entry in queue) == [1, 2, 3]

    [hidden] = Comment.objects.filter(moderation=Comment.Moderation.HIDDEN)
    [decision] = Decision.objects.filter(comment=hidden)
    assert (decision.action, decision.rule, decision.role) == ("hide", "insult", "staff")
    assert decision.subject == hidden.author and decision.note
    assert set(hidden.reports.values_list("status", flat=True)) == {Report.Status.UPHELD}
    [appeal] = Appeal.objects.filter(status=Appeal.Status.PENDING)
    assert appeal.decision == decision and appeal.appellant == hidden.author
    assert Notice.objects.filter(user=hidden.author, kind=Notice.Kind.MODERATION).exists()
    # The demo moderator did not decide it: they may answer the appeal.
    assert permissions.can_decide_appeal(moderator, appeal)
    appeals.decide(moderator, appeal, grant=False, reason="L’insulte vise des personnes.")
    assert [row["action"] for row in moderation_log.entries(numerique)] == [
        "hide",
        "appeal_rejected",
    ]


def test_the_demo_citizen_reported_and_finds_notices():
    seed()
    citizen = demo("citoyenne@demo.agora.test")
    assert Report.objects.filter(reporter=citizen).count() == 2
    statuses = sorted(
        notice.data["status"] for notice in Notice.objects.filter(user=citizen, kind="report")
    )
    assert statuses == ["open", "open", "upheld"]


def test_the_demo_accounts_are_past_the_new_account_limits(settings):
    seed()
    young = timezone.now() - timedelta(hours=settings.MODERATION_NEW_ACCOUNT_HOURS)
    accounts = get_user_model().objects.filter(email__endswith="demo.agora.test")
    assert accounts.count() > 4
    assert not accounts.filter(date_joined__gt=young).exists()
    # The demo citizen can post a link straight away.
    citizen = demo("citoyenne@demo.agora.test")
    item = Consultation.objects.get(slug="numerique-en-commun").items.first()
    comment = debate.post_comment(citizen, item, "Voir https://example.org/rapport.", "for")
    assert comment.moderation == Comment.Moderation.VISIBLE
