"""Participation in "my data", and what deleting an account does to it."""

import json
from types import SimpleNamespace

import pytest

from accounts import lifecycle, privacy
from accounts.models import User
from consultation.models import (
    Appeal,
    Ballot,
    Comment,
    Consultation,
    Decision,
    Grade,
    Membership,
    Notice,
    Report,
    Rule,
    Suspension,
    Vote,
)
from consultation.moderation import appeals, decisions, reports
from consultation.moderation import log as moderation_log
from consultation.participation import debate, voting
from tests.factories import add_member, make_consultation
from tests.support.accounts import enable_totp

pytestmark = pytest.mark.django_db


def take_part(user, consultation):
    item = consultation.items.first()
    voting.cast_vote(user, item, "for")
    voting.grade_item(user, item, 5)
    voting.submit_ballot(user, consultation, [item.pk])
    return debate.post_comment(user, item, "Mon avis", "against")


def test_the_export_contains_votes_grades_rankings_and_comments(citizen):
    consultation = make_consultation()
    take_part(citizen, consultation)
    data = privacy.export_all(citizen)["participation"]
    item = consultation.items.first()
    assert [(v["item"], v["choice"]) for v in data["votes"]] == [(item.pk, "for")]
    assert [(g["item"], g["grade"]) for g in data["grades"]] == [(item.pk, 5)]
    assert data["rankings"][0]["ranked_item_ids"] == [item.pk]
    assert [c["body"] for c in data["comments"]] == ["Mon avis"]


def test_deletion_removes_open_ballots_and_anonymises_closed_ones(citizen, make_user):
    still_open = make_consultation()
    closed = make_consultation()
    take_part(citizen, still_open)
    reply_to = take_part(citizen, closed)
    reply = debate.post_comment(make_user(), closed.items.first(), "Réponse", "for", reply_to)
    Consultation.objects.filter(pk=closed.pk).update(status=Consultation.Status.CLOSED)

    lifecycle.delete_account(citizen)

    # The open consultation: as if this person had never voted.
    assert not Vote.objects.filter(item__consultation=still_open).exists()
    assert not Grade.objects.filter(item__consultation=still_open).exists()
    assert not Ballot.objects.filter(consultation=still_open).exists()
    # The closed one: the ballots still count, but belong to nobody.
    assert list(Vote.objects.filter(item__consultation=closed).values_list("user", "choice")) == [
        (None, "for")
    ]
    assert list(Grade.objects.filter(item__consultation=closed).values_list("user", flat=True)) == [
        None
    ]
    assert list(Ballot.objects.filter(consultation=closed).values_list("user", flat=True)) == [None]
    # Comments become placeholders; replies keep their place.
    placeholder = Comment.objects.get(pk=reply_to.pk)
    assert (placeholder.author, placeholder.body) == (None, "")
    assert placeholder.is_deleted
    assert Comment.objects.get(pk=reply.pk).parent_id == placeholder.pk
    assert not Comment.objects.filter(body="Mon avis").exists()


def test_nothing_about_a_deleted_account_remains_in_participation(citizen):
    consultation = make_consultation()
    take_part(citizen, consultation)
    pk = citizen.pk
    lifecycle.delete_account(citizen)
    for model in (Vote, Grade, Ballot):
        assert not model.objects.filter(user_id=pk).exists()
    assert not Comment.objects.filter(author_id=pk).exists()


def test_the_export_lists_roles_held_and_consultations_created(citizen, organiser):
    from consultation.models import Membership
    from consultation.organising import consultations
    from tests.factories import add_member

    created = consultations.create_consultation(
        organiser, {"slug": "ma-consultation", "title": "Ma consultation"}, []
    )
    moderated = make_consultation()
    add_member(moderated, organiser, Membership.Role.MODERATOR)
    data = privacy.export_all(organiser)["participation"]
    assert [(r["consultation"], r["role"]) for r in data["roles"]] == [
        ("ma-consultation", "organiser"),
        (moderated.slug, "moderator"),
    ]
    assert [
        (c["consultation"], c["title"], c["status"]) for c in data["consultations_created"]
    ] == [("ma-consultation", "Ma consultation", "draft")]
    assert privacy.export_all(citizen)["participation"]["roles"] == []
    assert created.created_by == organiser


# --- Moderation: reports, appeals, notices, decisions -------------------------------------


