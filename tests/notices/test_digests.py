"""Digests: a day's (or a week's) notices in one multipart e-mail in the person's language,
sent once at the digest time, marked sent; a second run sends nothing."""

import smtplib
import time
from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from config.celery import app
from consultation.models import Channel, Notice, NoticeSettings
from consultation.notices import digests, follows, preferences, sending
from consultation.participation import debate
from tests.factories import make_consultation

pytestmark = pytest.mark.django_db


def local(year, month, day, hour, minute=0):
    return timezone.make_aware(datetime(year, month, day, hour, minute))


# Wednesday 2026-03-04 and the days around it (the digest hour is 7, weekly on Monday).
TUESDAY_NOON = local(2026, 3, 3, 12)
WEDNESDAY_6 = local(2026, 3, 4, 6, 59)
WEDNESDAY_7 = local(2026, 3, 4, 7, 5)
MONDAY_7 = local(2026, 3, 9, 7, 5)


def at(notice, when):
    Notice.objects.filter(pk=notice.pk).update(created_at=when)
    return notice


def test_the_digest_time_is_the_last_digest_hour_and_for_weeks_the_last_monday():
    assert settings.NOTICE_DIGEST_HOUR == 7 and settings.NOTICE_DIGEST_WEEKDAY == 0
    assert digests.boundary("daily", WEDNESDAY_6) == local(2026, 3, 3, 7)
    assert digests.boundary("daily", WEDNESDAY_7) == local(2026, 3, 4, 7)
    assert digests.boundary("weekly", WEDNESDAY_7) == local(2026, 3, 2, 7)
    assert digests.boundary("weekly", MONDAY_7) == local(2026, 3, 9, 7)
    assert digests.boundary("weekly", local(2026, 3, 9, 6)) == local(2026, 3, 2, 7)


@pytest.fixture
def reader(make_user):
    """Someone whose replies and "useful" marks come in a daily digest, in English."""
    person = make_user("lecteur@example.org", preferred_language="en")
    preferences.save(person, {"reply": Channel.DAILY, "useful": Channel.DAILY})
    return person


def a_days_notices(reader, make_user):
    item = make_consultation().items.first()
    mine = debate.post_comment(reader, item, "Mon avis.")
    other = debate.post_comment(make_user(), item, "Un autre avis.")
    follows.follow(reader, consultation=item.consultation, comment=other)
    debate.post_comment(make_user(), item, "Je réponds.", parent=mine)
    debate.post_comment(make_user(), item, "Moi aussi.", parent=other)
    debate.toggle_useful(make_user(), mine)
    notices = list(Notice.objects.filter(user=reader).order_by("pk"))
    assert [n.email for n in notices] == ["digest"] * 3
    for n, notice in enumerate(notices):
        at(notice, TUESDAY_NOON + timedelta(hours=n))
    return notices, mine


def test_a_days_notices_go_in_one_email_marked_sent_and_only_once(reader, make_user, mailbox):
    notices, mine = a_days_notices(reader, make_user)
    assert digests.send_due(now=WEDNESDAY_6) == {"sent": 0, "failed": 0, "put_off": 0, "notices": 0}
    assert mailbox.messages() == []

    assert digests.send_due(now=WEDNESDAY_7) == {"sent": 1, "failed": 0, "put_off": 0, "notices": 3}
    [mail] = mailbox.messages("lecteur@example.org")
    assert mail["subject"] == "[Agora] Your daily digest: 3 notifications"
    for title in (
        "Someone replied to your comment",
        "New reply in a thread you follow",
        "1 person found your comment useful",
    ):
        assert title in mail["body"] and title in mail["html"]
    assert f"?comment={mine.pk}#comment-{mine.pk}" in mail["body"]
    assert "in a daily digest" in mail["body"]
    assert "/notifications/desabonnement/" in mail["body"] and "<img" not in mail["html"]
    for notice in notices:
        notice.refresh_from_db()
        assert notice.email == "sent" and notice.emailed_at == WEDNESDAY_7
        assert notice.read_at is None  # still to read on the site
    assert NoticeSettings.objects.get(user=reader).daily_digest_at == WEDNESDAY_7

    # The task runs again (beat twice, a retry): nothing more.
    assert digests.send_due(now=WEDNESDAY_7)["sent"] == 0
    assert digests.send_due(now=WEDNESDAY_7 + timedelta(hours=5))["sent"] == 0
    assert len(mailbox.messages()) == 1


