"""Schulze (beatpath) method, winning-votes strength.

Rule: d[x, y] is the number of ballots ranking x above y. A link x -> y has strength d[x, y]
when d[x, y] > d[y, x], else 0. p[x, y] is the strength of the widest path from x to y (the
path whose weakest link is strongest). x *beats* y when p[x, y] > p[y, x]; this relation is
transitive (Schulze 2011, section 4.1), and the Schulze winners are the items nothing beats.
The order is that relation itself, ties kept as ties: the first tier is the set of winners,
the next tier the items nothing beats once the first tier is set aside, and so on. Items of
one tier never beat each other; the tie-break (a declared draw, or display order:
``consultation.counting.ties``) only lists them. ``scores[item]["wins"]`` still says how
many items each beats, for information: it does not rank (two unbeaten items may beat
different numbers of items).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from consultation.counting import ties
from consultation.counting.profiles import RankingProfile
from consultation.counting.result import Result


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
    *,
    seed: str | None = None,
) -> Result:
    """Schulze from a RankingProfile, or from a pairwise matrix ``d`` (then pass the item
    ids as ``candidates`` and the ballot count as ``n_ballots``, which defaults to 0)."""
    ids, d, n = matrix_input(profile_or_matrix, candidates, n_ballots)
    p = strongest_paths(d)
    beats = p > p.T
    wins = beats.sum(axis=1).tolist()
    layers = unbeaten_layers(beats)
    order, tiers, breaks = ties.within_tiers([[ids[i] for i in tier] for tier in layers], seed)
    tier_of = {i: number for number, tier in enumerate(layers, start=1) for i in tier}
    scores = {c: {"wins": wins[i], "tier": tier_of[i]} for i, c in enumerate(ids)}
    details = {
        "strength": "winning_votes",
        "pairwise": d.tolist(),
        "strongest_paths": p.tolist(),
        "tie_break": ties.rule(seed),
        "tie_breaks": breaks,
    }
    return Result("schulze", ids, order, tiers, scores, details, n)


def unbeaten_layers(beats: np.ndarray) -> list[list[int]]:
    """Indices in layers, each in display order: the items no remaining item beats, then
    the same among the rest. Never empty while items remain, the relation being a strict
    partial order (a cycle would be a bug in ``strongest_paths``: refused loudly)."""
    remaining = np.ones(beats.shape[0], dtype=bool)
    layers: list[list[int]] = []
    while remaining.any():
        beaten = beats[remaining].any(axis=0)
        layer = np.flatnonzero(remaining & ~beaten)
        if not len(layer):
            raise AssertionError("the Schulze relation has a cycle")
        layers.append(layer.tolist())
        remaining[layer] = False
    return layers


def schulze_from_matrix(
    candidates: Sequence[int],
    matrix: np.ndarray,
    n_ballots: int | None = None,
    *,
    seed: str | None = None,
) -> Result:
    """Same as ``schulze(matrix, candidates, n_ballots, seed=seed)``."""
    return schulze(matrix, candidates, n_ballots, seed=seed)
