"""Majority judgment (Balinski and Laraki), each item judged on the grades it received.

Rule, comparing two items A and B:
1. The majority grade is the lower median of an item's grades (with n grades, sorted from
   worst, the ceil(n/2)-th). Higher majority grade first.
2. Same majority grade g: the majority gauge. p = share of the item's grades above g, q =
   share below g. An item with p > q ("g+") is before one with p <= q ("g-"); between two
   "g+", larger p first; between two "g-", smaller q first.
3. Same grade and same gauge: remove one majority grade from each item and compare again. For
   items with the same number of grades this is Balinski and Laraki's majority ranking; it is
   computed as their *majority values*: the successive majority grades obtained by removing
   the majority grade one at a time, compared from the first, the higher grade wins.
4. Nothing separates them (same shares, or one item runs out of grades first with no
   difference): tied, and the tie-break (a declared draw, or display order:
   ``consultation.counting.ties``) lists them.
Items with no grade at all come last. Shares (not counts) are compared, because citizens
grade the items they choose to, so items have different numbers of grades.
"""

from __future__ import annotations

import itertools
from fractions import Fraction
from functools import cmp_to_key
from typing import Any

import numpy as np

from consultation.counting import ties
from consultation.counting.profiles import GradeProfile
from consultation.counting.result import Result

LABELS_FR = ("À rejeter", "Insuffisant", "Passable", "Assez bien", "Bien", "Très bien", "Excellent")
LABELS_EN = (
    "To reject",
    "Insufficient",
    "Passable",
    "Fairly good",
    "Good",
    "Very good",
    "Excellent",
)


def labels(scale: int, lang: str = "fr") -> list[str]:
    """Grade labels from worst to best."""
    return list((LABELS_EN if lang == "en" else LABELS_FR)[:scale])


def gauge(row: np.ndarray | list[int]) -> dict[str, Any]:
    """Majority grade, counts above and below it, and the gauge's sign and share."""
    counts = [int(v) for v in row]
    n = sum(counts)
    if n == 0:
        return {"median": None, "grades": 0, "above": 0, "below": 0, "sign": None, "share": None}
    needed, seen, g = (n + 1) // 2, 0, 0
    for g, count in enumerate(counts):  # noqa: B007 - g is the answer after the break
        seen += count
        if seen >= needed:
            break
    above, below = sum(counts[g + 1 :]), sum(counts[:g])
    plus = above > below
    return {
        "median": g,
        "grades": n,
        "above": above,
        "below": below,
        "sign": "+" if plus else "-",
        "share": Fraction(above if plus else below, n),
    }


def _gauge_key(gg: dict[str, Any]) -> tuple[Any, ...]:
    """Smaller is better."""
    if gg["median"] is None:
        return (1, 0, 0, 0)
    signed = gg["share"] if gg["sign"] == "+" else -gg["share"]
    return (0, -gg["median"], 0 if gg["sign"] == "+" else 1, -signed)


def majority_values(row: np.ndarray, length: int, start: int = 0) -> np.ndarray:
    """Majority values ``start`` to ``length - 1``: the successive lower medians obtained by
    removing the current majority grade, read off the sorted grades centre-out (the grade at
    a sorted position comes from the cumulative counts, without expanding the grades)."""
    n = int(row.sum())
    cumulative = np.cumsum(row)
    t = np.arange(start, length)
    j = (t + 1) // 2
    if n % 2:
        h = n // 2
        idx = np.where(t % 2 == 1, h - j, h + j)
    else:
        h = n // 2 - 1
        idx = np.where(t % 2 == 1, h + j, h - j)
    return np.searchsorted(cumulative, idx, side="right")


def _steps_at_median(gg: dict[str, Any]) -> int:
    """How many majority grades can be removed with the majority grade unchanged: after r
    removals it is still g while r <= n - 2 * below - 1 and r <= n - 2 * above."""
    n = gg["grades"]
    return int(min(n - 2 * gg["below"] - 1, n - 2 * gg["above"]))


def _first_difference(
    x: np.ndarray, y: np.ndarray, length: int, start: int = 0
) -> tuple[int, int, int] | None:
    """First step from ``start`` where the majority values differ, looking in growing blocks
    (they almost always differ early), with both values there; None if they never do."""
    size = 64
    while start < length:
        stop = min(length, start + size)
        vx, vy = majority_values(x, stop, start), majority_values(y, stop, start)
        differ = np.flatnonzero(vx != vy)
        if len(differ):
            t = int(differ[0])
            return start + t, int(vx[t]), int(vy[t])
        start, size = stop, size * 8
    return None


