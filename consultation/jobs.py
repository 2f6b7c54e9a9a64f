"""Queueing background jobs from the domain, after the commit, by the task's name.

The tasks live in ``consultation/tasks.py``, which imports the domain to run them; the
domain asks for a job here, by name, so that it never imports the tasks module back (no
import cycle: tests/test_import_cycles.py). Each name is the one its task is registered
under (``@shared_task(name=...)``), so a renamed task cannot silently stop being queued.
"""

from django.db import transaction

from config.celery import app

COMPUTE_FINAL_RESULTS = "consultation.tasks.compute_final_results"
SEND_NOTICE_EMAILS = "consultation.tasks.send_notice_emails"


def queue_final(consultation_id: int) -> None:
    """Count the final results of a consultation once the current transaction commits:
    at closing (every way of closing), and when its organisers ask again."""
    transaction.on_commit(
        lambda: app.send_task(COMPUTE_FINAL_RESULTS, args=[consultation_id]), robust=True
    )


def queue_notice_emails(notice_ids: list[int]) -> None:
    """Send these notices' e-mails from the worker once the current transaction commits."""
    transaction.on_commit(lambda: app.send_task(SEND_NOTICE_EMAILS, args=[notice_ids]), robust=True)


NOTIFY_AUDIENCE = "consultation.tasks.notify_audience"
NOTIFY_AUDIENCE_CHUNK = "consultation.tasks.notify_audience_chunk"


def queue_audience_notices(
    kind: str, consultation_id: int, publication_id: int | None = None
) -> None:
    """Tell a consultation's audience of ``kind`` (opened, closing, closed_early, results)
    from the worker, in chunks, once the current transaction commits
    (``consultation.notices.fanout``)."""
    transaction.on_commit(
        lambda: app.send_task(NOTIFY_AUDIENCE, args=[kind, consultation_id, publication_id]),
        robust=True,
    )


def queue_audience_chunk(spec: dict, after: int, upto: int | None) -> None:
    """Write and queue the notices of one chunk of an audience (ids in ``(after, upto]``)."""
    transaction.on_commit(
        lambda: app.send_task(NOTIFY_AUDIENCE_CHUNK, args=[spec, after, upto]), robust=True
    )
