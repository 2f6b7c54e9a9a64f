"""Hand-worked cases with known answers."""

import numpy as np
import pytest

from consultation.counting import (
    GradeProfile,
    RankingProfile,
    VoteProfile,
    borda,
    condorcet_winner,
    copeland,
    count_votes,
    instant_runoff,
    majority_judgment,
    schulze,
)
from consultation.counting.explain import explain, explain_data
from tests.counting.helpers import (
    SCHULZE_45,
    SCHULZE_45_PAIRWISE,
    SCHULZE_45_PATHS,
    TENNESSEE,
    letters_profile,
    names,
)

# ------------------------------------------------------------------------------ Schulze


def test_schulze_45_voter_example_matches_the_paper():
    profile, ids = letters_profile(SCHULZE_45)
    result = schulze(profile)
    assert profile.pairwise().tolist() == SCHULZE_45_PAIRWISE
    assert result.details["strongest_paths"] == SCHULZE_45_PATHS
    assert names(result, ids) == "EACBD"
    assert result.winner == ids["E"]
    assert all(len(tier) == 1 for tier in result.tiers)
    assert [result.scores[ids[c]]["wins"] for c in "EACBD"] == [4, 3, 2, 1, 0]


def test_schulze_45_voter_example_has_no_condorcet_winner():
    profile, _ = letters_profile(SCHULZE_45)
    assert condorcet_winner(profile) is None
    assert copeland(profile).details["condorcet_winner"] is None


def test_schulze_explains_e_before_a_with_the_paths_of_the_paper():
    profile, ids = letters_profile(SCHULZE_45)
    data = explain_data(schulze(profile), ids["E"], ids["A"])
    assert data["code"] == "schulze.path"
    assert (data["path_first"], data["path_second"]) == (25, 24)
    assert (data["direct_first"], data["direct_second"]) == (23, 22)
    assert "25" in explain(schulze(profile), ids["E"], ids["A"], "en")


def test_schulze_from_a_prebuilt_matrix_equals_schulze_from_the_ballots():
    profile, _ = letters_profile(SCHULZE_45)
    from_matrix = schulze(profile.pairwise(), profile.candidates, profile.n_ballots)
    assert from_matrix.to_dict() == schulze(profile).to_dict()


def test_schulze_ties_a_perfect_cycle_and_breaks_it_by_display_order():
    profile, ids = letters_profile([(1, "ABC"), (1, "BCA"), (1, "CAB")])
    result = schulze(profile)
    assert result.tiers == ((ids["A"], ids["B"], ids["C"]),)
    assert names(result, ids) == "ABC"
    assert explain_data(result, ids["B"], ids["A"])["code"] == "tie.display_order"


# ------------------------------------------------------------------- Tennessee: 4 methods


def test_tennessee_instant_runoff_elects_knoxville():
    profile, ids = letters_profile(TENNESSEE)
    result = instant_runoff(profile)
    assert names(result, ids) == "KMNC"
    rounds = result.details["rounds"]
    assert rounds[0]["votes"] == {ids["C"]: 15, ids["K"]: 17, ids["M"]: 42, ids["N"]: 26}
    assert [r["eliminated"] for r in rounds] == [ids["C"], ids["N"], ids["M"], None]
    assert rounds[2]["votes"] == {ids["K"]: 58, ids["M"]: 42}


def test_tennessee_condorcet_winner_is_nashville_for_schulze_and_copeland():
    profile, ids = letters_profile(TENNESSEE)
    assert condorcet_winner(profile) == ids["N"]
    assert names(schulze(profile), ids) == "NCKM"
    result = copeland(profile)
    assert names(result, ids) == "NCKM"
    assert [result.scores[ids[c]]["score"] for c in "NCKM"] == [3, 1, -1, -3]


def test_tennessee_borda_counts_k_minus_rank_plus_one_points():
    profile, ids = letters_profile(TENNESSEE)
    result = borda(profile)
    # Wikipedia's 3-2-1-0 totals (194, 173, 126, 107) plus one point per ballot (100).
    assert {c: result.scores[ids[c]]["points"] for c in "NCMK"} == {
        "N": 294,
        "C": 273,
        "M": 226,
        "K": 207,
    }
    assert names(result, ids) == "NCMK"


# -------------------------------------------------------------------------------- Borda


