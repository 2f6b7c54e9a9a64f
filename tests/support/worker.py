"""Run a real Celery worker process for the production-shape test pass.

Started by tests/conftest.py as ``python -m tests.support.worker`` with the test
database in DATABASE_URL; e-mail delivery (the outside world) is replaced by the
capturing mailbox, everything else is the production code path.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402

from config.celery import app  # noqa: E402

settings.MAILERS = {"default": {"BACKEND": "tests.support.mailbox.CapturingBackend"}}

if __name__ == "__main__":
    app.worker_main(
        [
            "worker",
            "--loglevel=WARNING",
            "--pool=threads",
            "--concurrency=4",
            "--hostname=tests@%h",
            "--without-mingle",
            "--without-gossip",
        ]
    )
