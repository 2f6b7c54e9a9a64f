"""Plain numpy references for bench/aggregate.py: the obvious vectorised code a careful
engineer would write first, with the same rules as consultation.counting.

- Borda: rank r of K gets K - r + 1 points, unranked 0: one weighted bincount.
- Instant-runoff: every round recomputes each ballot's highest continuing choice from
  scratch (a gather and an argmax over the whole (n, K) array), then bincounts; the item
  with the fewest votes goes, ties broken by earlier rounds, then the later display position.
"""

import numpy as np


def borda_reference(ballots: np.ndarray, m: int) -> np.ndarray:
    n, k = ballots.shape
    flat = ballots.ravel()
    weights = np.tile(np.arange(k, 0, -1, dtype=np.int64), n)
    ranked = flat >= 0
    return np.bincount(flat[ranked], weights=weights[ranked], minlength=m).astype(np.int64)


def irv_reference(ballots: np.ndarray, m: int) -> list[int]:
    """Item indices, winner first, then in reverse order of elimination."""
    b = np.where(ballots < 0, m, ballots).astype(np.intp)
    alive = np.ones(m + 1, dtype=bool)
    alive[m] = False
    history: list[np.ndarray] = []
    eliminated: list[int] = []
    while alive[:m].sum() > 1:
        continuing = alive[b]
        first = continuing.argmax(axis=1)
        top = b[np.arange(len(b)), first]
        top = top[continuing.any(axis=1)]
        history.append(np.bincount(top, minlength=m + 1)[:m])
        tied = np.flatnonzero(alive[:m])
        for votes in reversed(history):
            tied = tied[votes[tied] == votes[tied].min()]
            if len(tied) == 1:
                break
        eliminated.append(int(tied[-1]))
        alive[tied[-1]] = False
    winner = int(np.flatnonzero(alive[:m])[0])
    return [winner, *reversed(eliminated)]