def test_borda_on_truncated_ballots_gives_nothing_to_unranked_items():
    # K = 2: first 2 points, second 1, unranked 0.
    profile, ids = letters_profile([(3, "AB"), (2, "BC"), (1, "C")], ranking_size=2)
    result = borda(profile)
    points = {c: result.scores[ids[c]]["points"] for c in "ABC"}
    assert points == {"A": 6, "B": 7, "C": 4}
    assert names(result, ids) == "BAC"


def test_borda_uses_the_ranking_size_not_the_longest_ballot():
    profile, ids = letters_profile([(1, "AB"), (1, "C")], ranking_size=5)
    points = {c: borda(profile).scores[ids[c]]["points"] for c in "ABC"}
    assert points == {"A": 5, "B": 4, "C": 5}
    assert borda(profile).tiers[0] == (ids["A"], ids["C"])


# ---------------------------------------------------------------------- instant runoff


def test_irv_breaks_an_elimination_tie_on_the_previous_round():
    # Round 1: A 4, B 3, C 3, D 2 → D goes, its 2 ballots to C. Round 2: A 4, B 3, C 5.
    # Round 3 would tie nobody; make a tie instead: see the second profile.
    profile, ids = letters_profile([(4, "A"), (3, "B"), (2, "C"), (1, "DB"), (1, "E")])
    # Round 1: E (1) and D (1) tie, equal in every round → display order: E (later) goes.
    # Round 2: D 1 goes → B 4. Round 3: A 4, B 4, C 2 → C goes. Round 4: A 4 vs B 4:
    # tied; in round 1 B had 3 < 4 → B goes on the previous round. A wins.
    result = instant_runoff(profile)
    rounds = result.details["rounds"]
    assert [r["eliminated"] for r in rounds] == [ids["E"], ids["D"], ids["C"], ids["B"], None]
    assert [r["tie_break"] for r in rounds[:4]] == [
        "display_order",
        None,
        None,
        "previous_rounds",
    ]
    assert names(result, ids) == "ABCDE"
    assert explain_data(result, ids["A"], ids["B"])["code"] == "irv.previous_rounds"
    # D and E were separated only by display order and are neighbours: one tier.
    assert result.tiers[-1] == (ids["D"], ids["E"])


def test_irv_counts_exhausted_ballots():
    profile, ids = letters_profile([(3, "A"), (2, "BA"), (2, "C")])
    result = instant_runoff(profile)
    rounds = result.details["rounds"]
    # Round 1: A 3, B 2, C 2; B and C tie, and tie in every round: C (later) goes, its two
    # ballots are exhausted. Round 2: A 3, B 2 → B goes.
    assert rounds[1]["exhausted"] == 2
    assert rounds[2]["votes"] == {ids["A"]: 5}
    assert names(result, ids) == "ABC"


# ----------------------------------------------------------------------- majority judgment


def grades(*rows, scale=7):
    """Each row is the list of grades one item received."""
    counts = [np.bincount(row, minlength=scale) for row in rows]
    return GradeProfile(tuple(range(1, len(rows) + 1)), scale, np.array(counts))


def test_mj_higher_majority_grade_wins():
    result = majority_judgment(grades([0, 1, 2], [3, 3, 0]))
    assert result.order == (2, 1)
    assert result.scores[2]["median"] == 3 and result.scores[1]["median"] == 1
    assert result.scores[2]["median_label"] == "Assez bien"
    assert explain_data(result, 2, 1)["code"] == "mj.median"


def test_mj_majority_grade_is_the_lower_median():
    result = majority_judgment(grades([1, 2, 4, 5]))
    assert result.scores[1]["median"] == 2


def test_mj_gauge_plus_beats_minus_at_the_same_grade():
    # Both have majority grade 3. A: 3 above, 1 below → 3+. B: 2 above, 2 below → 3-.
    result = majority_judgment(grades([1, 1, 3, 3, 3, 4, 5], [2, 3, 3, 3, 4, 4, 4]))
    assert result.order == (2, 1)
    assert (result.scores[2]["gauge"], result.scores[1]["gauge"]) == ("+", "-")
    assert explain_data(result, 2, 1)["code"] == "mj.gauge"


