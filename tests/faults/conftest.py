"""The fault tests run against the production shape of `make prod-local`
(scripts/prod_local.py): its own PostgreSQL cluster and Redis, nginx, two uvicorn
processes, a Celery worker and beat, started once for this folder in a scratch directory.

They are part of `make test`'s production-shape pass (marked ``production``); elsewhere,
or where the shape cannot start (nginx, Redis or PostgreSQL's server missing: see
scripts/setup-prod-local), they are skipped with the reason.
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from scripts.prod_local import ROOT, Shape, free_port

# Quick enough for tests, the same code paths as in production: every write is allowed
# (the write limit is not under test), small groups are shown (a handful of voters), a
# task whose worker died goes to another after 6 s, and the beat looks for consultations
# to close every second.
SHAPE_SETTINGS = {
    "WRITE_RATE_LIMIT": "100000/m",
    "OPEN_DATA_MIN_GROUP": "1",
    "CELERY_VISIBILITY_TIMEOUT": "6",
    "LIFECYCLE_CHECK_SECONDS": "1",
    "PROVISIONAL_RESULTS_SECONDS": "3",
    "LOG_LEVEL": "INFO",
}


@pytest.fixture(scope="session")
def shape():
    if not os.environ.get("DATABASE_URL"):
        pytest.skip("fault tests run in the production-shape pass of `make test` only")
    reason = Shape.unavailable()
    if reason:
        pytest.skip(reason)
    # Not under pytest's own temporary directory (private to this account): PostgreSQL runs
    # as its own account when the tests run as root, and must reach its data.
    home = Path(tempfile.mkdtemp(prefix="agora-shape-"))
    home.chmod(0o755)
    # The logs stay after the run, for whoever reads a failure: var/log/faults/.
    logs = ROOT / "var" / "log" / "faults"
    shutil.rmtree(logs, ignore_errors=True)
    running = Shape(home, logs, port=free_port(), env=SHAPE_SETTINGS)  # never 8080: prod-local's
    try:
        running.start()
        yield running
    finally:
        running.stop()
        shutil.rmtree(home, ignore_errors=True)
