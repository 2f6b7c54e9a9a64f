"""Consultation jobs: thin, take ids, call the domain."""

from celery import shared_task
from django.db import InterfaceError, OperationalError
from redis.exceptions import RedisError

from config.cache import degradable
from consultation import jobs
from consultation.errors import Refused
from consultation.live import repair
from consultation.models import IdempotencyKey
from consultation.notices import delivery, digests
from consultation.organising import lifecycle
from consultation.results import computing

# Worth another try: the database or Redis went away for a moment (or the disk is full).
TRANSIENT = (OperationalError, InterfaceError, RedisError, OSError)
RESULT_JOB = {
    "acks_late": True,  # a worker killed mid-task leaves the message to be redelivered
    "autoretry_for": TRANSIENT,
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 8,
}
# The periodic job queues a missing final computation at most this often.
FINAL_REQUEUE_SECONDS = 3600


@shared_task
def advance_due_consultations() -> dict:
    """Periodic: open scheduled consultations at opens_at, close open ones at closes_at."""
    return lifecycle.advance_due()


@shared_task
def reconcile_live_counters() -> dict:
    """Periodic (every minute): check what changed since the last run against the live
    counters of open consultations, and repair what differs."""
    return repair.reconcile_all()


@shared_task
def reconcile_live_counters_fully() -> dict:
    """Periodic (hourly): check every ballot, vote, grade and comment of open
    consultations against their live counters, and repair what differs."""
    return repair.reconcile_all(full=True)


def _computed(consultation_id: int, kind: str) -> dict:
    try:
        row = computing.compute_results(consultation_id, kind)
    except Refused as refusal:  # e.g. reopened? closed meanwhile? nothing to compute now
        return {"consultation": consultation_id, "skipped": refusal.code}
    if row is None:
        return {"consultation": consultation_id, "skipped": "gone"}
    return {"consultation": consultation_id, "kind": kind, "changed": row.changed}


@shared_task(name=jobs.COMPUTE_FINAL_RESULTS, **RESULT_JOB)
def compute_final_results(consultation_id: int) -> dict:
    """On close: build the open-data files, count every enabled method from them, store,
    and e-mail the organisers a link to review (only when the stored results changed)."""
    return _computed(consultation_id, computing.FINAL)


@shared_task(**RESULT_JOB)
def compute_provisional_results_of(consultation_id: int) -> dict:
    return _computed(consultation_id, computing.PROVISIONAL)


@shared_task
def compute_provisional_results() -> dict:
    """Periodic: queue provisional results for open live-results consultations, and the
    final results of finished ones that have none (their job at closing was lost)."""
    due = computing.due_computations()
    for pk in due["provisional"]:
        compute_provisional_results_of.delay(pk)
    for pk in due["final"]:
        # De-duplicating a job protects no account: it may degrade (config/cache.py).
        if degradable().add(f"agora:results:final-queued:{pk}", 1, timeout=FINAL_REQUEUE_SECONDS):
            compute_final_results.delay(pk)
    return due


@shared_task(name=jobs.SEND_NOTICE_EMAILS, **{**RESULT_JOB, "autoretry_for": (*TRANSIENT,)})
def send_notice_emails(notice_ids: list[int]) -> dict:
    """Send the e-mails of these notices that still wait (claim, send, mark: a retry
    after a killed worker sends only what was not sent; ``notices.delivery``)."""
    return delivery.deliver(notice_ids)


@shared_task(**RESULT_JOB)
def send_notice_digests() -> dict:
    """Periodic: send the daily and weekly digests that are due (each once: a second run,
    or a retry, finds them sent; ``notices.digests``)."""
    return digests.send_due()


@shared_task(name=jobs.NOTIFY_AUDIENCE, **RESULT_JOB)
def notify_audience(kind: str, consultation_id: int, publication_id: int | None = None) -> dict:
    """Tell a consultation's followers (and, at a publication, the people who took part)
    of an event: cut the audience into chunks and queue them (``notices.fanout``)."""
    from consultation.notices import fanout

    return fanout.start(kind, consultation_id, publication_id)


@shared_task(name=jobs.NOTIFY_AUDIENCE_CHUNK, **RESULT_JOB)
def notify_audience_chunk(spec: dict, after: int, upto: int | None) -> dict:
    """Write one chunk's notices (once each, as each person prefers) and queue their
    e-mails in batches; a retried chunk writes nothing twice."""
    from consultation.notices import fanout

    return fanout.run_chunk(spec, after, upto)


@shared_task
def notify_closing_soon() -> dict:
    """Periodic: "closes in 48 hours", once per consultation."""
    from consultation.notices import fanout

    return {"queued": fanout.queue_closing_soon()}


@shared_task
def sweep_notice_emails() -> dict:
    """Periodic: queue again the notices' e-mails whose task was lost."""
    return {"queued": delivery.sweep()}


@shared_task
def purge_idempotency_keys() -> int:
    """Periodic: forget the API's idempotency keys past their 24 hours."""
    deleted, _rows = IdempotencyKey.objects.expired().delete()
    return deleted
