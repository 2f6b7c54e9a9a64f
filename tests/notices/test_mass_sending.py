"""Sending notices' e-mails at scale, over real SMTP to a local server (tests.support
.smtp_sink): one connection per batch, a refused address never blocks the others, the
operator's pace is kept, and 2,000 personal results e-mails go out exactly once each
when the worker sending them is killed mid-way and its task retried."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from config.celery import app
from consultation import jobs
from consultation.models import Notice
from consultation.notices import audience, delivery
from tests.factories import make_consultation
from tests.support.smtp_sink import Sink

pytestmark = pytest.mark.django_db


@pytest.fixture
def sink(settings):
    with Sink() as server:
        settings.MAILERS = server.mailers()
        yield server


def pending_notices(make_user, n, *, consultation=None, prefix="reader"):
    consultation = consultation or make_consultation()
    data = audience.notice_for(audience.OPENED, consultation)
    notices = []
    for i in range(n):
        user = make_user(f"{prefix}{i}@example.org", preferred_language="en")
        notices.append(
            Notice.objects.create(
                user=user,
                kind=audience.OPENED,
                consultation=consultation,
                data=data["data"],
                url=data["url"],
                key=data["key"],
                email=Notice.Email.PENDING,
            )
        )
    return notices


def states(notices):
    return dict(
        Notice.objects.filter(pk__in=[n.pk for n in notices]).values_list("user__email", "email")
    )


def test_a_batch_goes_over_one_connection_and_a_refused_address_blocks_nobody(make_user, sink):
    notices = pending_notices(make_user, 5)
    sink.refuse.add("reader1@example.org")

    done = delivery.deliver([n.pk for n in notices])

    assert done == {"sent": 4, "failed": 1, "put_off": 0, "skipped": 0}
    assert sink.count_by_recipient() == {f"reader{i}@example.org": 1 for i in (0, 2, 3, 4)}
    assert sink.sessions() == 1
    assert states(notices) == {
        "reader0@example.org": "sent",
        "reader1@example.org": "failed",
        "reader2@example.org": "sent",
        "reader3@example.org": "sent",
        "reader4@example.org": "sent",
    }
    # Asked again (a duplicate task), nothing is sent twice, and the refused one stays so.
    assert delivery.deliver([n.pk for n in notices])["skipped"] == 5
    assert len(sink.accepted) == 4


def test_an_address_put_off_waits_for_the_retry_and_the_others_go(make_user, sink):
    notices = pending_notices(make_user, 4)
    sink.put_off.add("reader2@example.org")

    with pytest.raises(delivery.PutOff):  # the task is retried later, for that one alone
        delivery.deliver([n.pk for n in notices])
    assert sink.count_by_recipient() == {f"reader{i}@example.org": 1 for i in (0, 1, 3)}
    assert states(notices)["reader2@example.org"] == "pending"

    sink.put_off.clear()
    assert delivery.deliver([n.pk for n in notices]) == {
        "sent": 1,
        "failed": 0,
        "put_off": 0,
        "skipped": 3,
    }
    assert sink.count_by_recipient() == {f"reader{i}@example.org": 1 for i in range(4)}


def test_each_notice_keeps_one_message_id_from_one_attempt_to_the_next(make_user, sink):
    [notice] = pending_notices(make_user, 1)
    delivery.deliver([notice.pk])
    Notice.objects.filter(pk=notice.pk).update(email=Notice.Email.PENDING)  # as if unmarked
    delivery.deliver([notice.pk])
    assert sink.count_by_message_id() == {delivery.message_id(notice): 2}


def test_the_operators_pace_holds_for_every_worker_together(make_user, sink, settings):
    settings.NOTICE_EMAILS_PER_SECOND = 40
    notices = pending_notices(make_user, 60)
    started = time.monotonic()
    # Two batches, as two workers would send them: they share the pace.
    delivery.deliver([n.pk for n in notices[:30]])
    delivery.deliver([n.pk for n in notices[30:]])
    elapsed = time.monotonic() - started
    assert len(sink.accepted) == 60
    # Slots of 4 e-mails every 0.1 s on the clock: 60 e-mails fill 15 slots. The first may be
    # nearly over when sending starts, so the 15th begins more than 13 whole slots later.
    assert elapsed > 1.29
    times = sorted(message.at for message in sink.accepted)
    # In any second, at most the rate (and one slot's worth at a slot's edge).
    assert all(times[i + 44] - times[i] >= 0.95 for i in range(len(times) - 44))


def test_no_pace_by_default(make_user, sink, monkeypatch, settings):
    """With no rate set, sending never waits for a slot (asserted on the waiting itself, not
    on a duration: a busy machine is slow, not paced)."""
    assert settings.NOTICE_EMAILS_PER_SECOND == 0
    assert delivery.Pace(0).per_slot == 0
    notices = pending_notices(make_user, 30)
    waits = []
    now = [time.time()]  # the pace's clock moves only when it sleeps: no load changes it

    def sleep(seconds):
        waits.append(seconds)
        now[0] += seconds

    clock = SimpleNamespace(time=lambda: now[0], monotonic=time.monotonic, sleep=sleep)
    monkeypatch.setattr(delivery, "time", clock)
    delivery.deliver([n.pk for n in notices])
    assert len(sink.accepted) == 30
    assert waits == []
    # The same with a rate: it does wait (so the check above can fail).
    settings.NOTICE_EMAILS_PER_SECOND = 40
    Notice.objects.filter(pk__in=[n.pk for n in notices]).update(email=Notice.Email.PENDING)
    delivery.deliver([n.pk for n in notices])
    assert waits


def test_a_server_going_away_leaves_the_unsent_waiting(make_user, settings):
    notices = pending_notices(make_user, 3)
    with Sink() as server:
        settings.MAILERS = server.mailers()
        port = server.port
    # Nobody listens any more: the connection fails, every notice waits again.
    with pytest.raises(OSError):
        delivery.deliver([n.pk for n in notices])
    assert set(states(notices).values()) == {"pending"}
    with Sink(port=port) as server:
        assert delivery.deliver([n.pk for n in notices])["sent"] == 3
        assert len(server.accepted) == 3


def test_the_sweep_queues_what_lost_its_task(make_user, django_capture_on_commit_callbacks):
    old, _fresh, stale_claim = pending_notices(make_user, 3)
    hour_ago = timezone.now() - timedelta(seconds=delivery.SWEEP_AFTER_SECONDS + 60)
    Notice.objects.filter(pk=old.pk).update(created_at=hour_ago)
    Notice.objects.filter(pk=stale_claim.pk).update(
        email=Notice.Email.SENDING, email_claimed_at=hour_ago
    )
    with django_capture_on_commit_callbacks() as queued:
        assert delivery.sweep() == 2
    assert len(queued) == 1  # one batch


# --- 2,000 personal results e-mails, a worker killed mid-way -----------------------------

QUEUE = "agora-notices-killtest"  # our own queue: the suite's worker must not take it
VISIBILITY = 4  # seconds before Redis hands an unacknowledged task out again
LEASE = 2  # seconds before a claim is a dead worker's


def start_worker(name, sink, **env):
    db = settings.DATABASES["default"]
    url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    environment = {
        **os.environ,
        "DATABASE_URL": url,
        "EMAIL_URL": f"smtp://127.0.0.1:{sink.port}",
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY),
        "NOTICE_EMAIL_LEASE_SECONDS": str(LEASE),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        **env,
    }
    hostname = f"{name}@notices-killtest"
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.notices.queue_worker", QUEUE, hostname],
        env=environment,
        cwd=settings.BASE_DIR,
    )
    deadline = time.monotonic() + 60
    while not app.control.ping(destination=[hostname], timeout=0.5):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"worker {name} did not start")
    return process


def wait(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


@pytest.mark.production
@pytest.mark.timeout(300)
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_send_leaves_no_one_twice_and_no_one_out(settings, tmp_path):
    if settings.CELERY_EMBEDDED_WORKER:
        pytest.skip("needs the Redis broker and worker processes (production pass)")
    from tests.notices.stage import published_with

    settings.MEDIA_ROOT = tmp_path
    people = 2000
    consultation, publication, emails = published_with(people)
    key = audience.key_for(audience.PERSONAL_RESULTS, consultation.pk, 1)
    notices = Notice.objects.filter(key=key)

    with Sink() as sink:
        sink.hold(after=650)  # mid-batch: 50 of the 7th batch of 100 sent, one in flight
        first = start_worker("first", sink)
        second = None
        try:
            app.send_task(
                jobs.NOTIFY_AUDIENCE,
                args=[audience.RESULTS, consultation.pk, publication.pk],
                queue=QUEUE,
            )
            sink.wait_held(timeout=120)
            # The server holds message 651 unanswered: the worker waits for its 250.
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
            killed = time.monotonic()
            assert len(sink.accepted) == 650
            assert notices.count() == people  # every chunk had been written
            assert notices.filter(email=Notice.Email.SENT).count() == 650
            assert notices.filter(email=Notice.Email.SENDING).exists()  # the dead claim

            sink.release()
            # Redis gives the killed worker's task out again once its visibility
            # timeout has passed; by then its claim is stale (LEASE < VISIBILITY).
            time.sleep(max(0.0, VISIBILITY + 1 - (time.monotonic() - killed)))
            second = start_worker("second", sink)
            wait(
                lambda: not notices.exclude(email=Notice.Email.SENT).exists(),
                180,
                "every e-mail to be sent",
            )
        finally:
            for process in (first, second):
                if process is not None and process.poll() is None:
                    process.terminate()
                    process.wait(timeout=20)
        counts = sink.count_by_recipient()

    assert sum(counts.values()) == people
    assert counts == dict.fromkeys(emails, 1)  # nobody twice, nobody left out
    assert len(sink.count_by_message_id()) == people
    assert notices.filter(email=Notice.Email.SENT, emailed_at__isnull=False).count() == people
    # Nobody who took part got the general "results" notice as well.
    assert not Notice.objects.filter(kind=audience.RESULTS, consultation=consultation).exists()
    connection.close()
