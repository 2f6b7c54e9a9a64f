"""The plain result object every counting method returns."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from consultation.counting import ties

RESULT_FORMAT = "agora-result/1"
# What the site publishes and what `recount --json` prints: json.dumps(to_dict(), **this).
JSON_OPTIONS: dict[str, Any] = {"ensure_ascii": False, "indent": 2}


@dataclass(frozen=True)
class Result:
    """Ordered items, per-item scores, ties and the method's details, all JSON-able.

    ``order`` is a total order (best first) after the tie-break ``details["tie_break"]``
    names (a declared draw, or display order); ``tiers`` groups the items the method itself
    cannot separate, best tier first, and ``details["tie_breaks"]`` lists every place where
    the tie-break decided (``consultation.counting.ties``).
    """

    method: str
    candidates: tuple[int, ...]
    order: tuple[int, ...]
    tiers: tuple[tuple[int, ...], ...]
    scores: dict[int, Any]
    details: dict[str, Any]
    n_ballots: int

    @property
    def winner(self) -> int | None:
        """The first item of ``order`` (None when there are no candidates)."""
        return self.order[0] if self.order else None

    @property
    def winners(self) -> tuple[int, ...]:
        """The items of the first tier: more than one when the method ties for first."""
        return self.tiers[0] if self.tiers else ()

    def rank(self, item: int) -> int:
        """1-based position of ``item`` in ``order``."""
        return self.order.index(item) + 1

    def tied(self, a: int, b: int) -> bool:
        return any(a in tier and b in tier for tier in self.tiers)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able and deterministic: string keys, items in display order."""
        return {
            "format": RESULT_FORMAT,
            "method": self.method,
            "candidates": list(self.candidates),
            "n_ballots": self.n_ballots,
            "winner": self.winner,
            "order": list(self.order),
            "tiers": [list(t) for t in self.tiers],
            "scores": {str(c): _plain(self.scores[c]) for c in self.candidates},
            "details": _plain(self.details),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), **JSON_OPTIONS)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Result:
        """The Result a ``to_dict()`` document describes (e.g. read from results.json), so
        that published results explain themselves: ``explain(from_dict(r.to_dict()), a, b)``
        is ``explain(r, a, b)``. Score keys become ints again; details stay as read."""
        return cls(
            method=data["method"],
            candidates=tuple(data["candidates"]),
            order=tuple(data["order"]),
            tiers=tuple(tuple(tier) for tier in data["tiers"]),
            scores={int(k): v for k, v in data["scores"].items()},
            details=dict(data["details"]),
            n_ballots=data["n_ballots"],
        )


def _plain(value: Any) -> Any:
    """Tuples to lists, int keys to strings, numpy scalars to Python numbers."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist"):
        return value.tolist()
    return value


def order_and_tiers(
    candidates: Sequence[int], key: Callable[[int], Any], seed: str | None = None
) -> tuple[tuple[int, ...], tuple[tuple[int, ...], ...], list[dict[str, Any]]]:
    """Sort candidate *indices* by ``key`` (smaller is better); items with equal keys share
    a tier. Within a tier, the declared draw of ``seed`` decides (display order without a
    seed: ``consultation.counting.ties``).

    Returns the order and the tiers as item ids, and the tie-breaks used
    (``details["tie_breaks"]``).
    """
    keys = [key(i) for i in range(len(candidates))]
    indices = sorted(range(len(candidates)), key=lambda i: (keys[i], i))
    tiers: list[list[int]] = []
    previous: Any = object()
    for i in indices:
        k = keys[i]
        if tiers and k == previous:
            tiers[-1].append(candidates[i])
        else:
            tiers.append([candidates[i]])
        previous = k
    return ties.within_tiers(tiers, seed)
