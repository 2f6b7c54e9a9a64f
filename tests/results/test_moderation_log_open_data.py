"""The public moderation log is part of the published open data: listed and hashed in the
manifest, frozen per version, naming nobody, without notes or comment text; and the ballot
files beside it still recount and verify."""

import csv
import io
import json
import subprocess
import sys

import pytest
from django.conf import settings
from django.urls import reverse

from consultation.counting import opendata as formats
from consultation.models import Appeal, Membership, Rule
from consultation.moderation import appeals, decisions, reports
from consultation.moderation import log as moderation_log
from consultation.participation import debate
from consultation.results import computing, opendata, publishing
from tests.factories import add_member, close
from tests.support.accounts import enable_totp

pytestmark = pytest.mark.django_db
FILES = ("moderation_log.csv", "moderation_log.json")
COMMENT = "Ce commentaire insulte Bérénice nommément."
NOTE = "Note privée pour l’auteur : attaque personnelle."
REPORT = "Signalement détaillé par Rita."
APPEAL = "Je maintiens que c’était une critique."


@pytest.fixture
def moderated(voted, make_user, moderator, organiser):
    """A consultation with a hidden comment (reported, appealed), a warning and an
    appeal still pending, closed and counted; and the people involved."""
    consultation = voted(6, seed=3, items=3)
    add_member(consultation, moderator, Membership.Role.MODERATOR)
    colleague = make_user("mia@example.org", display_name="Mia Modératrice")
    enable_totp(colleague)
    add_member(consultation, colleague, Membership.Role.MODERATOR)
    author = make_user("alex@example.org", display_name="Alex Auteur")
    reporter = make_user("rita@example.org", display_name="Rita Rapporteuse")
    item = consultation.items.first()
    comment = debate.post_comment(author, item, COMMENT, "against")
    reports.report_comment(reporter, comment, Rule.OTHER, REPORT)
    hidden = decisions.hide(moderator, comment, Rule.INSULT, NOTE)
    appeal = appeals.appeal(author, hidden, APPEAL)
    warning = decisions.warn(moderator, author, consultation, Rule.OFF_TOPIC, NOTE)
    appeals.appeal(author, warning, APPEAL)
    close(consultation)
    computing.compute_results(consultation.pk, "final")
    people = {"author": author, "reporter": reporter, "colleague": colleague, "mod": moderator}
    return consultation, appeal, people


def published_files(publication):
    directory = opendata.version_dir(publication.consultation, publication.version)
    return directory, {f["name"]: f["sha256"] for f in publication.manifest["files"]}


def test_the_log_is_published_listed_and_hashed_in_the_manifest(moderated, organiser):
    consultation, _appeal, _people = moderated
    publication = publishing.publish(consultation, organiser)
    directory, listed = published_files(publication)
    for name in FILES:
        assert listed[name] == formats.sha256_file(directory / name)

    document = json.loads((directory / "moderation_log.json").read_text(encoding="utf-8"))
    rows = moderation_log.entries(consultation)
    assert document["format"] == "agora-moderation-log/1"
    assert document["consultation"] == consultation.slug
    assert document["entries"] == rows
    assert document["summary"] == moderation_log.summary(consultation, rows)
    assert [(row["action"], row["rule"], row["role"], row["appeal"]) for row in rows] == [
        ("hide", "insult", "moderator", "pending"),
        ("warn", "off_topic", "moderator", "pending"),
    ]
    assert document["summary"]["per_rule"]["insult"] == 1

    text = (directory / "moderation_log.csv").read_text(encoding="utf-8")
    table = list(csv.DictReader(io.StringIO(text, newline="")))
    assert list(table[0]) == moderation_log.FIELDS
    assert [int(row["decision"]) for row in table] == [row["decision"] for row in rows]
    assert table[0]["comment"] == str(rows[0]["comment"]) and table[1]["comment"] == ""


def test_the_published_log_names_nobody_and_holds_no_note_or_text(moderated, organiser):
    consultation, _appeal, people = moderated
    directory, _listed = published_files(publishing.publish(consultation, organiser))
    for name in FILES:
        content = (directory / name).read_text(encoding="utf-8")
        for secret in (COMMENT, NOTE, REPORT, APPEAL, "Bérénice", "@example.org"):
            assert secret not in content, (name, secret)
        for person in people.values():
            assert person.display_name not in content, (name, person)


def test_each_version_freezes_the_log_as_it_stood(moderated, organiser):
    consultation, appeal, people = moderated
    first = publishing.publish(consultation, organiser)
    # After the vote, a colleague answers the appeal: the next version shows it.
    appeals.decide(people["colleague"], appeal, grant=True, reason="Critique recevable.")
    second = publishing.publish(consultation, organiser, note="Recours tranché.")
    first_dir, first_listed = published_files(first)
    second_dir, second_listed = published_files(second)
    first_log = json.loads((first_dir / "moderation_log.json").read_text(encoding="utf-8"))
    second_log = json.loads((second_dir / "moderation_log.json").read_text(encoding="utf-8"))
    assert [row["action"] for row in first_log["entries"]] == ["hide", "warn"]
    assert [row["action"] for row in second_log["entries"]] == ["hide", "warn", "appeal_granted"]
    assert second_log["entries"][0]["appeal"] == Appeal.Status.GRANTED
    assert second_log["entries"][2]["answers_decision"] == appeal.decision_id
    assert first_listed["moderation_log.json"] != second_listed["moderation_log.json"]
    assert first_listed["moderation_log.json"] == formats.sha256_file(
        first_dir / "moderation_log.json"
    )
    assert "Critique recevable." not in (second_dir / "moderation_log.csv").read_text()


def test_an_unmoderated_consultation_publishes_an_empty_log(voted, organiser):
    consultation = close(voted(5))
    computing.compute_results(consultation.pk, "final")
    directory, listed = published_files(publishing.publish(consultation, organiser))
    assert set(FILES) <= set(listed)
    document = json.loads((directory / "moderation_log.json").read_text(encoding="utf-8"))
    assert document["entries"] == [] and document["summary"]["decisions"] == 0
    assert (directory / "moderation_log.csv").read_text() == ",".join(moderation_log.FIELDS) + "\n"


def test_the_log_is_downloaded_like_every_published_file(client, moderated, organiser):
    consultation, _appeal, _people = moderated
    publishing.publish(consultation, organiser)
    for name, content_type in zip(FILES, ("text/csv", "application/json"), strict=True):
        response = client.get(
            reverse(
                "consultation:open_data",
                kwargs={"slug": consultation.slug, "version": 1, "filename": name},
            )
        )
        assert response.status_code == 200
        assert response["Content-Type"].startswith(content_type)


def recount(*args):
    return subprocess.run(
        [sys.executable, "-m", "consultation.counting", "recount", *map(str, args)],
        cwd=settings.BASE_DIR,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_ballot_files_beside_the_log_still_verify(moderated, organiser):
    consultation, _appeal, _people = moderated
    directory, _listed = published_files(publishing.publish(consultation, organiser))
    for name in ("rankings.csv", "grades.csv", "votes.csv"):
        out = recount(directory / name, "--verify", directory / "results.json")
        assert out.returncode == 0, out.stdout + out.stderr
        assert out.stdout.strip().splitlines()[-1] == "OK"
