"""The broker (Redis) is down when a write queues a background job."""

import pytest

from tests.support.shape import query, run_in_shape, seed, wait_for

pytestmark = [pytest.mark.production, pytest.mark.timeout(300)]


def test_closing_while_the_broker_is_down_succeeds_and_the_count_runs_once_it_is_back(shape):
    """What the organiser saw: closing the consultation worked at once although the broker
    was down (the page answered, the consultation shows as closed), and its results came
    once the broker was back, with nobody doing anything. Nothing was lost: the count job,
    queued while the broker could not take it, ran, once."""
    stage = seed(shape, items=2, citizens=0, participants=4)
    consultation = stage["consultation"]["id"]
    shape.stop_service("redis")
    try:
        # What the organiser's "close now" button calls (consultation.organising.lifecycle).
        took = float(
            run_in_shape(
                shape,
                "import time\n"
                "from consultation.organising import lifecycle\n"
                "started = time.monotonic()\n"
                f"lifecycle.transition({consultation}, 'closed', reason='')\n"
                "print(time.monotonic() - started)\n",
            ).split()[-1]
        )
        status = query(
            shape, "SELECT status FROM consultation_consultation WHERE id = %s", consultation
        )
        assert status == [("closed",)], "the write succeeded"
        assert took < 5, f"closing waited {took:.1f} s for the broker"
    finally:
        shape.start_service("redis")

    rows = wait_for(
        lambda: query(
            shape,
            "SELECT count(*) FROM consultation_computedresult "
            "WHERE consultation_id = %s AND kind = 'final' HAVING count(*) > 0",
            consultation,
        ),
        60,
        "the final count, queued while the broker was down",
    )
    assert rows == [(1,)]
