"""Profiles: what they accept, what they refuse, and the pairwise matrix."""

import itertools

import numpy as np
import pytest

from consultation.counting import (
    GradeProfile,
    RankingProfile,
    VoteProfile,
    pairwise,
    pairwise_update,
)
from consultation.counting import profiles as profiles_module


def test_rankings_become_candidate_indices_padded_with_minus_one():
    profile = RankingProfile.from_rankings([30, 10, 20], [[10, 30], [20]], ranking_size=3)
    assert profile.ballots.tolist() == [[1, 0, -1], [2, -1, -1]]
    assert profile.ballots.dtype == np.int8
    assert (profile.n_ballots, profile.ranking_size) == (2, 3)


def test_without_a_ranking_size_k_is_the_longest_ballot():
    profile = RankingProfile.from_rankings([1, 2, 3], [[1], [3, 2, 1], [2]])
    assert profile.ranking_size == 3


def test_more_than_127_candidates_use_int16():
    profile = RankingProfile.from_rankings(range(200), [[199, 0]])
    assert profile.ballots.dtype == np.int16 and profile.ballots.tolist() == [[199, 0]]


@pytest.mark.parametrize(
    ("rankings", "message"),
    [
        ([[1, 9]], "unknown item 9"),
        ([[2, 2]], "ranked twice"),
        ([[1], []], "ballot 2: empty ranking"),
        ([[1, 2, 3]], "more than 2"),
    ],
)
def test_from_rankings_refuses_bad_ballots_with_a_clear_message(rankings, message):
    with pytest.raises(ValueError, match=message):
        RankingProfile.from_rankings([1, 2, 3], rankings, ranking_size=2)


def test_the_ballot_array_is_checked_too():
    with pytest.raises(ValueError, match="after an empty rank"):
        RankingProfile((1, 2, 3), np.array([[0, -1, 1]]))
    with pytest.raises(ValueError, match="twice"):
        RankingProfile((1, 2, 3), np.array([[0, 0, -1]]))
    with pytest.raises(ValueError, match="out of range"):
        RankingProfile((1, 2, 3), np.array([[3, -1, -1]]))
    with pytest.raises(ValueError, match="unique"):
        RankingProfile((1, 1), np.array([[0]]))


def test_profiles_are_read_only():
    profile = RankingProfile.from_rankings([1, 2], [[1, 2]])
    with pytest.raises(ValueError):
        profile.ballots[0, 0] = 1
    with pytest.raises(ValueError):
        profile.pairwise()[0, 1] = 5


def test_a_generator_is_consumed_in_chunks(monkeypatch):
    monkeypatch.setattr(profiles_module, "CHUNK", 7)
    seen = []

    def rankings():
        for n in range(100):
            seen.append(n)
            yield [n % 3 + 1, (n + 1) % 3 + 1]

    profile = RankingProfile.from_rankings([1, 2, 3], rankings())
    assert profile.n_ballots == 100 and len(seen) == 100
    assert profile.ballots[99].tolist() == [0, 1]


def test_chunks_of_different_widths_are_padded_to_the_same_k(monkeypatch):
    monkeypatch.setattr(profiles_module, "CHUNK", 2)
    profile = RankingProfile.from_rankings([1, 2, 3], [[1], [2], [3, 1, 2]])
    assert profile.ballots.tolist() == [[0, -1, -1], [1, -1, -1], [2, 0, 1]]


def brute_pairwise(rankings, m):
    d = np.zeros((m, m), dtype=np.int64)
    for ranking in rankings:
        position = {c: r for r, c in enumerate(ranking)}
        for i, j in itertools.permutations(range(m), 2):
            if i in position and (j not in position or position[i] < position[j]):
                d[i, j] += 1
    return d


def test_pairwise_ranks_ranked_items_above_unranked_and_leaves_unranked_tied():
    profile = RankingProfile.from_rankings([1, 2, 3, 4], [[2, 1], [3]], ranking_size=2)
    d = profile.pairwise()
    assert d.tolist() == [
        [0, 0, 1, 1],  # 1 above 3 and 4 on the first ballot
        [1, 0, 1, 1],
        [1, 1, 0, 1],  # 3 above everyone on the second
        [0, 0, 0, 0],  # 4 is never ranked
    ]


