"""The periodic reconciliation repairs live counters that drifted, and never undoes votes
that land while it counts (bench/load.py found it doing so under load: docs/performance.md,
"Load, with nothing lost"). The minute pass reads only what changed; the full check reads
everything (decision 0040)."""

import re
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from consultation.live import counters, events, repair, stores
from consultation.models import Ballot, BallotEntry
from consultation.participation import voting
from tests.factories import make_consultation, make_user

# The counters change after each commit: real commits.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def consultation():
    return make_consultation(items=3)


def _people(n, start=0):
    return [
        make_user(f"votante{i}@example.org", display_name=f"Votante {i}")
        for i in range(start, start + n)
    ]


def test_votes_cast_while_the_reconciliation_counts_stay_counted(consultation):
    item = consultation.items.first()
    counters.current_counts(consultation)  # built, as after the first page view
    people = iter(_people(12))
    voting_now = False

    def a_vote_after_each_query(execute, sql, params, many, context):
        """Someone votes each time the reconciliation has read something."""
        nonlocal voting_now
        result = execute(sql, params, many, context)
        if not voting_now:
            voting_now = True
            try:
                voter = next(people, None)
                if voter is not None:
                    voting.cast_vote(voter, item, "for")
            finally:
                voting_now = False
        return result

    with connection.execute_wrapper(a_vote_after_each_query):
        repair.reconcile(consultation)

    live, participants = stores.store().read(consultation.pk)
    truth, people_in_db = counters.recount(consultation)
    assert {k: v for k, v in live.items() if v} == {k: v for k, v in truth.items() if v}
    assert participants == len(people_in_db)


def test_counters_that_drifted_are_repaired(consultation):
    item = consultation.items.first()
    for person in _people(3):
        voting.cast_vote(person, item, "against")
    counters.current_counts(consultation)
    stores.store().apply(consultation.pk, {stores.vote_field(item.pk, "against"): 5, "votes": 5})

    drift = repair.reconcile(consultation)

    assert drift[stores.vote_field(item.pk, "against")] == (8, 3)
    live, _participants = stores.store().read(consultation.pk)
    assert live[stores.vote_field(item.pk, "against")] == 3


# --- ranking ballots: the ledger, the minute pass and the full check (decision 0040) -----


@pytest.fixture
def ranked(consultation):
    """Five citizens ranked; the live view built (as after the first page view)."""
    items = _items(consultation)
    people = _people(5)
    for i, person in enumerate(people):
        voting.submit_ballot(person, consultation, [items[i % 3], items[(i + 1) % 3]])
    counters.current_counts(consultation)
    events.wait_for_pending_tallies()  # no tally frame left to read the database later
    return people


def _items(consultation):
    return list(consultation.items.order_by("position", "id").values_list("pk", flat=True))


def _assert_live_view_is_the_database(consultation):
    """Counters, participants, live matrix and ledger: each as a recount has it."""
    live, participants = stores.store().read(consultation.pk)
    truth, people = counters.recount(consultation)
    assert {k: v for k, v in live.items() if v} == {k: v for k, v in truth.items() if v}
    assert participants == len(people)
    matrix = stores.pairwise_store().read(consultation.pk)
    assert (matrix.matrix == counters.recount_pairwise(consultation).matrix).all()
    truth = counters.counted_rankings(consultation)
    assert stores.store().counted_ballots(consultation.pk, truth) == truth
    assert stores.store().counted_ballot_count(consultation.pk) == len(truth)


def _rewrite_without_live_update(ballot, item_ids):
    """A ballot changed in the database whose after-commit update never came (its process
    was killed between the commit and the live update)."""
    with transaction.atomic():
        ballot.entries.all().delete()
        for rank, item_id in enumerate(item_ids, start=1):
            BallotEntry.objects.create(ballot=ballot, item_id=item_id, rank=rank)
        Ballot.objects.filter(pk=ballot.pk).update(updated_at=timezone.now())


def test_a_ballot_whose_live_update_was_lost_is_repaired_by_the_minute_pass(consultation, ranked):
    items = _items(consultation)
    ballot = Ballot.objects.get(user=ranked[0])
    _rewrite_without_live_update(ballot, [items[2], items[1], items[0]])
    newcomer = make_user("tardive@example.org", display_name="Tardive")
    Ballot.objects.create(consultation=consultation, user=newcomer).entries.create(
        item_id=items[1], rank=1
    )

    drift = repair.reconcile(consultation)

    assert drift[f"ballot:{ballot.pk}"] == (1, 1)
    assert drift[f"ballot:{Ballot.objects.get(user=newcomer).pk}"] == (0, 1)
    _assert_live_view_is_the_database(consultation)
    assert repair.reconcile(consultation) == {}  # and nothing more to do


