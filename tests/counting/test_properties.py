"""Properties that must hold for every profile (hypothesis, derandomised for CI)."""

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from consultation.counting import (
    METHODS,
    GradeProfile,
    RankingProfile,
    VoteProfile,
    borda,
    compute,
    condorcet_winner,
    copeland,
    instant_runoff,
    majority_judgment,
    pairwise_update,
    schulze,
)
from consultation.counting.majority_judgment import compare, majority_values

PROPERTY = settings(max_examples=150, deadline=None, derandomize=True, database=None)
RANKING_METHODS = [name for name, m in METHODS.items() if m.kind == "ranking"]


@st.composite
def ranking_profiles(draw, min_ballots=0, max_ballots=25):
    m = draw(st.integers(2, 6))
    k = draw(st.integers(1, m))
    ballot = st.permutations(range(m)).flatmap(
        lambda p: st.integers(1, k).map(lambda length: list(p[:length]))
    )
    rankings = draw(st.lists(ballot, min_size=min_ballots, max_size=max_ballots))
    ids = [100 + 7 * i for i in range(m)]
    return RankingProfile.from_rankings(ids, [[ids[i] for i in r] for r in rankings], k)


@st.composite
def grade_profiles(draw):
    m = draw(st.integers(1, 5))
    scale = draw(st.sampled_from([6, 7]))
    counts = draw(
        st.lists(
            st.lists(st.integers(0, 4), min_size=scale, max_size=scale), min_size=m, max_size=m
        )
    )
    return GradeProfile(tuple(range(1, m + 1)), scale, np.array(counts))


def permuted(profile, seed):
    order = np.random.default_rng(seed).permutation(profile.n_ballots)
    return RankingProfile(profile.candidates, profile.ballots[order])


@PROPERTY
@given(ranking_profiles(min_ballots=1))
def test_a_condorcet_winner_always_wins_schulze_and_copeland(profile):
    winner = condorcet_winner(profile)
    if winner is not None:
        assert schulze(profile).winners == (winner,)
        assert copeland(profile).winners == (winner,)


@PROPERTY
@given(ranking_profiles(), st.integers(0, 2**32 - 1))
def test_permuting_ballots_never_changes_a_result(profile, seed):
    shuffled = permuted(profile, seed)
    for name in RANKING_METHODS:
        assert compute(name, shuffled).to_dict() == compute(name, profile).to_dict(), name


@PROPERTY
@given(ranking_profiles(), st.data())
def test_adding_a_ballot_that_ranks_a_first_never_hurts_a_under_borda(profile, data):
    m, k = len(profile.candidates), profile.ranking_size
    a = data.draw(st.integers(0, m - 1))
    rest = data.draw(st.permutations([i for i in range(m) if i != a]))
    ballot = [a, *rest[: data.draw(st.integers(0, k - 1))]]
    padded = np.array([ballot + [-1] * (k - len(ballot))])
    more = RankingProfile(profile.candidates, np.vstack([profile.ballots, padded]))
    before, after = borda(profile), borda(more)
    item = profile.candidates[a]
    assert after.rank(item) <= before.rank(item)
    for other in profile.candidates:
        gap_before = before.scores[item]["points"] - before.scores[other]["points"]
        gap_after = after.scores[item]["points"] - after.scores[other]["points"]
        assert gap_after >= gap_before


@PROPERTY
@given(ranking_profiles(min_ballots=1), st.data())
def test_a_live_matrix_follows_replaced_ballots_exactly(profile, data):
    m, k = len(profile.candidates), profile.ranking_size
    live = profile.pairwise().copy()
    ballots = profile.ballots.copy()
    row = data.draw(st.integers(0, profile.n_ballots - 1))
    new = list(data.draw(st.permutations(range(m)))[: data.draw(st.integers(1, k))])
    old = [int(i) for i in ballots[row] if i >= 0]
    pairwise_update(live, old, new)
    ballots[row] = new + [-1] * (k - len(new))
    rebuilt = RankingProfile(profile.candidates, ballots)
    assert (live == rebuilt.pairwise()).all()
    assert schulze(live, profile.candidates, profile.n_ballots).to_dict() == (
        schulze(rebuilt).to_dict()
    )


