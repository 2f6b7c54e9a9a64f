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
    assert report == {
        "ok": True,
        "database": True,
        "cache": True,
        "worker": False,
        "worker_heartbeat": None,
    }


def test_health_says_the_worker_is_away_once_its_heartbeat_is_late(client, settings):
    from datetime import timedelta

    from django.core.cache import cache
    from django.utils import timezone

    settings.WORKER_HEARTBEAT_SECONDS = 10
    recent = (timezone.now() - timedelta(seconds=5)).isoformat()
    cache.set(health.HEARTBEAT_KEY, recent, timeout=None)
    report = client.get(reverse("health")).json()
    assert report["worker"] is True and report["worker_heartbeat"] == recent
    late = (timezone.now() - timedelta(seconds=31)).isoformat()  # three beats missed
    cache.set(health.HEARTBEAT_KEY, late, timeout=None)
    response = client.get(reverse("health"))
    assert response.status_code == 200  # the site still answers; the worker is reported
    assert response.json()["worker"] is False and response.json()["worker_heartbeat"] == late


def test_health_reads_no_table_and_reports_its_own_time(client):
    """Cheap under a surge: one ``SELECT 1``, nothing scanned, the time in Server-Timing."""
    from tests.support.statements import every_statement

    client.get(reverse("health"))
    with every_statement() as seen:
        response = client.get(reverse("health"))
    assert response.status_code == 200
    assert seen.sql == ["SELECT 1"]
    assert response["Server-Timing"].startswith("checks;dur=")
