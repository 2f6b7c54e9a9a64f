"""What pages and the API show of a consultation's participation and tallies: of an open
one, the live counters (never a count of every vote on each view); of any other, the
database. Both say what the database holds."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from consultation import queries
from consultation.live import counters
from consultation.participation import voting
from tests.factories import close, make_consultation

pytestmark = pytest.mark.django_db(transaction=True)  # the live counters move after commit


def _take_part(consultation, people):
    first, second = consultation.items.order_by("position")[:2]
    for n, person in enumerate(people):
        voting.cast_vote(person, first, ("for", "against", "abstain")[n % 3])
        voting.grade_item(person, second, n % consultation.grade_scale)
        voting.submit_ballot(person, consultation, [second.pk, first.pk])


def test_an_open_consultation_shows_its_live_counters_which_agree_with_the_database(
    make_user,
):
    consultation = make_consultation(items=3)
    people = [make_user() for _ in range(4)]
    counters.shown_counts(consultation, tallies=True)  # the first view builds the counters
    _take_part(consultation, people)
    voting.cast_vote(people[0], consultation.items.order_by("position")[0], "against")

    with CaptureQueriesContext(connection) as statements:
        counts, tallies = counters.shown_counts(consultation, tallies=True)
    expected = queries.participation_counts(consultation)
    assert counts == expected and counts["participants"] == 4 and counts["votes"] == 4
    assert tallies == queries.item_tallies(consultation)
    # Not counted from the rows: no statement reads the votes, grades or ballots.
    read = " ".join(q["sql"] for q in statements.captured_queries)
    for table in ("consultation_vote", "consultation_grade", "consultation_ballotentry"):
        assert table not in read, read


def test_a_closed_consultation_is_counted_from_the_database(make_user):
    consultation = make_consultation(items=3)
    _take_part(consultation, [make_user() for _ in range(3)])
    close(consultation)
    counts, tallies = counters.shown_counts(consultation, tallies=True)
    assert counts == queries.participation_counts(consultation)
    assert tallies == queries.item_tallies(consultation)
    assert counters.shown_counts(consultation, tallies=False)[1] == {}
