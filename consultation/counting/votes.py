"""Per-item votes: for, against, abstain.

Rule: every item is decided on its own. Shares are of all votes cast on the item, so
abstentions are shown (``share_for + share_against + share_abstain = 1``). An item is adopted
when it has more votes for than against. Items are listed by approval, the share of "for"
among the votes for or against (abstentions left out); equal approval: more votes for first;
still equal: tied (``consultation.counting.ties`` lists them). Items nobody voted on for or
against come last. Each item's outcome (adopted or not) never depends on a tie-break: with
as many votes for as against, it is not adopted.
"""

from __future__ import annotations

from fractions import Fraction

from consultation.counting import ties
from consultation.counting.profiles import VoteProfile
from consultation.counting.result import Result, order_and_tiers


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def count_votes(profile: VoteProfile, *, seed: str | None = None) -> Result:
    counts = profile.counts
    approval = [Fraction(int(f), int(f + a)) if f + a else None for f, a, _ in counts]

    def key(i: int) -> tuple[int, Fraction, int]:
        share = approval[i]
        if share is None:
            return (1, Fraction(0), 0)
        return (0, -share, -int(counts[i, 0]))

    order, tiers, breaks = order_and_tiers(profile.candidates, key, seed)
    scores = {}
    for i, c in enumerate(profile.candidates):
        f, a, abstain = (int(x) for x in counts[i])
        total = f + a + abstain
        scores[c] = {
            "for": f,
            "against": a,
            "abstain": abstain,
            "total": total,
            "share_for": _share(f, total),
            "share_against": _share(a, total),
            "share_abstain": _share(abstain, total),
            "approval": _share(f, f + a),
            "adopted": f > a,
        }
    n = profile.n_ballots if profile.n_ballots is not None else int(counts.sum(axis=1).max())
    details = {
        "choices": ["for", "against", "abstain"],
        "adopted_when": "for > against",
        "tie_break": ties.rule(seed),
        "tie_breaks": breaks,
    }
    return Result("votes", profile.candidates, order, tiers, scores, details, n)