def test_pairwise_equals_a_brute_force_count_on_random_ballots():
    rng = np.random.default_rng(11)
    m = 9
    rankings = [list(rng.permutation(m)[: rng.integers(1, 5)]) for _ in range(300)]
    profile = RankingProfile.from_rankings(range(m), rankings, ranking_size=4)
    assert (profile.pairwise() == brute_pairwise(rankings, m)).all()


def test_pairwise_update_replaces_a_ballot_like_a_full_recount():
    rankings = [[0, 1, 2], [2, 3], [1]]
    live = RankingProfile.from_rankings(range(5), rankings, 3).pairwise().copy()
    pairwise_update(live, [2, 3], [4, 0, 3])  # a citizen changes their mind
    pairwise_update(live, None, [3])  # a new ballot
    pairwise_update(live, [1], None)  # a ballot withdrawn
    expected = RankingProfile.from_rankings(range(5), [[0, 1, 2], [4, 0, 3], [3]], 3)
    assert (live == expected.pairwise()).all()


def test_pairwise_update_refuses_a_malformed_ballot():
    matrix = np.zeros((3, 3), dtype=np.int64)
    with pytest.raises(ValueError):
        pairwise_update(matrix, None, [0, 0])
    with pytest.raises(ValueError):
        pairwise_update(matrix, None, [3])


def test_grade_profile_from_rows_and_from_a_dense_array_agree():
    rows = [(10, 6), (11, 0), (10, 6), (11, 3)]
    from_rows = GradeProfile.from_grades([10, 11, 12], 7, rows)
    dense = np.array([[6, 0, -1], [6, 3, -1]])
    from_array = GradeProfile.from_array([10, 11, 12], 7, dense)
    assert from_rows.counts.tolist() == from_array.counts.tolist()
    assert from_rows.counts[0, 6] == 2 and from_rows.counts[2].sum() == 0
    assert from_array.n_ballots == 2


@pytest.mark.parametrize(
    ("rows", "message"), [([(9, 1)], "unknown item 9"), ([(10, 7)], "outside 0..6")]
)
def test_grade_profile_refuses_bad_rows(rows, message):
    with pytest.raises(ValueError, match=message):
        GradeProfile.from_grades([10], 7, rows)


def test_grade_profile_refuses_an_unknown_scale():
    with pytest.raises(ValueError, match="scale"):
        GradeProfile.from_grades([10], 5, [])


def test_vote_profile_refuses_an_unknown_choice():
    with pytest.raises(ValueError, match="maybe"):
        VoteProfile.from_votes([1], [(1, "maybe")])


@pytest.mark.parametrize("m", [5, 64, 65, 130])
def test_duplicates_are_found_below_and_above_64_candidates(m):
    ballots = np.array([[0, 1, -1], [2, 3, 4]])
    RankingProfile(tuple(range(m)), ballots)  # no duplicate: accepted
    with pytest.raises(ValueError, match="twice"):
        RankingProfile(tuple(range(m)), np.array([[0, 1, -1], [4, 3, 4]]))


@pytest.mark.parametrize(("m", "k"), [(12, 3), (12, 12), (40, 10), (9, 9)])
def test_both_pairwise_strategies_count_the_same(m, k):
    rng = np.random.default_rng(m * k)
    ballots = np.array([rng.permutation(m)[:k] for _ in range(3000)], dtype=np.int8)
    if k < m or m == 9:
        ballots[rng.random(3000) < 0.3, k // 2 :] = -1  # truncated ballots
    by_positions = np.zeros((m, m), dtype=np.int64)
    pairwise._add_by_positions(by_positions, ballots, m)
    by_ranks = np.zeros((m, m), dtype=np.int64)
    pairwise._add_by_ranks(by_ranks, ballots, m, full=False)
    np.fill_diagonal(by_positions, 0)
    np.fill_diagonal(by_ranks, 0)
    rankings = [[int(i) for i in row if i >= 0] for row in ballots]
    assert (by_positions == by_ranks).all()
    assert (pairwise.pairwise_matrix(ballots, m) == brute_pairwise(rankings, m)).all()