def test_a_withdrawal_whose_live_update_was_lost_is_repaired_by_the_minute_pass(
    consultation, ranked
):
    gone = Ballot.objects.get(user=ranked[1])
    Ballot.objects.filter(pk=gone.pk).delete()

    drift = repair.reconcile(consultation)

    assert drift == {f"ballot:{gone.pk}": (1, 0)}
    live, _participants = stores.store().read(consultation.pk)
    assert live["ballots"] == 4
    repair.reconcile(consultation, full=True)  # the participant count is the full check's
    _assert_live_view_is_the_database(consultation)


def test_an_update_that_arrives_after_the_repair_is_not_counted_twice(consultation, ranked):
    items = _items(consultation)
    ballot = Ballot.objects.get(user=ranked[2])
    old = list(stores.store().counted_ballots(consultation.pk, [ballot.pk])[ballot.pk])
    _rewrite_without_live_update(ballot, [items[0]])
    assert repair.reconcile(consultation)

    # The late after-commit update of that write, from a process that was only slow.
    events.ballot_changed(consultation.pk, ranked[2].pk, ballot.pk, old, [items[0]])

    _assert_live_view_is_the_database(consultation)


def test_ballots_cast_while_the_minute_pass_and_the_full_check_read_stay_counted(
    consultation, ranked
):
    items = _items(consultation)
    _rewrite_without_live_update(Ballot.objects.get(user=ranked[3]), [items[1]])  # drift
    newcomers = iter(_people(35, start=5))
    rankings = iter([[items[0], items[2]], [items[2]], [items[1], items[0], items[2]]] * 20)
    voting_now = False

    def a_ballot_after_each_query(execute, sql, params, many, context):
        """Someone ranks (a newcomer, or a citizen who changes their mind) after each
        statement the reconciliation runs."""
        nonlocal voting_now
        result = execute(sql, params, many, context)
        if not voting_now:
            voting_now = True
            try:
                person = next(newcomers, None) or ranked[len(sql) % 5]
                voting.submit_ballot(person, consultation, next(rankings))
            finally:
                voting_now = False
        return result

    with connection.execute_wrapper(a_ballot_after_each_query):
        repair.reconcile(consultation)
        repair.reconcile(consultation, full=True)

    _assert_live_view_is_the_database(consultation)


def test_drift_in_the_ballot_counters_and_the_matrix_is_repaired_by_the_full_check(
    consultation, ranked
):
    items = _items(consultation)
    stores.store().adjust(
        consultation.pk,
        {stores.rank_field(items[0], 1): 7, "ballots": 2},
        {(items[0], items[1]): 3, (items[2],): -1},
    )
    assert repair.reconcile(consultation) == {}  # nothing changed: the minute pass reads nothing

    drift = repair.reconcile(consultation, full=True)

    assert drift[stores.rank_field(items[0], 1)][0] - drift[stores.rank_field(items[0], 1)][1] == 7
    assert drift["ballots"] == (7, 5)
    assert "pairwise" in drift
    _assert_live_view_is_the_database(consultation)


def _statements_of_the_minute_pass(consultation):
    with CaptureQueriesContext(connection) as queries:
        repair.reconcile(consultation)
    return [q["sql"] for q in queries.captured_queries]


def test_the_minute_pass_reads_only_the_ballots_that_changed(consultation, ranked):
    items = _items(consultation)
    for person in _people(35, start=5):  # many more ballots, none of them changed since
        voting.submit_ballot(person, consultation, [items[0]])
    repair.reconcile(consultation, full=True)
    # As if the last pass ran a while after all this: the minute pass will look back
    # GRACE_SECONDS from then, and find nothing.
    later = time.time() + 2 * repair.GRACE_SECONDS
    stores.store().set_checked(consultation.pk, later)

    quiet = _statements_of_the_minute_pass(consultation)
    assert not [sql for sql in quiet if "consultation_ballotentry" in sql]

    changed = Ballot.objects.get(user=ranked[4])
    Ballot.objects.filter(pk=changed.pk).update(
        updated_at=timezone.now() + timedelta(seconds=2 * repair.GRACE_SECONDS)
    )
    stores.store().set_checked(consultation.pk, later)
    busy = _statements_of_the_minute_pass(consultation)
    entries = [sql for sql in busy if "consultation_ballotentry" in sql]
    assert len(entries) == 1
    assert re.search(rf"\bIN \({changed.pk}\)", entries[0]), entries[0]
    assert len(busy) <= len(quiet) + 2  # the changed ballots, their entries


def test_the_minute_pass_and_the_hourly_full_check_are_on_the_beat_schedule(settings):
    schedule = {e["task"]: e["schedule"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    assert schedule["consultation.tasks.reconcile_live_counters"] == 60.0
    assert schedule["consultation.tasks.reconcile_live_counters_fully"] == 3600.0


def test_the_full_check_job_repairs_every_open_consultation(consultation, ranked):
    from consultation.tasks import reconcile_live_counters_fully

    stores.store().adjust(consultation.pk, {"ballots": 1}, {})
    assert reconcile_live_counters_fully() == {consultation.slug: {"ballots": [6, 5]}}
    assert reconcile_live_counters_fully() == {}
