"""Why one item is before another: structured reasons, from a Result's own data.

Each explanation is ``{"code": ..., "first": id, "second": id, ...numbers}``; ``texts.py``
turns it into French or English. Everything is recomputed from ``scores`` and ``details``,
so a Result read back from published JSON explains itself the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from consultation.counting.majority_judgment import compare
from consultation.counting.texts import render

if TYPE_CHECKING:
    from consultation.counting.result import Result


def explain_data(result: Result, a: int, b: int) -> dict[str, Any]:
    for item in (a, b):
        if item not in result.candidates:
            raise ValueError(f"item {item} is not a candidate of this result")
    if a == b:
        raise ValueError("explain needs two different items")
    first, second = sorted((a, b), key=result.order.index)
    base = {"method": result.method, "first": first, "second": second}
    if result.tied(first, second):
        return {"code": _tie_code(result), **base}
    return {**base, **_EXPLAINERS[result.method](result, first, second)}


def _tie_code(result: Result) -> str:
    """Tied items are listed by the declared draw, or by display order (a result counted
    without a seed, or published before the draw existed)."""
    rule = (result.details.get("tie_break") or {}).get("rule")
    return "tie.draw" if rule == "draw" else "tie.display_order"


def _votes(result: Result, first: int, second: int) -> dict[str, Any]:
    s1, s2 = result.scores[first], result.scores[second]
    numbers = {
        "approval_first": s1["approval"],
        "approval_second": s2["approval"],
        "for_first": s1["for"],
        "for_second": s2["for"],
        "against_first": s1["against"],
        "against_second": s2["against"],
        "abstain_first": s1["abstain"],
        "abstain_second": s2["abstain"],
    }
    if s2["approval"] is None:
        return {"code": "votes.no_expressed_votes", **numbers}
    if s1["approval"] != s2["approval"]:
        return {"code": "votes.approval", **numbers}
    return {"code": "votes.more_for", **numbers}


def _borda(result: Result, first: int, second: int) -> dict[str, Any]:
    return {
        "code": "borda.points",
        "points_first": result.scores[first]["points"],
        "points_second": result.scores[second]["points"],
    }


def _copeland(result: Result, first: int, second: int) -> dict[str, Any]:
    s1, s2 = result.scores[first], result.scores[second]
    return {
        "code": "copeland.score",
        "score_first": s1["score"],
        "score_second": s2["score"],
        "wins_first": s1["wins"],
        "wins_second": s2["wins"],
        "losses_first": s1["losses"],
        "losses_second": s2["losses"],
    }


def _schulze(result: Result, first: int, second: int) -> dict[str, Any]:
    i, j = result.candidates.index(first), result.candidates.index(second)
    d, p = result.details["pairwise"], result.details["strongest_paths"]
    numbers = {
        "path_first": p[i][j],
        "path_second": p[j][i],
        "direct_first": d[i][j],
        "direct_second": d[j][i],
        "wins_first": result.scores[first]["wins"],
        "wins_second": result.scores[second]["wins"],
    }
    # Neighbours in different tiers with balanced paths: the earlier tier was unbeaten once
    # the tiers before it were set aside, and the later one was not.
    code = "schulze.path" if p[i][j] > p[j][i] else "schulze.tier"
    return {"code": code, **numbers}


def _irv(result: Result, first: int, second: int) -> dict[str, Any]:
    rounds = result.details["rounds"]
    number = result.scores[second]["eliminated_round"]
    lost = rounds[number - 1]
    numbers = {
        "round": number,
        "votes_first": lost["votes"][_key(lost["votes"], first)],
        "votes_second": lost["votes"][_key(lost["votes"], second)],
        "exhausted": lost["exhausted"],
    }
    if lost["tie_break"] == "previous_rounds":
        return {"code": "irv.previous_rounds", **numbers}
    if result.scores[first]["eliminated_round"] is None and number == len(rounds) - 1:
        return {"code": "irv.final_round", **numbers}
    return {"code": "irv.eliminated_first", **numbers}


def _key(votes: dict[Any, int], item: int) -> int | str:
    """Round dicts have int keys in a Result, string keys once read back from JSON."""
    return item if item in votes else str(item)


def _majority_judgment(result: Result, first: int, second: int) -> dict[str, Any]:
    s1, s2 = result.scores[first], result.scores[second]
    outcome = compare(np.array(s1["profile"]), np.array(s2["profile"]))
    numbers = {
        "median_first": s1["median"],
        "median_second": s2["median"],
        "gauge_first": s1["gauge"],
        "gauge_second": s2["gauge"],
        "above_first": _share(s1, "above"),
        "above_second": _share(s2, "above"),
        "below_first": _share(s1, "below"),
        "below_second": _share(s2, "below"),
        "grades_first": s1["grades"],
        "grades_second": s2["grades"],
        "scale": result.details["scale"],
    }
    if s2["median"] is None:
        return {"code": "mj.no_grades", **numbers}
    by = outcome["decided_by"]
    if by == "tie":  # not neighbours, and equal to each other (ties need not be transitive)
        return {"code": _tie_code(result)}
    if by == "majority_value":
        numbers |= {"removed": outcome["removed"], "values": outcome["values"]}
    return {"code": f"mj.{by}", **numbers}


def _share(scores: dict[str, Any], side: str) -> float:
    return scores[side] / scores["grades"] if scores["grades"] else 0.0


_EXPLAINERS: dict[str, Callable[[Result, int, int], dict[str, Any]]] = {
    "votes": _votes,
    "borda": _borda,
    "copeland": _copeland,
    "schulze": _schulze,
    "instant_runoff": _irv,
    "majority_judgment": _majority_judgment,
}


def explain(
    result: Result, a: int, b: int, lang: str = "fr", names: Mapping[int, str] | None = None
) -> str:
    """``explain_data`` as a sentence in French ("fr") or English ("en").

    ``names`` maps item ids to titles; without it items are called by their id.
    """
    return render(explain_data(result, a, b), lang, names)
