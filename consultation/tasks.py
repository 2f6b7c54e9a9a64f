"""Consultation jobs: thin, take ids, call the domain."""

from celery import shared_task

from consultation import lifecycle, live


@shared_task
def advance_due_consultations() -> dict:
    """Periodic: open scheduled consultations at opens_at, close open ones at closes_at."""
    return lifecycle.advance_due()


@shared_task
def reconcile_live_counters() -> dict:
    """Periodic: recount open consultations from the database and repair live counters."""
    return live.reconcile_all()
