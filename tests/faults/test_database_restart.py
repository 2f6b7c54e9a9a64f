"""PostgreSQL is restarted while citizens vote; Agora itself is not restarted."""

import time
import urllib.request

import pytest

from tests.support.shape import (
    Voters,
    assert_nothing_lost,
    query,
    seed,
    votes_in_database,
    wait_for,
)

pytestmark = [pytest.mark.production, pytest.mark.timeout(300)]
OUTAGE_SECONDS = 3


def healthy(url):
    try:
        with urllib.request.urlopen(f"{url}/health/", timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def test_a_database_restart_under_load_answers_503s_and_service_resumes_by_itself(shape):
    """What citizens saw: while PostgreSQL was restarting, their votes were answered
    "503 Service Unavailable" with a Retry-After (a JSON reason from the API), never an
    error page nor silence; a few seconds after it was back, votes were taken again,
    without anyone restarting Agora. Nothing was half-written: every vote in the database
    comes with the follow its transaction wrote, and every acknowledged vote is there."""
    stage = seed(shape, items=3, citizens=6)
    processes = {n: shape.state["services"][n]["pid"] for n in ("web1", "web2", "worker")}
    voters = Voters(shape.url, stage["citizens"], stage["items"], pause=0.05).start()
    try:
        wait_for(lambda: len(voters.answers) > 20, 30, "votes before the restart")
        shape.stop_service("postgres")
        down_at = time.time()
        wait_for(lambda: time.time() > down_at + OUTAGE_SECONDS, OUTAGE_SECONDS + 5, "outage")
        shape.start_service("postgres")
        back_at = time.time()
        resumed = wait_for(
            lambda: next((a.at for a in voters.answers if a.at > back_at and a.status == 200), 0),
            60,
            "a vote to be taken again",
        )
        wait_for(lambda: time.time() > resumed + 3, 10, "a few more votes")
    finally:
        voters.stop()

    statuses = voters.statuses()
    assert set(statuses) <= {200, 503}, f"clean answers only: {statuses}"
    # Votes in flight when PostgreSQL stopped, and those that waited longer than
    # DATABASE_POOL_TIMEOUT for it to come back, were answered 503; the others waited.
    refused = [a for a in voters.answers if a.status == 503]
    assert all(a.retry_after and a.body.get("code") == "unavailable" for a in refused), refused[:3]
    # Once PostgreSQL is back, the pools reconnect by themselves (psycopg-pool retries with
    # a growing pause), within seconds; after the first vote taken, every vote is taken.
    assert resumed - back_at < 20, f"votes resumed {resumed - back_at:.1f} s after PostgreSQL"
    late = [a for a in voters.answers if a.sent > resumed + 1]
    assert late, "votes were sent after the service resumed"
    assert all(a.status == 200 for a in late), [(a.status, a.body) for a in late if a.status != 200]
    assert processes == {n: shape.state["services"][n]["pid"] for n in processes}
    assert healthy(shape.url)

    database = votes_in_database(shape, stage["consultation"]["id"])
    assert_nothing_lost(voters, database)
    # One transaction writes a vote and the voter's follow of the consultation: a vote
    # without its follow would be a half-written transaction.
    unfollowed = query(
        shape,
        "SELECT v.user_id FROM consultation_vote v JOIN consultation_item i ON i.id = v.item_id "
        "WHERE i.consultation_id = %s AND NOT EXISTS (SELECT 1 FROM consultation_follow f "
        "WHERE f.user_id = v.user_id AND f.consultation_id = i.consultation_id)",
        stage["consultation"]["id"],
    )
    assert unfollowed == []
