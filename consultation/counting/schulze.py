"""Schulze (beatpath) method, winning-votes strength.

Rule: d[x, y] is the number of ballots ranking x above y. A link x -> y has strength d[x, y]
when d[x, y] > d[y, x], else 0. p[x, y] is the strength of the widest path from x to y (the
path whose weakest link is strongest). x is before y when p[x, y] > p[y, x]. Items are ordered
by how many others they beat that way; items beating the same number share a tier and display
order breaks the tie (Schulze's own random-ballot tie-break is not used: no randomness).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from consultation.counting.profiles import RankingProfile
from consultation.counting.result import Result, order_and_tiers


def strongest_paths(d: np.ndarray) -> np.ndarray:
    """Widest paths (Floyd-Warshall with max-min), one numpy step per intermediate item.

    int32 when the counts fit (half the memory traffic of int64), no allocation in the loop.
    """
    dtype = np.int32 if d.size == 0 or d.max() < 2**31 else np.int64
    p = np.where(d > d.T, d, 0).astype(dtype)
    step = np.empty_like(p)
    for k in range(p.shape[0]):
        np.minimum(p[:, k : k + 1], p[k : k + 1, :], out=step)
        np.maximum(p, step, out=p)
    np.fill_diagonal(p, 0)
    return p


def matrix_input(
    profile_or_matrix: RankingProfile | np.ndarray,
    candidates: Sequence[int] | None,
    n_ballots: int | None,
) -> tuple[tuple[int, ...], np.ndarray, int]:
    """Accept a profile or a prebuilt pairwise matrix (candidates default to 0..m-1)."""
    if isinstance(profile_or_matrix, RankingProfile):
        p = profile_or_matrix
        return p.candidates, p.pairwise(), p.n_ballots
    d = np.asarray(profile_or_matrix, dtype=np.int64)
    if d.ndim != 2 or d.shape[0] != d.shape[1]:
        raise ValueError("a pairwise matrix must be square")
    ids = tuple(candidates) if candidates is not None else tuple(range(d.shape[0]))
    if len(ids) != d.shape[0]:
        raise ValueError("candidates and the pairwise matrix disagree on the number of items")
    return ids, d, int(n_ballots or 0)


def schulze(
    profile_or_matrix: RankingProfile | np.ndarray,
    candidates: Sequence[int] | None = None,
    n_ballots: int | None = None,
) -> Result:
    """Schulze from a RankingProfile, or from a pairwise matrix ``d`` (then pass the item
    ids as ``candidates`` and the ballot count as ``n_ballots``, which defaults to 0)."""
    ids, d, n = matrix_input(profile_or_matrix, candidates, n_ballots)
    p = strongest_paths(d)
    beats = p > p.T
    wins = beats.sum(axis=1).tolist()
    order, tiers = order_and_tiers(ids, lambda i: -wins[i])
    scores = {c: {"wins": wins[i]} for i, c in enumerate(ids)}
    details = {"strength": "winning_votes", "pairwise": d.tolist(), "strongest_paths": p.tolist()}
    return Result("schulze", ids, order, tiers, scores, details, n)


def schulze_from_matrix(
    candidates: Sequence[int], matrix: np.ndarray, n_ballots: int | None = None
) -> Result:
    """Same as ``schulze(matrix, candidates, n_ballots)``."""
    return schulze(matrix, candidates, n_ballots)