def test_a_notice_after_the_digest_time_waits_for_the_next_day(reader, make_user, mailbox):
    a_days_notices(reader, make_user)
    late = at(
        sending.notify(reader, "reply", consultation=None, data={"to": "author"}),
        WEDNESDAY_7 + timedelta(minutes=1),
    )
    digests.send_due(now=WEDNESDAY_7 + timedelta(minutes=2))
    late.refresh_from_db()
    assert late.email == "digest"
    digests.send_due(now=WEDNESDAY_7 + timedelta(days=1))
    late.refresh_from_db()
    assert late.email == "sent"
    subjects = [m["subject"] for m in mailbox.messages("lecteur@example.org")]
    assert subjects == [
        "[Agora] Your daily digest: 3 notifications",
        "[Agora] Your daily digest: 1 notification",
    ]


def test_weekly_kinds_wait_for_monday_and_a_kind_moved_to_the_site_is_not_mailed(
    reader, make_user, mailbox
):
    notices, _mine = a_days_notices(reader, make_user)
    useful = notices[-1]
    preferences.save(reader, {"useful": Channel.WEEKLY, "reply": Channel.SITE})
    digests.send_due(now=WEDNESDAY_7)
    assert mailbox.messages() == []
    states = {n.pk: n.email for n in Notice.objects.filter(user=reader)}
    assert states == {notices[0].pk: "none", notices[1].pk: "none", useful.pk: "digest"}

    digests.send_due(now=MONDAY_7)
    [mail] = mailbox.messages("lecteur@example.org")
    assert mail["subject"] == "[Agora] Your weekly digest: 1 notification"
    assert "in a weekly digest" in mail["body"]
    assert NoticeSettings.objects.get(user=reader).weekly_digest_at == MONDAY_7


def test_the_digest_is_in_the_persons_language(reader, make_user, mailbox):
    reader.preferred_language = "fr"
    reader.save()
    a_days_notices(reader, make_user)
    digests.send_due(now=WEDNESDAY_7)
    [mail] = mailbox.messages("lecteur@example.org")
    assert mail["subject"] == "[Agora] Votre récapitulatif quotidien : 3 notifications"
    assert "Quelqu’un a répondu à votre commentaire" in mail["body"]
    assert "1 personne a trouvé votre commentaire utile" in mail["html"]
    assert '<html lang="fr">' in mail["html"]


def test_a_dropped_server_leaves_the_digest_for_the_retry(reader, make_user, mailbox, monkeypatch):
    notices, _mine = a_days_notices(reader, make_user)
    from tests.support.mailbox import CapturingBackend

    def down(self, messages):
        raise smtplib.SMTPServerDisconnected("gone")

    with monkeypatch.context() as patch:
        patch.setattr(CapturingBackend, "send_messages", down)
        with pytest.raises(smtplib.SMTPServerDisconnected):
            digests.send_due(now=WEDNESDAY_7)
    for notice in notices:
        notice.refresh_from_db()
        assert (notice.email, notice.email_claimed_at) == ("digest", None)
    assert NoticeSettings.objects.get(user=reader).daily_digest_at is None
    assert digests.send_due(now=WEDNESDAY_7)["notices"] == 3
    assert len(mailbox.messages()) == 1


