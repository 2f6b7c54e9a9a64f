"""Where a test that publishes results keeps its open data."""

import os


def use_the_workers_media_root(settings, tmp_path) -> None:
    """Publish where the Celery worker writes: in the production pass the worker is another
    process (closing queues the final count there), and it writes open data under the
    MEDIA_ROOT it was started with (tests/results/conftest.py sets it at collection);
    publishing then reads them there. Elsewhere the worker runs in this process and follows
    the setting, so a directory of the test's own will do."""
    if os.environ.get("MEDIA_ROOT") and not os.environ.get("PYTEST_XDIST_WORKER"):
        settings.MEDIA_ROOT = os.environ["MEDIA_ROOT"]
    else:
        settings.MEDIA_ROOT = tmp_path
