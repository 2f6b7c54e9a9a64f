"""Borda count for top-K ballots.

Rule: on a ballot that may rank K items, the item ranked r-th (1 = first) gets K - r + 1
points; items the ballot does not rank get 0. With full rankings (K = m) this is the classic
Borda count shifted by one point per ballot for every item, so the order is the classic one.
Higher total first; equal totals are tied, and the tie-break (a declared draw, or display
order) lists them: ``consultation.counting.ties``.
"""

from __future__ import annotations

import numpy as np

from consultation.counting import ties
from consultation.counting.pairwise import position_counts
from consultation.counting.profiles import RankingProfile
from consultation.counting.result import Result, order_and_tiers


def borda_points(positions: np.ndarray) -> np.ndarray:
    """(m,) int64 totals from the (K, m) count of each item at each rank."""
    k = positions.shape[0]
    points: np.ndarray = np.arange(k, 0, -1, dtype=np.int64) @ positions
    return points


def borda(profile: RankingProfile, *, seed: str | None = None) -> Result:
    positions = position_counts(profile.ballots, len(profile.candidates))
    return borda_from_positions(profile.candidates, positions, profile.n_ballots, seed=seed)


def borda_from_positions(
    candidates: tuple[int, ...], positions: np.ndarray, n_ballots: int, *, seed: str | None = None
) -> Result:
    """Borda from the (K, m) count of each item at each rank alone (``positions[r, i]``:
    ballots ranking item i at rank r + 1), as the site's live counters keep it: the
    ballots themselves are not needed."""
    points = borda_points(positions).tolist()
    first, ranked = positions[0].tolist(), positions.sum(axis=0).tolist()
    order, tiers, breaks = order_and_tiers(candidates, lambda i: -points[i], seed)
    scores = {
        c: {"points": points[i], "first": first[i], "ranked": ranked[i]}
        for i, c in enumerate(candidates)
    }
    k = positions.shape[0]
    details = {
        "ranking_size": k,
        "points_by_rank": [k - r for r in range(k)],
        "unranked_points": 0,
        "tie_break": ties.rule(seed),
        "tie_breaks": breaks,
    }
    return Result("borda", candidates, order, tiers, scores, details, n_ballots)
