"""Citizens vote right up to, and past, the consultation's closing time."""

import time

import pytest

from tests.support.shape import (
    Voters,
    assert_nothing_lost,
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


def test_a_vote_at_the_closing_second_is_either_recorded_and_counted_or_refused(shape):
    """What citizens saw: until the closing time their votes were acknowledged; from it on
    they were refused with a clear reason (a 4xx saying the vote is closed), never an error
    page nor silence. Nothing was lost or slipped in: every acknowledged vote is in the
    database and in the final count, no vote in the database is dated at or after the
    closing time, and no refused vote was written."""
    stage = seed(shape, items=2, citizens=12)
    closes_at = closes_in(shape, stage["consultation"]["id"], 3)
    voters = Voters(shape.url, stage["citizens"], stage["items"], pause=0.0)
    wait_for(lambda: time.time() > closes_at - 1.5, 10, "a moment before closing")
    voters.start()
    try:
        wait_for(lambda: time.time() > closes_at + 1.5, 10, "a moment after closing")
    finally:
        voters.stop()

    statuses = voters.statuses()
    assert 200 in statuses and set(statuses) - {200}, f"votes both sides of closing: {statuses}"
    refused = [a for a in voters.answers if a.status != 200]
    assert all(400 <= a.status < 500 and a.body.get("code") for a in refused), refused[:3]
    assert all(a.at >= closes_at for a in refused), "nothing was refused before closing"

    consultation = stage["consultation"]["id"]
    database = votes_in_database(shape, consultation)
    assert_nothing_lost(voters, database)
    late = query(
        shape,
        "SELECT count(*) FROM consultation_vote v JOIN consultation_item i ON i.id = v.item_id "
        "JOIN consultation_consultation c ON c.id = i.consultation_id "
        "WHERE c.id = %s AND v.updated_at >= c.closes_at",
        consultation,
    )[0][0]
    assert late == 0, "no vote is dated at or after the closing time"

    # The beat closes it and the worker counts: the final count is the database's.
    rows = wait_for(lambda: final_results(shape, consultation), 60, "the final count")
    assert len(rows) == 1
    assert counted_votes(rows[0]) == tally_of(database)
