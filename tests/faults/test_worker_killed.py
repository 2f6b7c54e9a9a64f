"""The Celery worker is SIGKILLed in the middle of a consultation's final count."""

import signal

import pytest

from tests.support.shape import (
    closes_in,
    counted_votes,
    final_results,
    query,
    seed,
    tally_of,
    votes_in_database,
    wait_for,
)

pytestmark = [pytest.mark.production, pytest.mark.timeout(300)]


def test_a_worker_killed_mid_count_has_its_job_finished_once_after_a_restart(shape):
    """What the organisers saw: the consultation closed on time, its results came a few
    seconds late (the worker's supervisor restarted it), and came once. Nothing was lost
    nor doubled: one final result, counted from every participant's ballot."""
    stage = seed(shape, items=3, citizens=0, participants=6)
    consultation = stage["consultation"]
    shape.overrides["AGORA_TEST_RESULTS_PAUSE"] = "30"  # the count waits after its export
    shape.restart("worker")
    closes_in(shape, consultation["id"], 1)
    try:
        exports = shape.home / "media" / "opendata" / consultation["slug"]
        # The beat closes it (LIFECYCLE_CHECK_SECONDS=1) and queues the final count; the
        # worker writes the anonymised export, then pauses: kill it there.
        wait_for(lambda: any(exports.glob(".tmp-*/rankings.csv")), 60, "the count to start")
        shape.kill("worker", signal.SIGKILL)
        assert final_results(shape, consultation["id"]) == []
    finally:
        del shape.overrides["AGORA_TEST_RESULTS_PAUSE"]
        shape.start_service("worker")

    # The task was never acknowledged: after CELERY_VISIBILITY_TIMEOUT (6 s here) Redis
    # hands it to the restarted worker, which counts again from the start.
    rows = wait_for(lambda: final_results(shape, consultation["id"]), 60, "the final count")
    assert len(rows) == 1
    assert rows[0]["methods"]["votes"]["n_ballots"] == 6, "every participant counted"
    assert counted_votes(rows[0]) == tally_of(votes_in_database(shape, consultation["id"]))
    participants = query(
        shape,
        "SELECT count(*) FROM consultation_ballot WHERE consultation_id = %s",
        consultation["id"],
    )[0][0]
    assert participants == 6
