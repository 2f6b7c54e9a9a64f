"""Ties told as ties (issue 14): Schulze ranked by its own relation, and every outcome that
a tie-break decided flagged, with the rule and the items, never an organiser's order
silently when a seed is declared.

The references are independent of the code under test: Schulze's winners and layers from
a plain-Python count of the ballots and a plain widest-path computation (votelib agrees
with both, tests/counting/test_votelib_crosscheck.py), the draw's tickets from hashlib.
"""

import hashlib
import itertools

import numpy as np
import pytest

from consultation.counting import (
    METHODS,
    GradeProfile,
    RankingProfile,
    VoteProfile,
    compute,
    instant_runoff,
    schulze,
)
from consultation.counting.explain import explain_data
from consultation.counting.ties import draw_seed, drawn
from tests.counting.helpers import letters_profile, names

SEED = 20261203
N_PROFILES = 320
RANKING_METHODS = [name for name, m in METHODS.items() if m.kind == "ranking"]
A_SEED = "a" * 64
ANOTHER_SEED = "b" * 64


def random_profiles(n=N_PROFILES, seed=SEED):
    """Full and truncated rankings of 2 to 6 items by 1 to 12 ballots: small electorates,
    where ties are frequent."""
    rng = np.random.default_rng(seed)
    for _ in range(n):
        m = int(rng.integers(2, 7))
        k = int(rng.integers(1, m + 1))
        ballots = [
            [int(c) for c in rng.permutation(m)[: int(rng.integers(1, k + 1))]]
            for _ in range(int(rng.integers(1, 13)))
        ]
        ids = [10 + 3 * i for i in range(m)]
        yield RankingProfile.from_rankings(ids, [[ids[c] for c in b] for b in ballots], k)


def rankings_of(profile):
    ids = profile.candidates
    return [[ids[c] for c in row if c >= 0] for row in profile.ballots.tolist()]


def reference_beats(profile):
    """x beats y under Schulze (winning votes), from the ballots, in plain Python: a ranked
    item is above every unranked one, two unranked items are not compared."""
    ids = list(profile.candidates)
    d = {(x, y): 0 for x in ids for y in ids}
    for ranking in rankings_of(profile):
        place = {item: r for r, item in enumerate(ranking)}
        for x, y in itertools.permutations(ids, 2):
            if x in place and (y not in place or place[x] < place[y]):
                d[x, y] += 1
    p = {(x, y): d[x, y] if d[x, y] > d[y, x] else 0 for x in ids for y in ids}
    for k in ids:
        for x in ids:
            for y in ids:
                if len({x, y, k}) == 3:
                    p[x, y] = max(p[x, y], min(p[x, k], p[k, y]))
    return {(x, y) for x, y in itertools.permutations(ids, 2) if p[x, y] > p[y, x]}


def reference_layers(profile):
    beats, remaining, layers = reference_beats(profile), set(profile.candidates), []
    while remaining:
        layer = {y for y in remaining if not any((x, y) in beats for x in remaining)}
        layers.append(layer)
        remaining -= layer
    return layers


# ----------------------------------------------------------------------------- Schulze


def test_schulze_two_unbeaten_items_are_co_winners_in_the_smallest_case():
    profile, ids = letters_profile([(1, "ACB"), (1, "BAC")])
    result = schulze(profile)
    assert set(result.winners) == {ids["A"], ids["B"]}
    assert result.tiers == ((ids["A"], ids["B"]), (ids["C"],))
    assert result.details["tie_breaks"] == [
        {"tier": 1, "items": [ids["A"], ids["B"]], "rule": "display_order", "order": [1, 2]}
    ]


def test_schulze_top_tier_is_the_set_of_schulze_winners_on_hundreds_of_profiles():
    split = 0
    for profile in random_profiles():
        result = schulze(profile, seed=A_SEED)
        layers = reference_layers(profile)
        assert set(result.winners) == layers[0]
        assert [set(tier) for tier in result.tiers] == layers
        beats = reference_beats(profile)
        wins = {x: sum((x, y) in beats for y in profile.candidates) for x in profile.candidates}
        split += len({wins[x] for x in layers[0]}) > 1
    # The old rule (ranking by the number of items beaten) split co-winners in such profiles.
    assert split > 0


def test_schulze_explains_a_tier_change_between_balanced_neighbours():
    profile, ids = letters_profile([(1, "ACB"), (1, "BAC")])
    result = schulze(profile)
    # B and C: paths balanced (B > C on one ballot, C > B on the other), but A beats C.
    assert explain_data(result, ids["B"], ids["C"])["code"] == "schulze.tier"


# ---------------------------------------------------------------------- every method