def compare(
    x: np.ndarray,
    y: np.ndarray,
    gx: dict[str, Any] | None = None,
    gy: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Compare two items' grade counts: ``{"sign": -1 (x first) | 0 | 1, "decided_by": ...}``.

    ``gx``/``gy``: their gauges, when already computed."""
    gx, gy = gx or gauge(x), gy or gauge(y)
    kx, ky = _gauge_key(gx), _gauge_key(gy)
    if kx != ky:
        by = "median" if gx["median"] != gy["median"] else "gauge"
        return {"sign": -1 if kx < ky else 1, "decided_by": by, "removed": 0}
    nx, ny = gx["grades"], gy["grades"]
    if nx == 0 or (x * ny == y * nx).all():
        return {"sign": 0, "decided_by": "tie", "removed": 0}
    length = min(nx, ny)
    # Both keep grade g as majority value while it stays their median: skip those steps.
    start = min(_steps_at_median(gx), _steps_at_median(gy)) + 1
    found = _first_difference(x, y, length, min(start, length))
    if found is None:
        return {"sign": 0, "decided_by": "tie", "removed": length}
    t, value_x, value_y = found
    return {
        "sign": -1 if value_x > value_y else 1,
        "decided_by": "majority_value",
        "removed": t,
        "values": [value_x, value_y],
    }


def majority_judgment(profile: GradeProfile, *, seed: str | None = None) -> Result:
    ids, counts = profile.candidates, profile.counts
    m = len(ids)

    gauges = [gauge(row) for row in counts.tolist()]
    keys = [_gauge_key(g) for g in gauges]

    memo: dict[tuple[int, int], dict[str, Any]] = {}

    def outcome(i: int, j: int) -> dict[str, Any]:
        if (i, j) not in memo:
            memo[i, j] = compare(counts[i], counts[j], gauges[i], gauges[j])
        return memo[i, j]

    def cmp(i: int, j: int) -> int:
        if keys[i] != keys[j]:  # the common case: no need to look further
            return -1 if keys[i] < keys[j] else 1
        return int(outcome(i, j)["sign"])

    indices = sorted(range(m), key=cmp_to_key(cmp))  # stable: display order within a tie
    tiers: list[list[int]] = [[ids[indices[0]]]]
    for i, j in itertools.pairwise(indices):
        if outcome(i, j)["sign"] == 0:
            tiers[-1].append(ids[j])
        else:
            tiers.append([ids[j]])
    order, drawn_tiers, breaks = ties.within_tiers(tiers, seed)
    position = {pk: n for n, pk in enumerate(ids)}
    indices = [position[pk] for pk in order]
    comparisons = [
        outcome(i, j) | {"first": ids[i], "second": ids[j]} for i, j in itertools.pairwise(indices)
    ]
    for comparison in comparisons:
        comparison.pop("sign")
    scores = {ids[i]: _item_scores(counts[i], gauges[i]) for i in range(m)}
    n = profile.n_ballots
    if n is None:
        n = int(counts.sum(axis=1).max()) if m else 0
    details = {
        "scale": profile.scale,
        "labels": labels(profile.scale, "fr"),
        "labels_en": labels(profile.scale, "en"),
        "median": "lower",
        "compared_on": "shares of each item's own grades",
        "comparisons": comparisons,
        "tie_break": ties.rule(seed),
        "tie_breaks": breaks,
    }
    return Result("majority_judgment", ids, order, drawn_tiers, scores, details, n)


def _item_scores(row: np.ndarray, gg: dict[str, Any]) -> dict[str, Any]:
    n = gg["grades"]
    median = gg["median"]
    return {
        "median": median,
        "median_label": None if median is None else LABELS_FR[median],
        "median_label_en": None if median is None else LABELS_EN[median],
        "grades": n,
        "profile": [int(v) for v in row],
        "shares": [int(v) / n if n else 0.0 for v in row],
        "above": gg["above"],
        "below": gg["below"],
        "gauge": gg["sign"],
        "gauge_share": None if gg["share"] is None else float(gg["share"]),
    }
