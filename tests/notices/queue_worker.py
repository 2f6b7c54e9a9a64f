"""A Celery worker process of its own, for tests that kill one: it consumes one queue and
sends every task it queues to that queue too, so that the suite's worker (the
``celery_worker`` fixture, on the default queue) never takes part in the test's work.

    python -m tests.notices.queue_worker <queue> <hostname>

Everything else comes from the environment (DATABASE_URL, REDIS_URL, EMAIL_URL...).
"""

import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from config.celery import app  # noqa: E402

if __name__ == "__main__":
    queue, hostname = sys.argv[1], sys.argv[2]
    app.conf.task_default_queue = queue
    app.worker_main(
        [
            "worker",
            "-Q",
            queue,
            "--pool=threads",
            "--concurrency=1",
            f"--hostname={hostname}",
            "--without-mingle",
            "--without-gossip",
            "--loglevel=WARNING",
        ]
    )
