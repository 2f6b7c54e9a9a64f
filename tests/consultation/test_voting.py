"""Votes, grades and ranking ballots through consultation.participation.voting."""

import pytest

from consultation.errors import Invalid
from consultation.models import Ballot, BallotEntry, Grade, Vote
from consultation.participation import voting
from tests.factories import make_consultation

pytestmark = pytest.mark.django_db


@pytest.fixture
def consultation():
    return make_consultation(items=5, ranking_size=3)


def test_a_vote_can_be_cast_changed_and_withdrawn(citizen, consultation):
    item = consultation.items.first()
    voting.cast_vote(citizen, item, "for")
    voting.cast_vote(citizen, item, "against")
    assert list(Vote.objects.filter(item=item).values_list("user", "choice")) == [
        (citizen.pk, "against")
    ]
    assert voting.withdraw_vote(citizen, item) is True
    assert not Vote.objects.exists()
    assert voting.withdraw_vote(citizen, item) is False


@pytest.mark.parametrize("choice", ["yes", "", None, "FOR", 1])
def test_unknown_vote_choices_are_refused(citizen, consultation, choice):
    with pytest.raises(Invalid) as refusal:
        voting.cast_vote(citizen, consultation.items.first(), choice)
    assert refusal.value.code == "invalid_choice"
    assert not Vote.objects.exists()


def test_a_grade_can_be_given_and_changed(citizen, consultation):
    item = consultation.items.first()
    voting.grade_item(citizen, item, 6)
    voting.grade_item(citizen, item, "2")
    assert list(Grade.objects.values_list("grade", flat=True)) == [2]


@pytest.mark.parametrize("grade", [-1, 7, "excellent", None, 2.5, True])
def test_grades_outside_the_seven_level_scale_are_refused(citizen, consultation, grade):
    with pytest.raises(Invalid):
        voting.grade_item(citizen, consultation.items.first(), grade)
    assert not Grade.objects.exists()


def test_the_six_level_scale_has_no_seventh_grade(citizen):
    consultation = make_consultation(grade_scale=6)
    voting.grade_item(citizen, consultation.items.first(), 5)
    with pytest.raises(Invalid):
        voting.grade_item(citizen, consultation.items.first(), 6)


def test_a_ballot_records_the_order_and_can_be_replaced(citizen, consultation):
    a, b, c, d, _e = consultation.items.all()
    voting.submit_ballot(citizen, consultation, [c.pk, a.pk])
    voting.submit_ballot(citizen, consultation, [b.pk, d.pk, a.pk])
    ballot = Ballot.objects.get()
    assert ballot.ranked_item_ids() == [b.pk, d.pk, a.pk]
    assert BallotEntry.objects.count() == 3


def test_a_ballot_can_be_withdrawn(citizen, consultation):
    voting.submit_ballot(citizen, consultation, [consultation.items.first().pk])
    assert voting.withdraw_ballot(citizen, consultation) is True
    assert not Ballot.objects.exists() and not BallotEntry.objects.exists()


def bad_ballots(consultation, other):
    a, b, c, d, _e = consultation.items.all()
    foreign = other.items.first()
    return {
        "empty": ([], "empty_ballot"),
        "not a list": ("1,2", "not_a_list"),
        "a mapping": ({"1": a.pk}, "not_a_list"),
        "a bare id": (a.pk, "not_a_list"),
        "duplicates": ([a.pk, b.pk, a.pk], "duplicate_item"),
        "more than K": ([a.pk, b.pk, c.pk, d.pk], "too_many_items"),
        "item of another consultation": ([a.pk, foreign.pk], "unknown_item"),
        "unknown item": ([a.pk, 999_999], "unknown_item"),
        "not a number": ([a.pk, "abc"], "not_an_item_id"),
        "null": ([None], "not_an_item_id"),
        "boolean": ([True], "not_an_item_id"),
        "a fraction": ([a.pk + 0.9], "not_an_item_id"),
        "a whole float": ([float(a.pk)], "not_an_item_id"),
        "a decimal string": ([f"{a.pk}.0"], "not_an_item_id"),
        "a negative string": ([f"-{a.pk}"], "not_an_item_id"),
        "non-ASCII digits": (["\u0661"], "not_an_item_id"),
        "a nested list": ([[a.pk]], "not_an_item_id"),
    }


@pytest.mark.parametrize(
    "shape",
    [
        "empty",
        "not a list",
        "a mapping",
        "a bare id",
        "duplicates",
        "more than K",
        "item of another consultation",
        "unknown item",
        "not a number",
        "null",
        "boolean",
        "a fraction",
        "a whole float",
        "a decimal string",
        "a negative string",
        "non-ASCII digits",
        "a nested list",
    ],
)
def test_every_bad_ballot_shape_is_refused_with_a_clear_reason(citizen, consultation, shape):
    ballot, code = bad_ballots(consultation, make_consultation())[shape]
    with pytest.raises(Invalid) as refusal:
        voting.submit_ballot(citizen, consultation, ballot)
    assert refusal.value.code == code
    assert str(refusal.value.message)
    if code != "empty_ballot":
        assert str(refusal.value.message) != "Rank at least one item."
    assert not Ballot.objects.exists()


def test_digit_strings_from_a_form_are_item_ids(citizen, consultation):
    a, b, *_ = consultation.items.all()
    voting.submit_ballot(citizen, consultation, [str(b.pk), a.pk])
    assert Ballot.objects.get().ranked_item_ids() == [b.pk, a.pk]


def test_a_refused_replacement_keeps_the_previous_ballot(citizen, consultation):
    a, b, *_ = consultation.items.all()
    voting.submit_ballot(citizen, consultation, [a.pk, b.pk])
    with pytest.raises(Invalid):
        voting.submit_ballot(citizen, consultation, [b.pk, b.pk])
    assert Ballot.objects.get().ranked_item_ids() == [a.pk, b.pk]


def test_the_database_refuses_a_rank_beyond_the_largest_k(citizen, consultation):
    from django.db import IntegrityError, transaction

    ballot = Ballot.objects.create(consultation=consultation, user=citizen)
    item = consultation.items.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        BallotEntry.objects.create(ballot=ballot, item=item, rank=21)
    BallotEntry.objects.create(ballot=ballot, item=item, rank=20)
