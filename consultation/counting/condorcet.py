"""Condorcet winner and Copeland.

Rule: x beats y pairwise when more ballots rank x above y than y above x. The Condorcet
winner beats every other item (there may be none). Copeland score = pairwise wins minus
pairwise losses; higher first, equal scores tie (``consultation.counting.ties`` lists them).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from consultation.counting import ties as tie_breaks
from consultation.counting.profiles import RankingProfile
from consultation.counting.result import Result, order_and_tiers
from consultation.counting.schulze import matrix_input


def condorcet_winner(
    profile_or_matrix: RankingProfile | np.ndarray, candidates: Sequence[int] | None = None
) -> int | None:
    """The item that beats every other item pairwise, or None."""
    ids, d, _ = matrix_input(profile_or_matrix, candidates, None)
    return _condorcet_index(d, ids)


def _condorcet_index(d: np.ndarray, ids: Sequence[int]) -> int | None:
    wins = (d > d.T).sum(axis=1)
    winners = np.flatnonzero(wins == len(ids) - 1)
    return ids[int(winners[0])] if len(winners) else None


def copeland(
    profile_or_matrix: RankingProfile | np.ndarray,
    candidates: Sequence[int] | None = None,
    n_ballots: int | None = None,
    *,
    seed: str | None = None,
) -> Result:
    """Copeland from a RankingProfile or a pairwise matrix (as ``schulze``)."""
    ids, d, n = matrix_input(profile_or_matrix, candidates, n_ballots)
    wins = (d > d.T).sum(axis=1)
    losses = (d < d.T).sum(axis=1)
    ties = len(ids) - 1 - wins - losses
    score = wins - losses
    order, tiers, breaks = order_and_tiers(ids, lambda i: -int(score[i]), seed)
    scores = {
        c: {
            "score": int(score[i]),
            "wins": int(wins[i]),
            "losses": int(losses[i]),
            "ties": int(ties[i]),
        }
        for i, c in enumerate(ids)
    }
    details = {
        "pairwise": d.tolist(),
        "condorcet_winner": _condorcet_index(d, ids),
        "tie_break": tie_breaks.rule(seed),
        "tie_breaks": breaks,
    }
    return Result("copeland", ids, order, tiers, scores, details, n)
