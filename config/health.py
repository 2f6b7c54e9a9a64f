"""Liveness of the pieces an operator cares about: database, cache, worker.

Cheap enough to be asked every second by a load balancer during a surge (issue 16): one
``SELECT 1`` on a pooled connection, two Redis round trips (write a probe, then read it back
with the worker's heartbeat), no table read, no count. Truthful: the database and the cache
are reported reachable only when they just answered, and the worker alive only when its
heartbeat is recent."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

HEARTBEAT_KEY = "agora:worker-heartbeat"
PROBE_KEY = "agora:health-probe"
# A worker is alive when its last heartbeat is younger than this many heartbeat periods
# (beat sends one every WORKER_HEARTBEAT_SECONDS; a busy worker may be late by a few).
HEARTBEATS_MISSED = 3
logger = logging.getLogger(__name__)


def _cache():
    # The heartbeat protects no account (config/cache.py): written and read where Redis
    # being down shows as a miss, never as an error in the worker.
    from config.cache import degradable

    return degradable()


def record_worker_heartbeat() -> str:
    now = timezone.now().isoformat()
    _cache().set(HEARTBEAT_KEY, now, timeout=None)
    return now


def _worker_alive(heartbeat: str | None) -> bool:
    if not heartbeat:
        return False
    try:
        beat = datetime.fromisoformat(heartbeat)
    except (TypeError, ValueError):
        return False
    limit = timedelta(seconds=HEARTBEATS_MISSED * settings.WORKER_HEARTBEAT_SECONDS)
    return timezone.now() - beat <= limit


def status() -> dict:
    database = cache_answers = False
    heartbeat = None
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database = True
    except Exception:  # a health page reports, it does not raise
        logger.exception("health: database unreachable")
    try:
        cache = _cache()
        # The degradable cache answers a miss when Redis is away: the probe just written
        # is read back only if Redis answered both times.
        cache.set(PROBE_KEY, 1, timeout=10)
        found = cache.get_many([PROBE_KEY, HEARTBEAT_KEY])
        cache_answers = found.get(PROBE_KEY) == 1
        heartbeat = found.get(HEARTBEAT_KEY)
    except Exception:
        logger.exception("health: cache unreachable")
    return {
        "database": database,
        "cache": cache_answers,
        "worker": _worker_alive(heartbeat),
        "worker_heartbeat": heartbeat,
    }
