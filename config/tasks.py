"""Platform-level tasks (the domain's tasks live in each app's tasks.py)."""

from celery import shared_task

from config import health


@shared_task
def record_worker_heartbeat() -> str:
    """Periodic: proves to /health/ that a worker and the beat schedule are alive."""
    return health.record_worker_heartbeat()
