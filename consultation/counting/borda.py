"""Borda count for top-K ballots.

Rule: on a ballot that may rank K items, the item ranked r-th (1 = first) gets K - r + 1
points; items the ballot does not rank get 0. With full rankings (K = m) this is the classic
Borda count shifted by one point per ballot for every item, so the order is the classic one.
Higher total first; equal totals are tied, display order breaks the tie.
"""

from __future__ import annotations

import numpy as np

from consultation.counting.profiles import RankingProfile
from consultation.counting.result import Result, order_and_tiers


def borda_points(ballots: np.ndarray, m: int) -> np.ndarray:
    """(m,) int64 totals; one bincount per rank position, no loop over ballots."""
    k = ballots.shape[1]
    points = np.zeros(m + 1, dtype=np.int64)
    for r in range(k):
        column = np.where(ballots[:, r] < 0, m, ballots[:, r]).astype(np.intp)
        points += (k - r) * np.bincount(column, minlength=m + 1)
    return points[:m]


def borda(profile: RankingProfile) -> Result:
    m = len(profile.candidates)
    points = borda_points(profile.ballots, m)
    first = np.bincount(profile.ballots[:, 0].astype(np.intp), minlength=m)[:m]
    ranked = np.bincount(profile.ballots[profile.ballots >= 0].astype(np.intp), minlength=m)[:m]
    order, tiers = order_and_tiers(profile.candidates, lambda i: -int(points[i]))
    scores = {
        c: {"points": int(points[i]), "first": int(first[i]), "ranked": int(ranked[i])}
        for i, c in enumerate(profile.candidates)
    }
    k = profile.ranking_size
    details = {
        "ranking_size": k,
        "points_by_rank": [k - r for r in range(k)],
        "unranked_points": 0,
    }
    return Result("borda", profile.candidates, order, tiers, scores, details, profile.n_ballots)