def reference_irv(profile):
    """Plain Python IRV with the same rules, one ballot at a time."""
    m = len(profile.candidates)
    ballots = [[int(i) for i in row if i >= 0] for row in profile.ballots]
    alive, history, eliminated = set(range(m)), [], []
    while len(alive) > 1:
        votes = [0] * m
        for ballot in ballots:
            top = next((i for i in ballot if i in alive), None)
            if top is not None:
                votes[top] += 1
        history.append(votes)
        tied = [i for i in sorted(alive) if votes[i] == min(votes[j] for j in alive)]
        for past in reversed(history[:-1]):
            if len(tied) > 1:
                tied = [i for i in tied if past[i] == min(past[j] for j in tied)]
        eliminated.append(tied[-1])
        alive.discard(tied[-1])
    return [profile.candidates[i] for i in [*alive, *reversed(eliminated)]]


@PROPERTY
@given(ranking_profiles())
def test_instant_runoff_matches_a_plain_python_reference(profile):
    assert list(instant_runoff(profile).order) == reference_irv(profile)


def brute_majority_values(row):
    grades = sorted(np.repeat(np.arange(len(row)), row).tolist())
    values = []
    while grades:
        values.append(grades.pop((len(grades) - 1) // 2))
    return values


@PROPERTY
@given(st.lists(st.integers(0, 6), min_size=1, max_size=40))
def test_majority_values_are_the_successive_lower_medians(grades):
    row = np.bincount(grades, minlength=7)
    assert majority_values(row, len(grades)).tolist() == brute_majority_values(row)


@PROPERTY
@given(
    st.integers(1, 12).flatmap(
        lambda n: st.tuples(*[st.lists(st.integers(0, 6), min_size=n, max_size=n)] * 2)
    )
)
def test_with_equal_numbers_of_grades_the_gauge_agrees_with_the_majority_ranking(pair):
    # Balinski and Laraki: when gauges differ they order items as the majority values do.
    x, y = (np.bincount(g, minlength=7) for g in pair)
    vx, vy = brute_majority_values(x), brute_majority_values(y)
    expected = -1 if vx > vy else (1 if vx < vy else 0)
    assert compare(x, y)["sign"] == expected


@PROPERTY
@given(grade_profiles())
def test_majority_judgment_tiers_partition_the_order_and_ties_are_symmetric(profile):
    result = majority_judgment(profile)
    assert [i for tier in result.tiers for i in tier] == list(result.order)
    counts = {c: profile.counts[i] for i, c in enumerate(profile.candidates)}
    for a, b in itertools.pairwise(result.order):
        outcome = compare(counts[a], counts[b])["sign"]
        assert outcome == (0 if result.tied(a, b) else -1)
        assert compare(counts[b], counts[a])["sign"] == -outcome


@PROPERTY
@given(grade_profiles(), st.integers(0, 2**32 - 1))
def test_grade_and_vote_rows_in_any_order_give_the_same_result(profile, seed):
    rows = [
        (c, g)
        for i, c in enumerate(profile.candidates)
        for g in range(profile.scale)
        for _ in range(profile.counts[i, g])
    ]
    shuffled = [rows[i] for i in np.random.default_rng(seed).permutation(len(rows))]
    a = GradeProfile.from_grades(profile.candidates, profile.scale, rows, 9)
    b = GradeProfile.from_grades(profile.candidates, profile.scale, shuffled, 9)
    assert majority_judgment(a).to_dict() == majority_judgment(b).to_dict()
    choices = [(c, ("for", "against", "abstain")[g % 3]) for c, g in rows]
    vote_rows = [choices[i] for i in np.random.default_rng(seed).permutation(len(rows))]
    assert compute("votes", VoteProfile.from_votes(profile.candidates, choices)).to_dict() == (
        compute("votes", VoteProfile.from_votes(profile.candidates, vote_rows)).to_dict()
    )
