"""Redis is stopped while citizens vote with the live page open, then started again."""

import json
import time
import urllib.request

import pytest

from tests.support.shape import (
    LivePage,
    Voters,
    assert_nothing_lost,
    seed,
    tally_of,
    votes_in_database,
    wait_for,
)

pytestmark = [pytest.mark.production, pytest.mark.timeout(300)]
OUTAGE_SECONDS = 3


def live_snapshot(shape, slug):
    with urllib.request.urlopen(f"{shape.url}/api/v1/consultations/{slug}/live", timeout=10) as r:
        snapshot = json.load(r)
    return {
        key: item["votes"]
        for key, item in snapshot["consultation"]["items"].items()
        if item.get("votes") is not None
    }


def test_votes_go_on_through_a_redis_outage_and_counters_and_pages_catch_up(shape):
    """What citizens saw: while Redis was down their votes were still taken (each answered
    200, or a clean 503 with Retry-After, never an error page nor silence), and the live
    counts on their open pages stood still; once Redis was back the pages received a fresh
    snapshot and showed the right counts. Nothing was lost: every acknowledged vote is in
    the database, and the live counters, the API's live snapshot and every page agree with
    a recount from the database."""
    stage = seed(shape, items=3, citizens=6)
    slug = stage["consultation"]["slug"]
    pages = [LivePage(shape, slug).__enter__() for _ in range(2)]
    voters = Voters(shape.url, stage["citizens"], stage["items"], pause=0.05).start()
    try:
        wait_for(lambda: len(voters.answers) > 20, 30, "votes before the outage")
        shape.stop_service("redis")
        down_at = time.time()
        wait_for(lambda: time.time() > down_at + OUTAGE_SECONDS, OUTAGE_SECONDS + 5, "outage")
        during = [a for a in voters.answers if a.at > down_at]
        shape.start_service("redis")
        back_at = time.time()
        wait_for(lambda: len([a for a in voters.answers if a.at > back_at]) > 20, 30, "votes after")
    finally:
        voters.stop()
    try:
        statuses = voters.statuses()
        assert set(statuses) <= {200, 503}, f"votes succeed or fail cleanly: {statuses}"
        assert all(a.retry_after for a in voters.answers if a.status == 503)
        assert any(a.status == 200 for a in during), "votes were still taken during the outage"

        database = votes_in_database(shape, stage["consultation"]["id"])
        assert_nothing_lost(voters, database)
        expected = tally_of(database)
        wait_for(lambda: live_snapshot(shape, slug) == expected, 15, "live counters to reconcile")
        for page in pages:
            # Sent by the hub when Redis returns, or asked by the page after a gap in the
            # frames' numbers (static/js/live.js does the same).
            wait_for(
                lambda page=page: page.snapshots_since(down_at) or page.connections > 1,
                15,
                "the page to resync",
            )
            page.comes_to_show(expected)
    finally:
        for page in pages:
            page.__exit__(None, None, None)
