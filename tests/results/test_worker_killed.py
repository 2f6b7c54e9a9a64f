"""A worker killed in the middle of the final count: another one finishes it, once.

Production shape only (Redis broker, real worker processes). With ``acks_late`` the task
message stays unacknowledged in Redis while it runs; SIGKILL leaves it so, and Redis
hands it out again once ``visibility_timeout`` has passed since delivery: the next
worker restores it when it starts polling.
"""

import os
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.utils import timezone

from config.celery import app
from consultation.models import ComputedResult, Consultation
from consultation.results import computing, opendata
from consultation.tasks import compute_final_results
from tests.factories import make_consultation, take_part

pytestmark = [pytest.mark.production, pytest.mark.django_db(transaction=True)]
QUEUE = "agora-results-killtest"  # our own queue: the suite's worker must not take it
VISIBILITY = 4


def start_worker(name, **env):
    db = settings.DATABASES["default"]
    url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    environment = {
        **os.environ,
        "DATABASE_URL": url,
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        **env,
    }
    hostname = f"{name}@killtest"
    command = [sys.executable, "-m", "celery", "-A", "config.celery", "worker", "-Q", QUEUE]
    options = ["--pool=threads", "--concurrency=1", f"--hostname={hostname}"]
    quiet = ["--without-mingle", "--without-gossip", "--loglevel=WARNING"]
    process = subprocess.Popen(
        [*command, *options, *quiet],
        env=environment,
        cwd=settings.BASE_DIR,
    )
    deadline = time.monotonic() + 60
    while not app.control.ping(destination=[hostname], timeout=0.5):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"worker {name} did not start")
    return process


def wait(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def test_a_worker_killed_mid_count_is_replaced_and_the_result_stored_once(make_user):
    if settings.CELERY_EMBEDDED_WORKER:
        pytest.skip("needs the Redis broker and worker processes (production pass)")
    import random

    consultation = make_consultation(items=4)  # no organiser: no e-mail to deliver
    rng = random.Random(3)
    for _ in range(6):
        take_part(make_user(), consultation, rng=rng)
    # Closed without lifecycle: its own job would go to the suite's queue.
    Consultation.objects.filter(pk=consultation.pk).update(
        status=Consultation.Status.CLOSED, closed_at=timezone.now()
    )
    scratch = opendata.consultation_dir(consultation)

    first = start_worker("first", AGORA_TEST_RESULTS_PAUSE="30")
    second = None
    try:
        compute_final_results.apply_async(args=[consultation.pk], queue=QUEUE)
        delivered = time.monotonic()
        # The export is written and the worker pauses before counting: kill it there.
        wait(lambda: any(scratch.glob(".tmp-*/rankings.csv")), 60, "the export to start")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        assert not ComputedResult.objects.filter(consultation=consultation).exists()

        time.sleep(max(0.0, VISIBILITY + 1 - (time.monotonic() - delivered)))
        second = start_worker("second")
        wait(
            lambda: ComputedResult.objects.filter(consultation=consultation).exists(),
            60,
            "the redelivered task to finish",
        )
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=20)

    assert ComputedResult.objects.filter(consultation=consultation).count() == 1
    stored = ComputedResult.objects.get(consultation=consultation)
    clean = computing.compute_results(consultation.pk, "final")  # a clean run, here
    assert clean.changed is False
    assert clean.results_json == stored.results_json
    assert set(stored.results["methods"]) >= {"schulze", "votes"}
