"""Liveness of the pieces an operator cares about: database, cache, worker."""

import logging

from django.db import connection
from django.utils import timezone

HEARTBEAT_KEY = "agora:worker-heartbeat"
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


def status() -> dict:
    report = {"database": False, "cache": False, "worker_heartbeat": None}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        report["database"] = True
    except Exception:  # a health page reports, it does not raise
        logger.exception("health: database unreachable")
    try:
        cache = _cache()
        cache.set("agora:health-probe", 1, timeout=10)
        report["cache"] = cache.get("agora:health-probe") == 1
        report["worker_heartbeat"] = cache.get(HEARTBEAT_KEY)
    except Exception:
        logger.exception("health: cache unreachable")
    return report