def all_profiles():
    for profile in random_profiles():
        yield profile, RANKING_METHODS
    rng = np.random.default_rng(SEED + 1)
    for _ in range(N_PROFILES // 2):
        m = int(rng.integers(2, 6))
        counts = rng.integers(0, 3, size=(m, 6))
        yield GradeProfile(tuple(range(1, m + 1)), 6, counts), ["majority_judgment"]
        yield VoteProfile(tuple(range(1, m + 1)), rng.integers(0, 3, size=(m, 3))), ["votes"]


def test_every_tie_broken_outcome_is_flagged_and_a_seed_never_falls_back_on_display_order():
    for profile, methods in all_profiles():
        for name in methods:
            one = compute(name, profile, A_SEED)
            other = compute(name, profile, ANOTHER_SEED)
            assert one.details["tie_break"] == {"rule": "draw", "seed": A_SEED}
            assert all(b["rule"] != "display_order" for b in one.details["tie_breaks"])
            if one.order != other.order:  # the draw decided something: flagged in both
                assert one.details["tie_breaks"] and other.details["tie_breaks"], name
            if name == "instant_runoff":
                check_irv_rounds(one)
                continue
            flagged = {tuple(b["items"]) for b in one.details["tie_breaks"]}
            several = {tuple(sorted(t, key=profile.candidates.index)) for t in one.tiers}
            assert flagged == {t for t in several if len(t) > 1}, name
            for b in one.details["tie_breaks"]:
                assert b["order"] == drawn(A_SEED, b["items"])


def check_irv_rounds(result):
    """Independently of how the rounds were decided: a round in which several items had
    the fewest votes names them all in ``tied`` and is listed among the tie-breaks."""
    listed = {b["round"]: b for b in result.details["tie_breaks"]}
    for r in result.details["rounds"][:-1]:
        fewest = min(r["votes"].values())
        at_fewest = [item for item, votes in r["votes"].items() if votes == fewest]
        if len(at_fewest) == 1:
            assert r["tie_break"] is None and r["tied"] == [] and r["round"] not in listed
            continue
        assert sorted(r["tied"]) == sorted(at_fewest)
        assert r["tie_break"] in ("previous_rounds", "draw")
        assert listed[r["round"]] == {
            "round": r["round"],
            "rule": r["tie_break"],
            "tied": r["tied"],
            "eliminated": r["eliminated"],
        }


def test_irv_says_which_tie_break_decided_an_elimination_and_draws_instead_of_display_order():
    # Round 1: A 2, B 1, C 1: B and C tie in every round so far; the draw decides.
    profile, ids = letters_profile([(2, "A"), (1, "BA"), (1, "CB")])
    seed = draw_seed({"deciding_method": "instant_runoff"}, {"rankings.csv": "0" * 64})
    result = instant_runoff(profile, seed=seed)
    first = result.details["rounds"][0]
    tickets = {i: hashlib.sha256(f"{seed}:{i}".encode()).hexdigest() for i in (2, 3)}
    loser = max(tickets, key=tickets.get)
    assert first["tie_break"] == "draw"
    assert first["tied"] == [ids["B"], ids["C"]] and first["last_resort"] == [2, 3]
    assert first["eliminated"] == loser
    assert result.details["tie_breaks"][0] == {
        "round": 1,
        "rule": "draw",
        "tied": [ids["B"], ids["C"]],
        "eliminated": loser,
    }
    assert explain_data(result, *sorted((ids["B"], ids["C"])))["code"] == "tie.draw"


def test_irv_fills_tied_even_when_the_previous_rounds_broke_the_tie():
    # Round 1: A 3, B 2, C 1, D 1 → D (draw or display order) goes, to B. Round 2: A 3,
    # B 3, C 1 → C goes, to B. Round 3: A 3, B 4 → A goes. Now make a previous-rounds tie:
    profile, ids = letters_profile([(4, "A"), (3, "B"), (2, "C"), (1, "DB"), (1, "E")])
    rounds = instant_runoff(profile, seed=A_SEED).details["rounds"]
    fourth = rounds[3]
    assert fourth["tie_break"] == "previous_rounds"
    assert fourth["tied"] == [ids["A"], ids["B"]]
    assert fourth["last_resort"] == []


def test_the_draw_is_the_published_seed_s_tickets_in_increasing_order():
    seed = draw_seed({"deciding_method": "borda", "tie_break": "draw"}, {"rankings.csv": "ab"})
    expected = hashlib.sha256(
        b'{"ballots":{"rankings.csv":"ab"},"card":{"deciding_method":"borda","tie_break":"draw"}}'
    ).hexdigest()
    assert seed == expected
    items = [5, 6, 7, 8]
    tickets = {i: hashlib.sha256(f"{seed}:{i}".encode()).hexdigest() for i in items}
    assert drawn(seed, items) == sorted(items, key=tickets.get)
    profile, ids = letters_profile([(1, "AB"), (1, "BA")], first_id=5)
    assert names(compute("borda", profile, seed), ids) in ("AB", "BA")
    assert list(compute("borda", profile, seed).order) == drawn(seed, [5, 6])


@pytest.mark.parametrize("name", RANKING_METHODS)
def test_without_a_seed_results_are_as_before_display_order_and_say_so(name):
    profile, ids = letters_profile([(1, "AB"), (1, "BA")])
    result = compute(name, profile)
    assert result.order == (ids["A"], ids["B"])
    assert result.details["tie_break"] == {"rule": "display_order", "seed": None}
    assert result.details["tie_breaks"]
