"""Ties told as ties, and the declared draw that breaks them when something must.

Every method groups the items it cannot separate in ``Result.tiers``. Within a tier the
``order`` still needs *some* sequence, and instant-runoff must eliminate *one* item when
several have the fewest votes. What decides is written in the result, never left silent:

- ``details["tie_break"]``: ``{"rule": "draw" | "display_order", "seed": str | None}``, the
  last-resort rule the result was counted with. ``draw`` is a random draw anyone can redo
  from the published ``seed`` (the site derives it from the frozen consultation card and the
  hashes of the ballot files, both published); ``display_order`` (no seed: the library's
  default, e.g. a bare recount) follows the consultation's display order, which its
  organisers chose, so the site never counts that way.
- ``details["tie_breaks"]``: every place where that rule (or, for instant-runoff, the
  previous rounds) decided, so that an outcome which depended on a tie-break says so.

The draw: each item's ticket is the SHA-256 of ``"<seed>:<item id>"``; the smallest ticket
comes first (and, in instant-runoff, the largest goes). No random generator, no state: the
same seed gives the same draw on every machine and in every language.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

DRAW = "draw"
DISPLAY_ORDER = "display_order"
PREVIOUS_ROUNDS = "previous_rounds"


def draw_seed(card: Mapping[str, Any], ballot_hashes: Mapping[str, str]) -> str:
    """The published seed: SHA-256 of the frozen card and of the ballot files' hashes, as
    canonical JSON. Fixed before anyone could know which items would tie (the card is frozen
    at opening), and unknowable before the last ballot is in."""
    text = json.dumps(
        {"card": card, "ballots": dict(sorted(ballot_hashes.items()))},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def ticket(seed: str, item: int) -> str:
    """An item's ticket in the draw: smaller comes first."""
    return hashlib.sha256(f"{seed}:{item}".encode()).hexdigest()


def drawn(seed: str | None, items: Iterable[int]) -> list[int]:
    """``items`` in the order the draw gives them (as given when there is no seed)."""
    listed = list(items)
    if seed is None:
        return listed
    return sorted(listed, key=lambda item: ticket(seed, item))


def rule(seed: str | None) -> dict[str, Any]:
    """``details["tie_break"]`` for a result counted with ``seed``."""
    return {"rule": DRAW if seed is not None else DISPLAY_ORDER, "seed": seed}


def within_tiers(
    tiers: Sequence[Sequence[int]], seed: str | None
) -> tuple[tuple[int, ...], tuple[tuple[int, ...], ...], list[dict[str, Any]]]:
    """Order each tier (given in display order) by the draw; returns the order, the tiers
    in that order, and ``details["tie_breaks"]``: one entry per tier of several items."""
    ordered = [tuple(drawn(seed, tier)) for tier in tiers]
    breaks = [
        {
            "tier": number,
            "items": list(tier),
            "rule": rule(seed)["rule"],
            "order": list(placed),
        }
        for number, (tier, placed) in enumerate(zip(tiers, ordered, strict=True), start=1)
        if len(tier) > 1
    ]
    order = tuple(item for tier in ordered for item in tier)
    return order, tuple(ordered), breaks


def depended_on_a_tie_break(result_details: Mapping[str, Any]) -> bool:
    """Whether a result's outcome was decided, anywhere, by a tie-break."""
    return bool(result_details.get("tie_breaks"))
