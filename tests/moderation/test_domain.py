"""Moderation with due process, through the domain: reports, quarantine, decisions, appeals,
suspensions, the append-only log, spam rules. Pages, API and live frames have their own
files; this one says what holds whatever the door."""

from datetime import timedelta

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from consultation import permissions
from consultation.errors import Conflict, Invalid, NotAllowed, TooMany
from consultation.models import (
    Appeal,
    Ballot,
    Comment,
    Decision,
    Grade,
    Membership,
    Notice,
    Report,
    Rule,
    Suspension,
    Vote,
)
from consultation.moderation import appeals, charter, decisions, reports
from consultation.moderation import log as moderation_log
from consultation.participation import debate, voting
from tests.factories import add_member, make_consultation
from tests.support.accounts import enable_totp

pytestmark = pytest.mark.django_db
A = Decision.Action


@pytest.fixture
def old(make_user):
    """``old(...)``: a participant whose account is past the new-account limits."""

    def make(*args, **kwargs):
        user = make_user(*args, **kwargs)
        user.date_joined = timezone.now() - timedelta(days=30)
        user.save(update_fields=["date_joined"])
        return user

    return make


@pytest.fixture
def place(old, moderator, organiser):
    consultation = make_consultation(organiser=organiser)
    add_member(consultation, moderator, Membership.Role.MODERATOR)
    item = consultation.items.first()
    author = old("alex@example.org", display_name="Alex")
    comment = debate.post_comment(author, item, "Un commentaire insultant.")
    return consultation, item, author, comment


@pytest.fixture
def colleague(make_user, place):
    consultation = place[0]
    user = make_user("mia@example.org", display_name="Mia")
    enable_totp(user)
    add_member(consultation, user, Membership.Role.MODERATOR)
    return user


