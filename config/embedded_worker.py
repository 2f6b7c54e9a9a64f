"""The embedded Celery worker: background jobs with no broker server.

On the embedded default the broker is kombu's in-memory transport, which only
exists inside one process. So the web process itself runs a Celery worker (a
thread pool) and the beat scheduler in daemon threads: tasks are still queued
and run asynchronously, periodic jobs still fire, and a request never waits for
a job. See docs/decisions/0003-embedded-celery-worker.md.
"""

import logging
import threading
from typing import Any

from celery import beat

from config.celery import app

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_worker = None
_beat = None


def start(*, with_beat: bool = True, concurrency: int = 2) -> Any:
    """Start the worker (and beat) threads once per process; return the worker (Celery's
    ``WorkController``: Celery is untyped)."""
    global _worker, _beat
    with _lock:
        if _worker is not None:
            return _worker
        worker = app.WorkController(
            pool="threads",
            concurrency=concurrency,
            hostname="embedded@agora",
            loglevel="WARNING",
            without_heartbeat=True,
            without_mingle=True,
            without_gossip=True,
            ready_callback=None,
        )
        threading.Thread(target=worker.start, name="celery-embedded", daemon=True).start()
        if with_beat:
            # celery.beat:Scheduler keeps the schedule in memory: nothing written to disk.
            service = beat.EmbeddedService(app, thread=True, scheduler_cls="celery.beat:Scheduler")
            service.start()
            _beat = service
        _worker = worker
        logger.info("embedded Celery worker started (beat=%s)", with_beat)
        return worker


def stop() -> None:
    """Stop beat and the worker, letting running tasks finish (used at test-session end)."""
    global _worker, _beat
    with _lock:
        if _beat is not None:
            _beat.stop()
            _beat = None
        if _worker is not None:
            _worker.stop(in_sighandler=False)
            _worker = None
