"""Consultation jobs: thin, take ids, call the domain."""

from celery import shared_task

from consultation import lifecycle


@shared_task
def advance_due_consultations() -> dict:
    """Periodic: open scheduled consultations at opens_at, close open ones at closes_at."""
    return lifecycle.advance_due()