def test_a_refused_address_fails_without_stopping_the_others(
    reader, make_user, mailbox, monkeypatch
):
    a_days_notices(reader, make_user)
    other = make_user("autre@example.org", preferred_language="en")
    preferences.save(other, {"reply": Channel.DAILY})
    at(sending.notify(other, "reply", consultation=None, data={"to": "author"}), TUESDAY_NOON)
    from tests.support.mailbox import CapturingBackend

    real = CapturingBackend.send_messages

    def picky(self, messages):
        if "lecteur@example.org" in messages[0].to:
            raise smtplib.SMTPRecipientsRefused({"lecteur@example.org": (550, b"no such user")})
        return real(self, messages)

    monkeypatch.setattr(CapturingBackend, "send_messages", picky)
    assert digests.send_due(now=WEDNESDAY_7) == {
        "sent": 1,
        "failed": 1,
        "put_off": 0,
        "notices": 1,
    }
    assert set(Notice.objects.filter(user=reader).values_list("email", flat=True)) == {"failed"}
    assert [m["to"] for m in mailbox.messages()] == [["autre@example.org"]]
    assert digests.send_due(now=WEDNESDAY_7 + timedelta(days=1))["sent"] == 0


def test_the_digests_task_is_on_the_beat_schedule():
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "consultation.tasks.send_notice_digests" in tasks


@pytest.mark.django_db(transaction=True)
def test_the_periodic_task_sends_what_is_due_from_the_worker(
    reader, make_user, mailbox, celery_worker
):
    item = make_consultation().items.first()
    mine = debate.post_comment(reader, item, "Mon avis.")
    debate.post_comment(make_user(), item, "Je réponds.", parent=mine)
    notice = Notice.objects.get(user=reader)
    at(notice, digests.boundary("daily") - timedelta(minutes=1))
    app.send_task("consultation.tasks.send_notice_digests")
    [mail] = mailbox.wait_for("lecteur@example.org")
    assert mail["subject"] == "[Agora] Your daily digest: 1 notification"
    deadline = time.monotonic() + 10  # marked sent a moment after the mail is in the box
    while Notice.objects.get(pk=notice.pk).email != "sent" and time.monotonic() < deadline:
        time.sleep(0.02)
    assert Notice.objects.get(pk=notice.pk).email == "sent"


@pytest.mark.parametrize(
    ("refusal", "state"),
    [
        (smtplib.SMTPDataError(554, b"5.6.0 message refused"), "failed"),
        (smtplib.SMTPRecipientsRefused({"lecteur@example.org": (452, b"mailbox full")}), "digest"),
    ],
    ids=["refused-for-good-at-data", "put-off-for-now"],
)
def test_a_refused_digest_never_blocks_the_next_persons(
    reader, make_user, mailbox, monkeypatch, refusal, state
):
    """A message the server refuses at DATA (5xx) fails alone; an address it puts off for
    now (4xx) waits for the next run, its notices kept. Either way the others' digests go."""
    a_days_notices(reader, make_user)
    other = make_user("autre@example.org", preferred_language="en")
    preferences.save(other, {"reply": Channel.DAILY})
    at(sending.notify(other, "reply", consultation=None, data={"to": "author"}), TUESDAY_NOON)
    from tests.support.mailbox import CapturingBackend

    real = CapturingBackend.send_messages
    refusing = {"on": True}

    def picky(self, messages):
        if refusing["on"] and "lecteur@example.org" in messages[0].to:
            raise refusal
        return real(self, messages)

    monkeypatch.setattr(CapturingBackend, "send_messages", picky)
    done = digests.send_due(now=WEDNESDAY_7)
    assert (done["sent"], done["notices"]) == (1, 1)
    assert (done["failed"], done["put_off"]) == ((1, 0) if state == "failed" else (0, 1))
    assert [m["to"] for m in mailbox.messages()] == [["autre@example.org"]]
    assert set(Notice.objects.filter(user=reader).values_list("email", flat=True)) == {state}
    # The next run: what was put off goes now, what failed for good is not tried again.
    refusing["on"] = False
    later = digests.send_due(now=WEDNESDAY_7 + timedelta(minutes=10))
    assert later["sent"] == (1 if state == "digest" else 0)
