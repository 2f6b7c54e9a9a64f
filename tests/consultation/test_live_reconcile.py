"""The periodic reconciliation repairs live counters that drifted, and never undoes votes
that land while it counts (bench/load.py found it doing so under load: docs/performance.md,
"Load, with nothing lost")."""

import pytest
from django.db import connection

from consultation.live import counters, repair, stores
from consultation.participation import voting
from tests.factories import make_consultation, make_user

# The counters change after each commit: real commits.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def consultation():
    return make_consultation(items=3)


def _people(n):
    return [make_user(f"votante{i}@example.org", display_name=f"Votante {i}") for i in range(n)]


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
