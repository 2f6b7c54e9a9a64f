"""Audience notices: a consultation's followers hear that it opens, closes in 48 hours,
closes early (and why), and that its results are published or have a new version — each
person once, as they prefer, with a link to the exact page, in chunks of Celery work."""

import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from consultation.models import Comment, Consultation, Follow, Notice, NoticeSettings
from consultation.notices import audience, fanout
from consultation.organising import lifecycle
from consultation.results import computing, publishing
from tests.factories import make_consultation, take_part
from tests.support.idle_worker import wait_until_idle

pytestmark = pytest.mark.django_db
S = Consultation.Status


def follow(user, consultation, *, item=None, **fields):
    row, _created = Follow.objects.update_or_create(
        user=user, consultation=consultation, item=item, comment=None, defaults=fields
    )
    return row


def prefer(user, **channels):
    NoticeSettings.objects.update_or_create(user=user, defaults={"channels": channels})


def run(kind, consultation, publication=None, size=fanout.CHUNK):
    """The fan-out as the worker runs it, here and in turn: every chunk of every audience
    (their e-mails stay queued: nothing is committed in these tests). Returns the notices
    written."""
    written = 0
    for spec in fanout.specs_for(kind, consultation, publication):
        for after, upto in fanout.ranges(fanout.audience_of(spec), size):
            written += fanout.run_chunk(spec, after, upto)["written"]
    return written


def notices_of(kind, consultation):
    return {
        n.user.email: n
        for n in Notice.objects.filter(kind=kind, consultation=consultation).select_related("user")
    }