def test_mj_two_plus_gauges_larger_share_above_wins():
    # A: 3 of 7 above Bien, B: 2 of 7 above, both fewer below.
    result = majority_judgment(grades([3, 4, 4, 4, 5, 5, 5], [3, 4, 4, 4, 4, 5, 6]))
    assert result.order == (1, 2)
    assert result.scores[1]["gauge_share"] == pytest.approx(3 / 7)


def test_mj_two_minus_gauges_smaller_share_below_wins():
    result = majority_judgment(grades([0, 0, 0, 4, 4, 4, 4], [0, 0, 4, 4, 4, 4, 4]))
    assert result.order == (2, 1)
    assert result.scores[1]["gauge"] == result.scores[2]["gauge"] == "-"


def test_mj_equal_gauges_need_several_iterations():
    # Same grade (Passable = 2), same gauge 2- (1 of 7 above, 1 below). Removing the majority
    # grade one at a time: 2, 2, 2, 2, 2 for both, then A 0 and B 1 → B first after 5.
    result = majority_judgment(grades([0, 2, 2, 2, 2, 2, 5], [1, 2, 2, 2, 2, 2, 4]))
    assert result.order == (2, 1)
    assert result.tiers == ((2,), (1,))
    step = result.details["comparisons"][0]
    assert step == {
        "decided_by": "majority_value",
        "removed": 5,
        "values": [1, 0],
        "first": 2,
        "second": 1,
    }
    text = explain(result, 2, 1, "en")
    assert "after 5 removals" in text and "'Insufficient' for item 2" in text


def test_mj_identical_profiles_are_tied_and_keep_display_order():
    result = majority_judgment(grades([1, 3, 5], [6, 0, 0], [5, 3, 1]))
    assert result.tiers == ((1, 3), (2,))
    assert result.order == (1, 3, 2)


def test_mj_compares_shares_so_an_item_with_fewer_grades_can_win():
    # A: 2 grades, both Excellent. B: 100 grades, all Très bien.
    result = majority_judgment(grades([6, 6], [5] * 100))
    assert result.order == (1, 2)
    assert (result.scores[1]["grades"], result.scores[2]["grades"]) == (2, 100)


def test_mj_items_with_the_same_shares_are_tied_whatever_their_counts():
    result = majority_judgment(grades([2, 4], [2, 2, 4, 4]))
    assert result.tiers == ((1, 2),)


def test_mj_an_item_nobody_graded_comes_last():
    result = majority_judgment(grades([], [0]))
    assert result.order == (2, 1)
    assert result.scores[1]["median"] is None
    assert explain_data(result, 2, 1)["code"] == "mj.no_grades"


def test_mj_six_grade_scale_best_is_tres_bien():
    result = majority_judgment(grades([5, 5, 5], scale=6))
    assert result.scores[1]["median_label"] == "Très bien"
    assert result.details["labels"][-1] == "Très bien"


# ------------------------------------------------------------------------------- votes


def test_votes_show_abstentions_and_order_by_approval():
    profile = VoteProfile((7, 8, 9), np.array([[6, 4, 10], [3, 1, 0], [0, 0, 5]]))
    result = count_votes(profile)
    assert result.order == (8, 7, 9)
    s = result.scores[7]
    assert (s["for"], s["against"], s["abstain"], s["total"]) == (6, 4, 10, 20)
    assert (s["share_for"], s["share_against"], s["share_abstain"]) == (0.3, 0.2, 0.5)
    assert s["approval"] == 0.6 and s["adopted"] is True
    assert result.scores[9]["approval"] is None and result.scores[9]["adopted"] is False
    assert explain_data(result, 7, 9)["code"] == "votes.no_expressed_votes"


def test_votes_equal_approval_more_votes_for_first():
    result = count_votes(VoteProfile((1, 2), np.array([[1, 1, 0], [3, 3, 9]])))
    assert result.order == (2, 1)
    assert explain_data(result, 1, 2)["code"] == "votes.more_for"


def test_a_profile_from_votes_rows_counts_each_choice():
    profile = VoteProfile.from_votes([1, 2], [(1, "for"), (2, "abstain"), (1, "against")])
    assert profile.counts.tolist() == [[1, 1, 0], [0, 0, 1]]


def test_profile_with_a_single_candidate_still_counts():
    profile = RankingProfile.from_rankings([5], [[5], [5]])
    for method in (schulze, copeland, borda, instant_runoff):
        assert method(profile).order == (5,)
