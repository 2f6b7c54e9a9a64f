"""Account tasks: thin, take plain data, call domain code."""

from typing import Any

from celery import Task, shared_task

from accounts import emails, lifecycle


@shared_task(
    name=emails.SEND_EMAIL, bind=True, autoretry_for=(OSError,), retry_backoff=30, max_retries=8
)
def send_email(self: Task, payload: dict[str, Any]) -> int:
    return emails.build(payload).send()


@shared_task
def purge_unverified_accounts() -> int:
    """Periodic: forget sign-ups whose address was never verified (privacy policy)."""
    return lifecycle.purge_unverified_accounts()
