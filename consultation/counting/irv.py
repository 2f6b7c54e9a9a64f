"""Instant-runoff voting (alternative vote) on top-K ballots.

Rule: each round, every ballot counts for its highest-ranked item still in the race; a
ballot whose ranked items are all eliminated is exhausted. The item with the fewest votes is
eliminated; a tie for fewest is broken by the previous rounds' counts (fewest in the latest
round where they differ), then, as a last resort, by the declared draw of ``seed`` (the item
with the largest ticket goes: ``consultation.counting.ties``) or, without a seed, by display
order (the later item goes). Rounds go on until one item remains, so every item gets a
place: the winner, then the items in reverse order of elimination. An item that has a
majority of the continuing ballots is never eliminated, so stopping early would name the
same winner. Two neighbours in the order are tied when only the last resort separated them.

Every round says whether a tie-break decided it (``tie_break``), between which items
(``tied``: all the items that had the fewest votes that round, filled whichever rule broke
the tie) and which of them were still tied when the last resort decided (``last_resort``);
``details["tie_breaks"]`` lists those rounds, so an outcome that depended on a tie-break, at
any round, says so and says which.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from consultation.counting import ties
from consultation.counting.profiles import RankingProfile
from consultation.counting.result import Result


def irv_rounds(
    ballots: np.ndarray, m: int, tickets: list[str] | None = None
) -> list[dict[str, Any]]:
    """The rounds: each ``{"votes": (m,) counts, "eliminated": index, "tie_break": rule,
    "tied": indices, "last_resort": indices}``; ``tickets``: each index's draw ticket (None:
    display order is the last resort).

    Each ballot keeps a pointer to its current choice; a round only moves the ballots of the
    eliminated item, so the work is one pass over the ballots per round plus the transfers.
    """
    b = np.where(ballots < 0, m, ballots).astype(np.intp)
    n, k = b.shape
    flat = b.ravel()
    alive = np.ones(m + 1, dtype=bool)
    alive[m] = False  # the "exhausted" sentinel
    pos = np.zeros(n, dtype=np.intp)
    top = b[:, 0].copy() if n else np.zeros(0, dtype=np.intp)
    votes = np.bincount(top, minlength=m + 1)[:m].astype(np.int64)
    rounds: list[dict[str, Any]] = []
    history: list[np.ndarray] = []
    while alive[:m].sum() > 1:
        history.append(votes.copy())
        loser, rule, tied, last = _loser(history, alive[:m], tickets)
        rounds.append(
            {
                "votes": votes.copy(),
                "continuing": np.flatnonzero(alive[:m]),
                "eliminated": loser,
                "tie_break": rule,
                "tied": tied,
                "last_resort": last,
            }
        )
        alive[loser] = False
        moved = np.flatnonzero(top == loser)
        top[moved] = _next_choice(flat, pos, moved, alive, k)
        votes[loser] = 0
        votes += np.bincount(top[moved], minlength=m + 1)[:m]
    rounds.append(
        {
            "votes": votes.copy(),
            "continuing": np.flatnonzero(alive[:m]),
            "eliminated": None,
            "tie_break": None,
            "tied": [],
            "last_resort": [],
        }
    )
    return rounds


def _next_choice(
    flat: np.ndarray, pos: np.ndarray, moved: np.ndarray, alive: np.ndarray, k: int
) -> np.ndarray:
    """Advance the moved ballots to their next continuing item (m when exhausted).

    ``flat`` is the (n * K) ballot array: one-dimensional indexing is much cheaper than
    indexing rows and columns."""
    m = len(alive) - 1
    result = np.full(len(moved), m, dtype=np.intp)
    rows, where = moved, np.arange(len(moved))
    p = pos[moved] + 1
    while len(rows):
        inside = p < k
        if not inside.all():
            rows, where, p = rows[inside], where[inside], p[inside]
        choice = flat[rows * k + p]
        found = alive[choice]
        result[where[found]] = choice[found]
        pos[rows[found]] = p[found]
        lost = ~found
        rows, where, p = rows[lost], where[lost], p[lost] + 1
    return result


def _loser(
    history: list[np.ndarray], alive: np.ndarray, tickets: list[str] | None
) -> tuple[int, str | None, list[int], list[int]]:
    """The item to eliminate, the tie-break rule used (None: no tie), the items tied for
    fewest votes this round, and those still tied when the last resort had to decide."""
    tied = np.flatnonzero(alive)
    current = history[-1][tied]
    tied = tied[current == current.min()]
    if len(tied) == 1:
        return int(tied[0]), None, [], []
    fewest = [int(i) for i in tied]
    for past in reversed(history[:-1]):
        counts = past[tied]
        tied = tied[counts == counts.min()]
        if len(tied) == 1:
            return int(tied[0]), ties.PREVIOUS_ROUNDS, fewest, []
    last = [int(i) for i in tied]
    if tickets is None:
        return last[-1], ties.DISPLAY_ORDER, fewest, last
    return max(last, key=lambda i: tickets[i]), ties.DRAW, fewest, last


def instant_runoff(profile: RankingProfile, *, seed: str | None = None) -> Result:
    ids, m = profile.candidates, len(profile.candidates)
    tickets = None if seed is None else [ties.ticket(seed, item) for item in ids]
    rounds = irv_rounds(profile.ballots, m, tickets)
    eliminated = [r["eliminated"] for r in rounds[:-1]]
    survivor = next(i for i in range(m) if i not in set(eliminated))
    order_idx = [survivor, *reversed(eliminated)]
    order = tuple(ids[i] for i in order_idx)
    tiers = _tiers(order_idx, rounds, ids)
    place = {i: r for r, i in enumerate(eliminated, start=1)}
    scores = {
        ids[i]: {
            "eliminated_round": place.get(i),
            "first_round_votes": int(rounds[0]["votes"][i]),
            "last_round_votes": int(rounds[place.get(i, len(rounds)) - 1]["votes"][i]),
        }
        for i in range(m)
    }
    numbered = list(enumerate(rounds, start=1))
    details = {
        "rounds": [_round_dict(r, number, ids, profile.n_ballots) for number, r in numbered],
        "tie_break": ties.rule(seed),
        "tie_breaks": [
            {
                "round": number,
                "rule": r["tie_break"],
                "tied": [ids[i] for i in r["tied"]],
                "eliminated": ids[r["eliminated"]],
            }
            for number, r in numbered
            if r["tie_break"] is not None
        ],
    }
    return Result("instant_runoff", ids, order, tiers, scores, details, profile.n_ballots)


def _round_dict(r: dict[str, Any], number: int, ids: tuple[int, ...], n: int) -> dict[str, Any]:
    votes = {ids[i]: int(r["votes"][i]) for i in r["continuing"]}
    loser = r["eliminated"]
    return {
        "round": number,
        "votes": votes,
        "exhausted": n - sum(votes.values()),
        "eliminated": None if loser is None else ids[loser],
        "tie_break": r["tie_break"],
        "tied": [ids[i] for i in r["tied"]],
        "last_resort": [ids[i] for i in r["last_resort"]],
    }


def _tiers(
    order_idx: list[int], rounds: list[dict[str, Any]], ids: tuple[int, ...]
) -> tuple[tuple[int, ...], ...]:
    """Neighbours are tied when the later one lost on the last resort (draw or display
    order) against the earlier one, in the round just before the earlier one was eliminated
    (or won)."""
    tiers = [[ids[order_idx[0]]]]
    for before, after in itertools.pairwise(order_idx):
        lost = next(r for r in rounds if r["eliminated"] == after)
        if before in lost["last_resort"]:
            tiers[-1].append(ids[after])
        else:
            tiers.append([ids[after]])
    return tuple(tuple(t) for t in tiers)
