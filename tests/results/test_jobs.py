"""Result jobs on a real worker: queued at close, idempotent, organisers told once."""

import time
from datetime import timedelta

import pytest
from celery.result import allow_join_result
from django.core.mail import EmailMessage
from django.utils import timezone

from accounts import emails
from accounts.tasks import send_email
from consultation.models import ComputedResult, Consultation
from consultation.organising import lifecycle
from consultation.results import computing
from consultation.tasks import compute_final_results
from tests.factories import close

S = Consultation.Status


def wait_for_final(consultation, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = ComputedResult.objects.filter(consultation=consultation, kind="final").first()
        if row is not None:
            return row
        time.sleep(0.2)
    raise AssertionError("the final results were never computed")


def close_by_schedule(consultation):
    now = timezone.now()
    Consultation.objects.filter(pk=consultation.pk).update(
        opens_at=now - timedelta(days=2), closes_at=now - timedelta(seconds=1)
    )
    assert lifecycle.advance_due()["closed"] == [consultation.slug]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("closing", [close, close_by_schedule], ids=["early", "on_schedule"])
def test_closing_computes_the_final_results_and_tells_the_organisers(
    voted, closing, celery_worker, mailbox
):
    consultation = voted(4)
    started = time.monotonic()
    closing(consultation)
    assert time.monotonic() - started < 1.0  # the request never waits for the count
    row = wait_for_final(consultation)
    assert set(row.results["methods"]) >= {"schulze", "votes", "majority_judgment"}
    link = f"/organisation/{consultation.slug}/"
    [message] = [m for m in mailbox.wait_for("odile@example.org", timeout=30) if link in m["body"]]
    assert consultation.title in message["subject"]
    # Running the job again stores the same result, in the same row, and tells nobody.
    with allow_join_result():
        again = compute_final_results.delay(consultation.pk).get(timeout=60)
    assert again == {"consultation": consultation.pk, "kind": "final", "changed": False}
    assert ComputedResult.objects.filter(consultation=consultation).count() == 1
    assert ComputedResult.objects.get(consultation=consultation).results_json == row.results_json
    # Had the second run told anyone, its mail was queued (on commit, inside the job)
    # before this one: once this one is delivered, that one has had its turn.
    send_email.delay(emails.serialise(EmailMessage("Marker", "", to=["marker@example.org"])))
    mailbox.wait_for("marker@example.org")
    mine = [m for m in mailbox.messages("odile@example.org") if link in m["body"]]
    assert len(mine) == 1


@pytest.mark.django_db
def test_the_final_results_task_is_idempotent(voted):
    consultation = close(voted(5))
    first = compute_final_results.apply(args=[consultation.pk]).result
    second = compute_final_results.apply(args=[consultation.pk]).result
    assert first["changed"] is True and second["changed"] is False
    assert ComputedResult.objects.filter(consultation=consultation).count() == 1


@pytest.mark.django_db
def test_jobs_for_a_consultation_in_the_wrong_state_or_gone_do_nothing(voted):
    consultation = voted(2)
    assert compute_final_results.apply(args=[consultation.pk]).result["skipped"] == "not_closed"
    assert compute_final_results.apply(args=[10**9]).result["skipped"] == "gone"
    assert not ComputedResult.objects.exists()


@pytest.mark.django_db
def test_the_periodic_job_finds_live_consultations_and_missing_final_results(voted):
    live_one = voted(2)
    hidden = voted(2, results_visibility="after_close")
    closed = close(voted(2))
    due = computing.due_computations()
    assert live_one.pk in due["provisional"] and hidden.pk not in due["provisional"]
    assert closed.pk in due["final"]
    computing.compute_results(closed.pk, "final")
    assert closed.pk not in computing.due_computations()["final"]


def test_the_provisional_job_is_on_the_beat_schedule():
    from django.conf import settings

    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "consultation.tasks.compute_provisional_results" in tasks


def test_result_jobs_survive_a_lost_worker_and_transient_errors():
    from django.db import OperationalError
    from redis.exceptions import ConnectionError as RedisConnectionError

    from consultation.tasks import compute_provisional_results_of

    for task in (compute_final_results, compute_provisional_results_of):
        assert task.acks_late is True
        assert issubclass(OperationalError, task.autoretry_for)
        assert issubclass(RedisConnectionError, task.autoretry_for)
        assert task.retry_backoff and task.max_retries >= 5