@pytest.fixture
def story(make_user, moderator):
    """Mia moderates one consultation and takes part in another: where she moderates, she
    hides Alex's comment; where she takes part, she reports a comment of his, her own
    comment is hidden, she is suspended, and she appeals both (one answered, one not)."""
    hers = make_consultation()
    elsewhere = make_consultation()
    mia = make_user("mia@example.org", display_name="Mia")
    nora = make_user("nora@example.org", display_name="Nora")
    alex = make_user("alex@example.org", display_name="Alex")
    for person, consultation in ((mia, hers), (moderator, elsewhere), (nora, elsewhere)):
        enable_totp(person)
        add_member(consultation, person, Membership.Role.MODERATOR)
    rude = debate.post_comment(alex, hers.items.first(), "Propos injurieux.", "against")
    taken = decisions.hide(mia, rude, Rule.INSULT, "Attaque personnelle.")
    spam = debate.post_comment(alex, elsewhere.items.first(), "Achetez ici.", "for")
    report = reports.report_comment(mia, spam, Rule.SPAM, "Publicité pour un site.")
    own = debate.post_comment(mia, elsewhere.items.first(), "Mon avis tranché.", "against")
    hidden = decisions.hide(moderator, own, Rule.OFF_TOPIC, "Hors sujet, désolé.")
    suspended = decisions.suspend(
        moderator, mia, elsewhere, Rule.OFF_TOPIC, "Trois hors-sujet.", days=7
    )
    answered = appeals.appeal(mia, hidden, "C’était dans le sujet.")
    appeals.decide(nora, answered, grant=False, reason="La décision est maintenue.")
    pending = appeals.appeal(mia, suspended, "Une semaine, c’est trop.")
    return SimpleNamespace(
        mia=mia,
        hers=hers,
        elsewhere=elsewhere,
        taken=taken,
        report=report,
        hidden=hidden,
        suspended=suspended,
        answered=answered,
        pending=pending,
    )


def test_the_export_holds_reports_appeals_notices_and_decisions(story):
    data = privacy.export_all(story.mia)["moderation"]
    assert [
        (r["consultation"], r["comment"], r["rule"], r["text"], r["status"])
        for r in data["reports"]
    ] == [
        (story.elsewhere.slug, story.report.comment_id, "spam", "Publicité pour un site.", "open")
    ]
    assert data["reports"][0]["created_at"] == story.report.created_at.isoformat()
    assert [(a["decision"], a["text"], a["status"]) for a in data["appeals"]] == [
        (story.hidden.pk, "C’était dans le sujet.", "rejected"),
        (story.suspended.pk, "Une semaine, c’est trop.", "pending"),
    ]
    # Her notices are in the notices' section (tests/notices/test_personal_data.py).
    notices = privacy.export_all(story.mia)["notices"]["notices"]
    kinds = [n["kind"] for n in notices]
    assert kinds == ["report", "moderation", "moderation", "appeal"]
    assert notices[1]["data"]["note"] == "Hors sujet, désolé."
    assert "notices" not in data
    assert [(d["action"], d["note"]) for d in data["decisions_about_you"]] == [
        ("hide", "Hors sujet, désolé."),
        ("suspend", "Trois hors-sujet."),
        ("appeal_rejected", "La décision est maintenue."),
    ]
    assert [(d["consultation"], d["action"], d["role"]) for d in data["decisions_taken"]] == [
        (story.hers.slug, "hide", "moderator")
    ]
    # Nobody else is named: not who decided about her, not whom she decided about.
    text = json.dumps(data, ensure_ascii=False)
    for name in ("Malik", "Nora", "Alex", "malik@", "nora@", "alex@"):
        assert name not in text, name


def log_of(*consultations):
    return [row for consultation in consultations for row in moderation_log.entries(consultation)]


def frozen_columns(decision_ids):
    return list(
        Decision.objects.filter(pk__in=decision_ids)
        .order_by("pk")
        .values_list("action", "rule", "note", "comment_id", "role", "answers_id", "created_at")
    )


def test_deleting_an_account_keeps_the_decision_log_and_removes_notices(story):
    mia_pk = story.mia.pk
    log_before = log_of(story.hers, story.elsewhere)
    ids = list(Decision.objects.values_list("pk", flat=True))
    columns_before = frozen_columns(ids)
    assert Notice.objects.filter(user=story.mia).exists()

    lifecycle.delete_account(story.mia)

    assert not User.objects.filter(pk=mia_pk).exists()
    # The log: every line still there, unchanged but for the names it no longer holds.
    assert frozen_columns(ids) == columns_before
    assert log_of(story.hers, story.elsewhere) != log_before  # the pending appeal is gone
    assert [
        {**row, "appeal": None if row["decision"] == story.suspended.pk else row["appeal"]}
        for row in log_before
    ] == log_of(story.hers, story.elsewhere)
    taken = Decision.objects.get(pk=story.taken.pk)
    about = Decision.objects.get(pk=story.hidden.pk)
    assert taken.moderator_id is None and about.subject_id is None
    assert Decision.objects.get(pk=story.suspended.pk).subject_id is None
    # Her notices and suspension go; her words as reporter and appellant go too.
    assert not Notice.objects.filter(user_id=mia_pk).exists()
    assert not Suspension.objects.filter(user_id=mia_pk).exists()
    report = Report.objects.get(pk=story.report.pk)
    assert (report.reporter_id, report.text, report.rule) == (None, "", "spam")
    answered = Appeal.objects.get(pk=story.answered.pk)
    assert (answered.appellant_id, answered.text, answered.status) == (None, "", "rejected")
    assert not Appeal.objects.filter(pk=story.pending.pk).exists()
