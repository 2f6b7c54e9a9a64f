"""Waiting for the production pass's Celery worker to finish what a test gave it."""

import time

from django.conf import settings


def wait_until_idle(timeout: float = 30.0) -> None:
    """Return once the worker process runs and holds no task (or at ``timeout``).

    A test that queues more work than it waits for (closing a consultation queues its
    final count) must not end while the worker still writes: the test's teardown empties
    the tables with TRUNCATE, and PostgreSQL then finds a deadlock between the two. The
    embedded worker shares the test's database connection rules and needs no wait."""
    if settings.CELERY_EMBEDDED_WORKER:
        return
    from config.celery import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        inspect = app.control.inspect(timeout=1.0)
        active, reserved = inspect.active() or {}, inspect.reserved() or {}
        if not any(active.values()) and not any(reserved.values()):
            return
        time.sleep(0.1)
