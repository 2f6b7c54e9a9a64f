"""Background jobs run on a real worker: a thread (embedded default) or a process (production)."""

import time

import pytest
from celery.result import allow_join_result
from django.urls import reverse

from config import health
from config.tasks import record_worker_heartbeat

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_queued_task_runs_on_the_worker_and_its_result_is_visible(client, celery_worker):
    result = record_worker_heartbeat.delay()
    with allow_join_result():  # the embedded worker shares this process
        # From the embedded result cache, or Redis. The worker may first finish the mails
        # earlier tests queued (instant: tests/support/mailbox.py).
        stamp = result.get(timeout=20)
    assert stamp
    # The task wrote the heartbeat to the shared cache: the health page reports it.
    report = client.get(reverse("health")).json()
    assert report["ok"] is True
    assert report["worker_heartbeat"] == stamp


def test_queueing_a_task_returns_at_once_while_the_worker_is_busy(
    celery_worker, mailbox, slow_mail
):
    """The caller never waits for the job: here the job is a slow mail delivery."""
    from django.core.mail import EmailMessage

    from accounts import emails
    from accounts.tasks import send_email

    payload = emails.serialise(EmailMessage("Hi", "Body", "noreply@example.org", ["a@example.org"]))
    started = time.monotonic()
    result = send_email.delay(payload)
    assert time.monotonic() - started < 0.2
    assert not result.ready()
    with allow_join_result():
        assert result.get(timeout=20) == 1
    assert [m["subject"] for m in mailbox.messages("a@example.org")] == ["Hi"]


def test_the_beat_schedule_is_static_and_names_real_tasks():
    from django.conf import settings

    from config.celery import app

    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks


def test_health_reports_a_missing_heartbeat_without_failing(client):
    from django.core.cache import cache

    cache.delete(health.HEARTBEAT_KEY)
    report = client.get(reverse("health")).json()
    assert report == {"ok": True, "database": True, "cache": True, "worker_heartbeat": None}