def wait(condition, what, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


@pytest.mark.django_db(transaction=True)
def test_opening_is_told_to_followers_as_each_prefers_with_a_link_to_it(
    make_user, organiser, mailbox, celery_worker
):
    consultation = make_consultation(status=S.SCHEDULED, organiser=organiser)
    item = consultation.items.first()
    english = make_user("ada@example.org", preferred_language="en")
    french = make_user("bea@example.org", preferred_language="fr")
    on_site = make_user("cyd@example.org")
    silent = make_user("dan@example.org")
    left = make_user("eve@example.org")
    gone = make_user("fay@example.org", is_active=False)
    stranger = make_user("gus@example.org")
    follow(english, consultation)
    follow(french, consultation, item=item)  # following one of its items is enough
    for user in (on_site, silent, gone):
        follow(user, consultation)
    follow(left, consultation, active=False)
    prefer(english, opened="email")
    prefer(french, opened="email")
    prefer(silent, opened="never")

    lifecycle.open_now(organiser, consultation)

    link = settings.SITE_URL + consultation.get_absolute_url()
    [mail] = mailbox.wait_for("ada@example.org")
    assert "“Consultation" in mail["subject"] and "is open: have your say" in mail["subject"]
    assert consultation.title_en in mail["subject"]
    assert link in mail["body"] and f'href="{link}"' in mail["html"]
    assert "You can take part until" in mail["body"]
    [mail] = mailbox.wait_for("bea@example.org")
    assert f"« {consultation.title} » est ouverte : donnez votre avis" in mail["subject"]
    assert "Vous pouvez participer jusqu’au" in mail["body"]

    wait(lambda: "cyd@example.org" in notices_of(audience.OPENED, consultation), "cyd's notice")
    notices = notices_of(audience.OPENED, consultation)
    assert set(notices) == {"ada@example.org", "bea@example.org", "cyd@example.org"}
    assert notices["cyd@example.org"].email == Notice.Email.NONE  # on the site only
    assert notices["cyd@example.org"].url == consultation.get_absolute_url()
    assert {m["to"][0] for m in mailbox.messages()} == {"ada@example.org", "bea@example.org"}
    assert stranger.notices.count() == 0


def test_closing_in_48_hours_is_queued_once_and_written_once(
    make_user, django_capture_on_commit_callbacks
):
    now = timezone.now()
    soon = make_consultation(closes_at=now + timedelta(hours=30))
    later = make_consultation(closes_at=now + timedelta(hours=72))
    people = [make_user() for _ in range(3)]
    for user in people:
        follow(user, soon)
        follow(user, later)

    with django_capture_on_commit_callbacks() as queued:
        assert fanout.queue_closing_soon(now) == [soon.pk]
        assert fanout.queue_closing_soon(now) == []  # the next run does not queue it again
    assert len(queued) == 1

    assert run(audience.CLOSING, soon) == 3
    assert run(audience.CLOSING, soon) == 0  # a repeated job writes nothing twice
    notices = notices_of(audience.CLOSING, soon)
    assert len(notices) == 3 and not notices_of(audience.CLOSING, later)
    notice = next(iter(notices.values()))
    assert notice.key == f"closing:{soon.pk}"
    from django.utils import translation

    with translation.override("en"):
        assert audience.title(notice) == f"“{soon.title_en}” closes in less than 48 hours"
        assert "there is still time to take part" in audience.lines(notice)[0]
    # Once it has closed, a late job tells nothing.
    Consultation.objects.filter(pk=soon.pk).update(status=S.CLOSED, closed_at=now)
    assert fanout.start(audience.CLOSING, soon.pk) == {"skipped": "stale"}


@pytest.mark.django_db(transaction=True)
def test_closing_early_tells_followers_why(make_user, organiser, mailbox, celery_worker):
    consultation = make_consultation(organiser=organiser)
    follower = make_user("lou@example.org", preferred_language="fr")
    follow(follower, consultation)
    prefer(follower, closed_early="email")

    lifecycle.close_early(organiser, consultation, reason="Le budget a été voté hier.")

    [mail] = mailbox.wait_for("lou@example.org")
    assert f"« {consultation.title} » a été close avant la date prévue" in mail["subject"]
    assert "Leur raison : Le budget a été voté hier." in mail["body"]
    assert settings.SITE_URL + consultation.get_absolute_url() in mail["body"]
    notice = Notice.objects.get(user=follower)
    assert (notice.kind, notice.key) == (audience.CLOSED_EARLY, f"closed_early:{consultation.pk}")
    wait_until_idle()  # closing also queued the final count: let it end before the flush


@pytest.fixture
def published(make_user, organiser, settings, tmp_path):
    """An open consultation three people took part in, and a way to publish it."""
    settings.MEDIA_ROOT = tmp_path
    settings.OPEN_DATA_MIN_GROUP = 3
    consultation = make_consultation(organiser=organiser)
    import random

    rng = random.Random(4)
    voters = [make_user(f"voter{i}@example.org") for i in range(3)]
    for user in voters:
        take_part(user, consultation, rng=rng)
    Consultation.objects.filter(pk=consultation.pk).update(
        status=S.CLOSED, closed_at=timezone.now()
    )
    computing.compute_results(consultation.pk, "final")

    def publish(note=""):
        return publishing.publish(
            Consultation.objects.get(pk=consultation.pk), organiser, note=note
        )

    return consultation, voters, publish


def test_results_go_to_followers_and_the_people_who_took_part_hear_them_personally(
    make_user, published
):
    consultation, (voter, unwilling, _other), publish = published
    reader = make_user("reader@example.org")
    for user in (reader, voter, unwilling):
        follow(user, consultation)
    prefer(unwilling, personal_results="never")
    first = publish()

    run(audience.RESULTS, consultation, first)

    general = notices_of(audience.RESULTS, consultation)
    personal = notices_of(audience.PERSONAL_RESULTS, consultation)
    # One notice each: the personal one for those who took part (unless they want none:
    # then the general one), the general one for the other followers.
    assert set(general) == {"reader@example.org", unwilling.email}
    assert set(personal) == {voter.email, "voter2@example.org"}
    url = reverse("consultation:results_version", kwargs={"slug": consultation.slug, "version": 1})
    assert general["reader@example.org"].url == url and personal[voter.email].url == url
    assert general["reader@example.org"].key == f"results:{consultation.pk}:v1"

    second = publish(note="Réponses officielles ajoutées.")
    run(audience.RESULTS, consultation, second)
    run(audience.RESULTS, consultation, first)  # a late retry of the first: nothing new
    assert Notice.objects.filter(user=reader, kind=audience.RESULTS).count() == 2
    notice = Notice.objects.get(user=reader, key=f"results:{consultation.pk}:v2")
    from django.utils import translation

    with translation.override("fr"):
        assert audience.title(notice) == (
            f"Nouvelle version (2) des résultats de « {consultation.title} »"
        )
        assert "Ce qui change dans cette version : Réponses officielles ajoutées." in (
            audience.lines(notice)
        )
    assert Notice.objects.filter(user=voter, kind=audience.PERSONAL_RESULTS).count() == 2


def test_chunks_cut_by_id_write_each_notice_once_even_when_run_again(make_user):
    consultation = make_consultation()
    people = [make_user() for _ in range(10)]
    for user in people:
        follow(user, consultation)
    for user in people[:4]:
        prefer(user, opened="email")
    spec = fanout.specs_for(audience.OPENED, consultation)[0]
    ranges = fanout.ranges(fanout.audience_of(spec), 3)
    ids = sorted(user.pk for user in people)
    assert ranges == [(0, ids[2]), (ids[2], ids[5]), (ids[5], ids[8]), (ids[8], None)]

    first = [fanout.run_chunk(spec, after, upto) for after, upto in ranges]
    assert [r["written"] for r in first] == [3, 3, 3, 1]
    assert sum(r["queued"] for r in first) == 4  # the four who want an e-mail
    # A chunk retried after a killed worker: nothing written twice, the e-mails still
    # waiting asked for again (delivery sends each once).
    again = [fanout.run_chunk(spec, after, upto) for after, upto in ranges]
    assert Notice.objects.filter(kind=audience.OPENED).count() == 10
    assert sum(r["queued"] for r in again) == 4
    # Someone following after the ranges were cut is in the last, open-ended one.
    late = make_user()
    follow(late, consultation)
    assert fanout.run_chunk(spec, *ranges[-1])["written"] == 1  # the late one alone
    assert Notice.objects.filter(kind=audience.OPENED).count() == 11


def test_a_chunk_costs_the_same_queries_for_five_people_or_fifty(make_user):
    def chunk_queries(n):
        consultation = make_consultation()
        for i in range(n):
            user = make_user()
            follow(user, consultation)
            prefer(user, opened="email" if i % 2 else "daily")
        spec = fanout.specs_for(audience.OPENED, consultation)[0]
        with CaptureQueriesContext(connection) as queries:
            fanout.run_chunk(spec, 0, None)
        return len(queries)

    assert chunk_queries(5) == chunk_queries(50)


def test_thread_followers_and_unfollowers_are_not_the_audience(make_user, citizen):
    consultation = make_consultation()
    item = consultation.items.first()
    comment = Comment.objects.create(item=item, author=citizen, body="Un avis.")
    thread_only = make_user()
    Follow.objects.create(user=thread_only, consultation=consultation, comment=comment)
    left = make_user()
    follow(left, consultation, item=item, active=False)
    assert list(fanout.followers(consultation.pk)) == []
    follow(citizen, consultation, item=item)
    assert list(fanout.followers(consultation.pk)) == [citizen]


def test_preferences_decide_site_digest_e_mail_or_nothing(make_user):
    consultation = make_consultation()
    chosen = {"site": "site", "daily": "daily", "email": "email", "never": "never"}
    users = {}
    for name, channel in chosen.items():
        users[name] = make_user(f"{name}@example.org")
        follow(users[name], consultation)
        prefer(users[name], opened=channel)
    no_address = make_user("x@example.org")
    type(no_address).objects.filter(pk=no_address.pk).update(email="")
    follow(no_address, consultation)
    prefer(no_address, opened="email")

    run(audience.OPENED, consultation)

    states = dict(Notice.objects.filter(kind=audience.OPENED).values_list("user_id", "email"))
    assert states == {
        users["site"].pk: "none",
        users["daily"].pk: "digest",
        users["email"].pk: "pending",
        no_address.pk: "none",
    }


@pytest.mark.parametrize(
    ("language", "title"),
    [("en", "is open: have your say"), ("fr", "est ouverte : donnez votre avis")],
)
def test_the_notices_page_words_them_in_the_readers_language(
    make_user, client_for, language, title
):
    consultation = make_consultation()
    reader = make_user(preferred_language=language)
    follow(reader, consultation)
    run(audience.OPENED, consultation)
    client = client_for(reader)
    client.cookies["django_language"] = language
    page = client.get(reverse("notices:list")).content.decode()
    assert title in page
    notice = Notice.objects.get(user=reader)
    assert reverse("notices:open", kwargs={"notice_id": notice.pk}) in page