@pytest.mark.django_db(transaction=True)
def test_report_hide_notice_appeal_by_a_colleague_and_the_public_log(
    place, old, moderator, colleague, django_capture_on_commit_callbacks, mailbox, celery_worker
):
    consultation, _item, author, comment = place
    reporter = old("rita@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        report = reports.report_comment(reporter, comment, Rule.INSULT, "")
    assert report.status == Report.Status.OPEN
    # The reporter is told it was received; the comment waits in the queue.
    assert Notice.objects.get(user=reporter).data["status"] == "open"
    [entry] = reports.queue(permissions.moderated_consultations(moderator))
    assert entry["comment"] == comment and entry["reporters"] == 1
    assert entry["rules"] == [(Rule.INSULT, 1)]

    with django_capture_on_commit_callbacks(execute=True):
        decision = decisions.hide(moderator, comment, Rule.INSULT, "Pas d’attaques personnelles.")
    comment.refresh_from_db()
    assert comment.is_hidden and comment.hidden_rule_number == Rule.number(Rule.INSULT) == 1
    assert (decision.role, decision.rule_number, decision.charter_version) == ("moderator", 1, 0)
    report.refresh_from_db()
    assert report.status == Report.Status.UPHELD
    # The author is told on the site and by e-mail, with the rule and how to appeal.
    notice = Notice.objects.get(user=author, kind=Notice.Kind.MODERATION)
    assert notice.data["action"] == "hide" and notice.data["appealable"] is True
    [mail] = mailbox.wait_for("alex@example.org")
    assert "Rule" in mail["body"] or "Règle" in mail["body"]
    assert mail["html"] and "<html" in mail["html"]
    # The reporter learns what was decided.
    assert Notice.objects.filter(user=reporter, data__status="upheld").exists()
    # The public JSON shape withholds the text and says under which rule.
    from consultation import queries

    shown = queries.comment_json(comment)
    assert shown["body"] == "" and shown["moderation"]["state"] == "hidden"
    assert shown["moderation"]["rule_number"] == 1

    # The same moderator may not answer the appeal; a colleague does.
    with django_capture_on_commit_callbacks(execute=True):
        appeal = appeals.appeal(author, decision, "Ce n’était pas une insulte.")
    with pytest.raises(NotAllowed) as refusal:
        appeals.decide(moderator, appeal, grant=True, reason="…")
    assert refusal.value.code == "own_decision"
    with pytest.raises(Conflict):
        appeals.appeal(author, decision, "Encore.")
    with django_capture_on_commit_callbacks(execute=True):
        outcome = appeals.decide(colleague, appeal, grant=True, reason="Critique d’une idée.")
    comment.refresh_from_db()
    appeal.refresh_from_db()
    assert not comment.is_withheld and appeal.status == Appeal.Status.GRANTED
    assert outcome.action == A.APPEAL_GRANTED and outcome.answers == appeal
    assert Notice.objects.filter(user=author, kind=Notice.Kind.APPEAL).count() == 1
    assert Notice.objects.filter(user=reporter, kind=Notice.Kind.APPEAL).count() == 1
    # The report no longer counts as upheld in its author's reliability.
    report.refresh_from_db()
    assert report.status == Report.Status.DISMISSED

    # The public log: both decisions, with role and rule, naming nobody.
    rows = moderation_log.entries(consultation)
    assert [(r["action"], r["rule"], r["role"]) for r in rows] == [
        ("hide", "insult", "moderator"),
        ("appeal_granted", "insult", "moderator"),
    ]
    assert rows[0]["appeal"] == "granted" and rows[1]["answers_decision"] == decision.pk
    text = repr(rows) + repr(moderation_log.summary(consultation, rows))
    for secret in ("Malik", "Mia", "malik@", "mia@", "rita@", "Alex", "insultant", "attaques"):
        assert secret not in text
    summary = moderation_log.summary(consultation, rows)
    assert summary["per_rule"]["insult"] == 1 and summary["median_hours_to_decision"] is not None


def test_two_moderators_acting_at_once_are_told_a_colleague_decided(place, moderator, colleague):
    comment = place[3]
    decisions.hide(moderator, comment, Rule.SPAM)
    with pytest.raises(Conflict) as refusal:
        decisions.hide(colleague, comment, Rule.SPAM)
    assert refusal.value.code == "already_decided"
    assert Decision.objects.filter(comment=comment).count() == 1


def test_every_action_needs_a_charter_rule_and_other_needs_a_note(place, moderator):
    comment = place[3]
    with pytest.raises(Invalid):
        decisions.hide(moderator, comment, "rudeness")
    with pytest.raises(Invalid) as refusal:
        decisions.hide(moderator, comment, Rule.OTHER, "  ")
    assert refusal.value.code == "note_required"
    assert not Decision.objects.exists()


def test_only_the_consultations_moderators_decide(place, make_user, organiser, staff):
    _consultation, _item, author, comment = place
    elsewhere = make_user("eve@example.org", is_moderator=True)
    enable_totp(elsewhere)
    add_member(make_consultation(), elsewhere, Membership.Role.MODERATOR)
    for person in (author, elsewhere, organiser):
        with pytest.raises(NotAllowed):
            decisions.hide(person, comment, Rule.SPAM)
    # Staff moderate everywhere, and the log says "staff".
    assert decisions.hide(staff, comment, Rule.SPAM).role == "staff"


def test_the_decision_log_is_append_only_in_the_database(place, moderator):
    comment = place[3]
    decision = decisions.hide(moderator, comment, Rule.SPAM, "note")
    table = Decision._meta.db_table
    # Past the model, straight to the database: the trigger refuses every change (the
    # table name is ours, not input).
    changes = [
        (f"UPDATE {table} SET rule = %s WHERE id = %s", ["hate", decision.pk]),  # noqa: S608
        (f"UPDATE {table} SET note = %s WHERE id = %s", ["other", decision.pk]),  # noqa: S608
        (f"UPDATE {table} SET subject_id = %s WHERE id = %s", [moderator.pk, decision.pk]),  # noqa: S608
    ]
    if connection.vendor == "postgresql":
        changes.append((f"DELETE FROM {table} WHERE id = %s", [decision.pk]))  # noqa: S608
    for sql, params in changes:
        with (
            pytest.raises((IntegrityError, DatabaseError)),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, params)
    # Through the model, neither deleting nor rewriting is offered.
    with pytest.raises(IntegrityError):
        decision.delete()
    with pytest.raises(IntegrityError):
        Decision.objects.filter(pk=decision.pk).delete()
    with pytest.raises(IntegrityError):
        Decision.objects.filter(pk=decision.pk).update(note="rewritten")
    # Erasing a person is the one change allowed: the columns naming them become NULL.
    Decision.objects.filter(pk=decision.pk).update(subject=None, moderator=None)
    decision.refresh_from_db()
    assert (decision.subject_id, decision.moderator_id, decision.note) == (None, None, "note")


def test_quarantine_holds_a_comment_once_weighty_reports_reach_the_threshold(place, old, moderator):
    consultation, item, author, comment = place
    consultation.quarantine_threshold = 2
    consultation.save()
    # A reporter whose two earlier reports were dismissed weighs 1/3.
    doubtful = old("doubt@example.org")
    for n in range(2):
        earlier = debate.post_comment(author, item, f"Un avis correct numéro {n}.")
        reports.report_comment(doubtful, earlier, Rule.SPAM)
        decisions.dismiss(moderator, earlier, Rule.SPAM)
    assert reports.reporter_weights({doubtful.pk}) == {doubtful.pk: pytest.approx(1 / 3)}

    first = old("first@example.org")
    reports.report_comment(first, comment, Rule.INSULT)
    reports.report_comment(doubtful, comment, Rule.INSULT)
    comment.refresh_from_db()
    assert comment.moderation == Comment.Moderation.VISIBLE  # 1 + 1/3 < 2
    reports.report_comment(old("second@example.org"), comment, Rule.INSULT)
    comment.refresh_from_db()
    assert comment.is_held and comment.held_because == Comment.Held.REPORTS
    # Shown as awaiting review, never removed: a moderator decides, and it is visible again.
    assert Comment.objects.filter(pk=comment.pk, deleted_at__isnull=True).exists()
    [entry] = reports.queue(permissions.moderated_consultations(moderator))
    assert entry["comment"] == comment and entry["reporters"] == 3
    decisions.dismiss(moderator, comment, Rule.INSULT)
    comment.refresh_from_db()
    assert comment.moderation == Comment.Moderation.VISIBLE


def test_without_a_threshold_reports_never_hide_anything(place, old):
    comment = place[3]
    for n in range(6):
        reports.report_comment(old(f"r{n}@example.org"), comment, Rule.SPAM)
    comment.refresh_from_db()
    assert comment.moderation == Comment.Moderation.VISIBLE


def test_one_report_per_person_per_comment_a_few_per_hour_and_never_ones_own(place, old, settings):
    _consultation, item, author, comment = place
    reporter = old("rita@example.org")
    reports.report_comment(reporter, comment, Rule.SPAM)
    with pytest.raises(Conflict):
        reports.report_comment(reporter, comment, Rule.HATE)
    with pytest.raises(NotAllowed) as refusal:
        reports.report_comment(author, comment, Rule.SPAM)
    assert refusal.value.code == "own_comment"
    with pytest.raises(Invalid) as refusal:
        reports.report_comment(old("x@example.org"), comment, Rule.OTHER, "")
    assert refusal.value.code == "text_required"
    settings.MODERATION_REPORTS_PER_HOUR = 2
    reports.report_comment(reporter, debate.post_comment(author, item, "Deux."), Rule.SPAM)
    with pytest.raises(TooMany):
        reports.report_comment(reporter, debate.post_comment(author, item, "Trois."), Rule.SPAM)


def _write_everything(user, consultation):
    item = consultation.items.first()
    yield lambda: voting.cast_vote(user, item, Vote.Choice.FOR)
    yield lambda: voting.grade_item(user, item, 3)
    yield lambda: voting.submit_ballot(user, consultation, [item.pk])
    yield lambda: debate.post_comment(user, item, "Je parle encore.")


def test_a_suspension_stops_every_write_at_once_and_an_appeal_lifts_it(place, moderator, colleague):
    consultation, item, author, _comment = place
    voting.cast_vote(author, item, Vote.Choice.AGAINST)
    decision = decisions.suspend(moderator, author, consultation, Rule.INSULT, "", days=7)
    assert Suspension.objects.active().filter(user=author).count() == 1
    for write in _write_everything(author, consultation):
        with pytest.raises(NotAllowed) as refusal:
            write()
        assert refusal.value.code == "suspended"
    # They can still read, and their earlier vote stands (never lost).
    assert permissions.can_view(author, consultation)
    assert Vote.objects.filter(user=author, item=item).count() == 1
    # Elsewhere they take part as before.
    elsewhere = make_consultation()
    voting.cast_vote(author, elsewhere.items.first(), Vote.Choice.FOR)
    # An appeal granted by a colleague lifts it.
    appeal = appeals.appeal(author, decision, "Je conteste.")
    appeals.decide(colleague, appeal, grant=True, reason="Trop sévère.")
    for write in _write_everything(author, consultation):
        write()
    assert Grade.objects.filter(user=author).count() == 1
    assert Ballot.objects.filter(user=author).count() == 1


def test_a_site_wide_suspension_is_for_staff_and_holds_everywhere(place, moderator, staff, old):
    consultation, _item, author, _comment = place
    with pytest.raises(NotAllowed):
        decisions.suspend(moderator, author, None, Rule.SPAM, "", days=None)
    decisions.suspend(staff, author, None, Rule.SPAM, "", days=None)
    elsewhere = make_consultation()
    for place_ in (consultation, elsewhere):
        for write in _write_everything(author, place_):
            with pytest.raises(NotAllowed):
                write()
    # A suspension runs out by itself.
    Suspension.objects.update(ends_at=timezone.now() - timedelta(seconds=1))
    voting.cast_vote(author, elsewhere.items.first(), Vote.Choice.FOR)


def test_a_locked_thread_takes_no_replies_until_unlocked(place, moderator, old):
    _consultation, item, _author, comment = place
    reply = debate.post_comment(old("b@example.org"), item, "Réponse.", parent=comment)
    decisions.lock(moderator, comment, Rule.OFF_TOPIC)
    for parent in (comment, reply):
        with pytest.raises(Conflict) as refusal:
            debate.post_comment(old(), item, "Encore une.", parent=parent)
        assert refusal.value.code == "locked_thread"
    decisions.unlock(moderator, comment, Rule.OFF_TOPIC)
    debate.post_comment(old(), item, "Enfin.", parent=reply)


def test_a_warning_is_logged_and_told_but_changes_nothing(place, moderator):
    consultation, item, author, comment = place
    decisions.warn(
        moderator, author, consultation, Rule.INSULT, "Restez courtois.", comment=comment
    )
    assert Notice.objects.get(user=author).data["action"] == "warn"
    debate.post_comment(author, item, "Je reste courtois.")
    with pytest.raises(Invalid):
        decisions.warn(moderator, moderator, consultation, Rule.INSULT)


def test_a_hidden_comment_cannot_be_edited_past_the_decision(place, moderator):
    comment = place[3]
    decisions.hide(moderator, comment, Rule.INSULT)
    comment.refresh_from_db()
    with pytest.raises(NotAllowed):
        debate.edit_comment(place[2], comment, "Version adoucie.")


def test_new_accounts_post_no_links_and_few_comments(make_user, settings):
    settings.MODERATION_NEW_ACCOUNT_COMMENTS_PER_HOUR = 2
    item = make_consultation().items.first()
    newcomer = make_user("new@example.org")
    with pytest.raises(Invalid) as refusal:
        debate.post_comment(newcomer, item, "Achetez sur https://example.com maintenant")
    assert refusal.value.code == "no_links_yet"
    debate.post_comment(newcomer, item, "Premier avis.")
    debate.post_comment(newcomer, item, "Deuxième avis.")
    with pytest.raises(TooMany):
        debate.post_comment(newcomer, item, "Troisième avis.")
    # An older account posts links.
    newcomer.date_joined = timezone.now() - timedelta(days=2)
    newcomer.save()
    debate.post_comment(newcomer, item, "La source : https://www.insee.fr")


def test_the_same_text_posted_again_is_held_for_review(old):
    consultation = make_consultation()
    first, second = consultation.items.all()[:2]
    spammer = old("spam@example.org")
    assert debate.post_comment(spammer, first, "Visitez mon site !").moderation == "visible"
    again = debate.post_comment(spammer, second, "  visitez MON site ! ")
    assert again.is_held and again.held_because == Comment.Held.REPEATED
    # Someone else saying the same is not held.
    assert not debate.post_comment(old(), first, "Visitez mon site !").is_held


def test_the_charter_is_edited_in_place_before_opening_and_versioned_after(organiser, make_user):
    from consultation.models import Consultation

    consultation = make_consultation(status=Consultation.Status.SCHEDULED, organiser=organiser)
    assert charter.current(consultation).version == 0
    charter.save_charter(organiser, consultation, "Intro", {"spam": {"title": "Pub", "text": ""}})
    charter.save_charter(organiser, consultation, "Intro 2", {})
    assert charter.current(consultation).version == 1
    assert charter.current(consultation).intro == "Intro 2"
    consultation.status = Consultation.Status.OPEN
    consultation.save()
    charter.save_charter(organiser, consultation, "Intro 3", {"spam": {"title": "Pub", "text": ""}})
    current = charter.current(consultation)
    assert current.version == 2 and current.rule("spam").title == "Pub"
    assert [v.version for v in charter.versions(consultation)] == [2, 1]
    assert charter.version(consultation, 1).intro == "Intro 2"
    with pytest.raises(NotAllowed):
        charter.save_charter(make_user(), consultation, "Mine", {})


def test_moderators_never_see_votes_and_the_log_holds_none(place, moderator, old):
    consultation, item, author, comment = place
    voting.cast_vote(author, item, Vote.Choice.FOR)
    decision = decisions.hide(moderator, comment, Rule.INSULT)
    fields = {field.name for field in Decision._meta.get_fields()}
    assert not fields & {"vote", "grade", "ballot", "choice"}
    row = moderation_log.entries(consultation)[0]
    assert set(row) == set(moderation_log.FIELDS)
    [entry] = reports.queue(permissions.moderated_consultations(moderator)) or [None]
    assert entry is None  # decided: nothing left in the queue
    assert decision.subject == author


def test_a_suspended_author_is_told_so_when_editing_or_deleting(place, moderator):
    consultation, _item, author, comment = place
    decisions.suspend(moderator, author, consultation, Rule.INSULT, days=2)
    for change in (
        lambda: debate.edit_comment(author, comment, "Autre texte."),
        lambda: debate.delete_comment(author, comment),
    ):
        with pytest.raises(NotAllowed) as refusal:
            change()
        assert refusal.value.code == "suspended"


@pytest.mark.django_db(transaction=True)
def test_a_moderator_lifts_a_suspension_until_lifted_and_the_person_writes_again(
    place,
    moderator,
    colleague,
    staff,
    make_user,
    django_capture_on_commit_callbacks,
    mailbox,
    celery_worker,
):
    consultation, _item, author, comment = place
    decision = decisions.suspend(
        moderator, author, consultation, Rule.INSULT, days=None, comment=comment
    )
    suspension = Suspension.objects.get(decision=decision)
    for write in _write_everything(author, consultation):
        with pytest.raises(NotAllowed):
            write()
    # Only the moderators of its consultation lift it (not those of another one, nor the
    # person suspended), under a charter rule, "other" with a note.
    elsewhere = make_user("eve@example.org", is_moderator=True)
    enable_totp(elsewhere)
    add_member(make_consultation(), elsewhere, Membership.Role.MODERATOR)
    for person in (elsewhere, author):
        with pytest.raises(NotAllowed):
            decisions.lift(person, suspension, Rule.INSULT)
    with pytest.raises(Invalid) as refusal:
        decisions.lift(colleague, suspension, Rule.OTHER, " ")
    assert refusal.value.code == "note_required"
    with django_capture_on_commit_callbacks(execute=True):
        lifted = decisions.lift(colleague, suspension, Rule.INSULT, "Excuses présentées.")
    suspension.refresh_from_db()
    assert suspension.lifted_at is not None
    assert not Suspension.objects.active().filter(user=author).exists()
    assert (lifted.action, lifted.subject, lifted.moderator, lifted.note) == (
        A.LIFT,
        author,
        colleague,
        "Excuses présentées.",
    )
    assert (lifted.consultation, lifted.comment, lifted.rule_number) == (consultation, comment, 1)
    # They write again at once.
    for write in _write_everything(author, consultation):
        write()
    # Told on the site and by e-mail like any decision; lifting a measure is not appealed.
    notice = Notice.objects.filter(user=author, kind=Notice.Kind.MODERATION).latest("pk")
    assert notice.data["action"] == "lift" and notice.data["appealable"] is False
    assert notice.data["decision"] == lifted.pk and notice.data["note"] == "Excuses présentées."
    mails = mailbox.wait_for("alex@example.org", count=2)  # the suspension, then its lifting
    [mail] = [m for m in mails if "Excuses présentées." in m["body"]]
    assert "suspension" in mail["subject"].lower()
    assert not permissions.can_appeal(author, lifted)
    with pytest.raises(NotAllowed):
        appeals.appeal(author, lifted, "Je conteste.")
    # Lifted once: a second lift is a conflict, and writes nothing.
    with pytest.raises(Conflict) as refusal:
        decisions.lift(moderator, suspension, Rule.INSULT)
    assert refusal.value.code == "already_decided"
    # A suspension that ran out is not lifted either.
    ran_out = decisions.suspend(moderator, author, consultation, Rule.SPAM, days=1)
    Suspension.objects.filter(decision=ran_out).update(ends_at=timezone.now())
    with pytest.raises(Conflict) as refusal:
        decisions.lift(moderator, Suspension.objects.get(decision=ran_out), Rule.SPAM)
    assert refusal.value.code == "already_ended"
    assert Decision.objects.filter(action=A.LIFT).count() == 1
    # The public log shows it like any decision, naming nobody.
    rows = moderation_log.entries(consultation)
    assert [r["action"] for r in rows] == ["suspend", "lift", "suspend"]
    assert "Excuses" not in repr(rows) and "Alex" not in repr(rows)
    # A site-wide suspension is lifted by staff only.
    everywhere = decisions.suspend(staff, author, None, Rule.SPAM, days=None)
    suspension = Suspension.objects.get(decision=everywhere)
    with pytest.raises(NotAllowed) as refusal:
        decisions.lift(moderator, suspension, Rule.SPAM)
    assert refusal.value.code == "not_staff"
    lifted = decisions.lift(staff, suspension, Rule.SPAM)
    assert (lifted.consultation, lifted.role, lifted.comment) == (None, "staff", None)
    debate.post_comment(author, consultation.items.first(), "De retour.")
