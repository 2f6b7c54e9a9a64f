"""What ranking ballots add up to, from the (n, K) index arrays of ``RankingProfile``:
the pairwise matrix (two exact strategies, chosen by cost), its in-place update for a live
matrix, and how many ballots put each item at each rank.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

# Ballots are read in chunks of this many rows: the temporaries stay a few tens of MB.
PAIRWISE_CHUNK = 1 << 17


def pairwise_matrix(ballots: np.ndarray, m: int) -> np.ndarray:
    """``d[i, j]`` = number of ballots ranking i above j, from an (n, K) index array.

    Two exact strategies, chosen by their cost; both read the ballots in chunks, so the
    temporary memory stays a few tens of MB whatever n is, and neither loops over ballots:
    - short ballots (K(K-1)/2 small next to m(m-1)/2): bincounts over the pairs of rank
      positions, O(n K^2);
    - long ballots (full rankings): each chunk becomes an (m, chunk) matrix of ranks, and
      every pair of items is one vectorised comparison, O(n m^2) in cheap byte compares.
    """
    _, k = ballots.shape
    full = k == m and bool((ballots[:, -1] >= 0).all())
    directions = 1 if full else 2
    by_ranks = k * (k - 1) * 20 > m * (m - 1) * directions
    d = np.zeros((m, m), dtype=np.int64)
    for start in range(0, ballots.shape[0], PAIRWISE_CHUNK):
        chunk = ballots[start : start + PAIRWISE_CHUNK]
        if by_ranks:
            _add_by_ranks(d, chunk, m, full)
        else:
            _add_by_positions(d, chunk, m)
    if full:  # every ballot orders every pair: the lower triangle is the complement
        lower = np.tril_indices(m, -1)
        d[lower] = ballots.shape[0] - d.T[lower]
    np.fill_diagonal(d, 0)
    return d


def _add_by_positions(d: np.ndarray, ballots: np.ndarray, m: int) -> None:
    """d[i, j] += (ballots ranking i but not j) + (ballots ranking both, i first)."""
    k = ballots.shape[1]
    side = m + 1  # index m stands for "nothing ranked here"
    b = ballots.astype(np.intp)
    b[b < 0] = m
    ranked = np.bincount(b.ravel(), minlength=side)[:m]
    before = np.zeros(side * side, dtype=np.int64)
    for r in range(k - 1):
        codes = (b[:, r : r + 1] * side + b[:, r + 1 :]).ravel()
        before += np.bincount(codes, minlength=side * side)
    before = before.reshape(side, side)[:m, :m]
    d += ranked[:, None] - (before + before.T) + before


def _add_by_ranks(d: np.ndarray, ballots: np.ndarray, m: int, full: bool) -> None:
    """Upper triangle (and, unless every ballot is a full ranking, the lower one) by
    comparing rank vectors: ranks[i, b] = rank of item i on ballot b, K if unranked."""
    c, k = ballots.shape
    ranks = np.full(c * m + 1, k, dtype=np.int8)  # the last cell absorbs empty ranks
    cells = ballots.astype(np.intp)
    cells += (np.arange(c, dtype=np.intp) * m)[:, None]
    if not full:
        cells[ballots < 0] = c * m
    ranks[cells] = np.arange(k, dtype=np.int8)
    ranks = np.ascontiguousarray(ranks[:-1].reshape(c, m).T)
    flags = np.empty(c, dtype=bool)
    for i in range(m - 1):
        for j in range(i + 1, m):
            d[i, j] += np.count_nonzero(np.less(ranks[i], ranks[j], out=flags))
            if not full:
                d[j, i] += np.count_nonzero(np.greater(ranks[i], ranks[j], out=flags))


def position_counts(ballots: np.ndarray, m: int) -> np.ndarray:
    """(K, m) int64: ``c[r, i]`` = ballots ranking item i at rank r + 1. One bincount.

    Each cell is coded r * (m + 1) + index + 1, so an empty rank (-1) lands in column 0,
    which is dropped.
    """
    k = ballots.shape[1]
    codes = ballots.astype(np.intp)
    codes += np.arange(1, k * (m + 1), m + 1, dtype=np.intp)
    counts = np.bincount(codes.ravel(), minlength=k * (m + 1)).reshape(k, m + 1)
    return counts[:, 1:].astype(np.int64)


def pairwise_update(
    matrix: np.ndarray, old: Sequence[int] | None, new: Sequence[int] | None
) -> np.ndarray:
    """In place: remove ballot ``old``'s contribution and add ``new``'s; returns ``matrix``.

    Each ballot is a sequence of candidate indices, best first, or None (no ballot). This is
    how a live pairwise matrix follows citizens replacing their ballots, so a live Schulze or
    Copeland result never has to re-read every ballot.
    """
    for ballot, sign in ((old, -1), (new, 1)):
        if ballot:
            _add_ballot(matrix, [int(i) for i in ballot], sign)
    return matrix


@lru_cache(maxsize=64)
def _lower_triangle(k: int) -> tuple[np.ndarray, np.ndarray]:
    return np.tril_indices(k)


def _add_ballot(matrix: np.ndarray, ballot: list[int], sign: int) -> None:
    """Row ``ballot[r]`` gains ``sign`` for every item not ranked at or before r."""
    m = matrix.shape[0]
    if len(set(ballot)) != len(ballot) or min(ballot) < 0 or max(ballot) >= m:
        raise ValueError(f"invalid ballot {ballot} for {m} candidates")
    k = len(ballot)
    items = np.array(ballot, dtype=np.intp)
    below = np.full((k, m), sign, dtype=matrix.dtype)
    rank, earlier = _lower_triangle(k)
    below[rank, items[earlier]] = 0
    matrix[items] += below  # the rows are distinct, so a fancy-indexed += is exact
