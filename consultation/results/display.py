"""Shape a results document for the pages: tables, charts and explanations.

The input is a results document exactly as stored (a publication's ``results.json``,
the computed final results an organiser reviews, or provisional results): nothing is
recounted here, so the page shows the published numbers. ``Result.from_dict`` rebuilds
each method's result only to let it explain itself ("why A is before B").

Item titles come from the database (items are fixed once a consultation opens); an item
missing there is called by its id, as in the open data.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from consultation.counting import METHODS, Result
from consultation.models import Consultation
from consultation.results import outcome, reading, small_groups
from consultation.results.sections import (
    Entry,
    Items,
    Section,
    build_section,
    language,
)

RANKING_METHODS = [name for name, method in METHODS.items() if method.kind == "ranking"]


def build(
    consultation: Consultation,
    document: dict,
    *,
    prefix: str = "results",
    responses: dict[int, dict] | None = None,
) -> dict[str, Any]:
    """Everything the ``consultation/results/_results.html`` include shows.

    ``prefix`` starts every chart id (one page may show one document). ``responses``: the
    official responses by item id (``{"text", "text_en"}``); defaults to the document's.
    """
    items = Items(consultation)
    methods = document.get("methods", {})
    withheld = document.get("withheld", {})
    small = {
        kind: {int(pk): n for pk, n in decision.get("items", {}).items()}
        for kind, decision in withheld.items()
    }
    sections = {
        name: build_section(name, Result.from_dict(methods[name]), items, prefix, small)
        for name in METHODS
        if name in methods
    }
    rankings = [sections[name] for name in RANKING_METHODS if name in sections]
    if responses is None:
        responses = {int(k): v for k, v in document.get("official_responses", {}).items()}
    declared = outcome.declared(document, items)
    return {
        "outcome": declared,
        "totals": _totals(document),
        "withheld": _withheld(document, items),
        "votes": sections.get("votes"),
        "majority_judgment": sections.get("majority_judgment"),
        "rankings": rankings,
        "side_by_side": _side_by_side(rankings),
        "sections": list(sections.values()),
        "all_side_by_side": _side_by_side(list(sections.values())),
        "same_winner": _same_winner(rankings, items),
        "responses": _responses(items, responses),
    }


# --- the whole page ----------------------------------------------------------------------


def _totals(document: dict) -> list[dict]:
    labels = {
        "rankings": _("Ranking ballots"),
        "grades": _("Citizens who graded items"),
        "votes": _("Citizens who voted on items"),
    }
    totals = document.get("totals", {})
    withheld = document.get("withheld", {})
    rows = []
    for kind, label in labels.items():
        if kind in totals:
            rows.append({"kind": kind, "label": label, "count": totals[kind]})
        elif "ballots" in withheld.get(kind, {}):
            rows.append({"kind": kind, "label": label, "count": withheld[kind]["ballots"]})
    return rows


def _withheld(document: dict, items: Items) -> list[dict]:
    kinds = {
        "rankings": _("rankings"),
        "grades": _("majority-judgment grades"),
        "votes": _("votes"),
    }
    notices = []
    for kind, decision in document.get("withheld", {}).items():
        if "items" in decision:
            notices.append(
                {
                    "kind": kinds.get(kind, kind),
                    "threshold": decision["threshold"],
                    "listed": [
                        {"title": items.title(int(pk)), "count": n}
                        for pk, n in decision["items"].items()
                    ],
                }
            )
        else:
            notices.append(
                {
                    "kind": kinds.get(kind, kind),
                    "threshold": decision["threshold"],
                    "ballots": decision.get("ballots", 0),
                }
            )
    return notices


def _side_by_side(rankings: list[Section]) -> list[list[Entry]]:
    """Row n holds each ranking method's n-th item (all methods order the same items)."""
    if not rankings:
        return []
    return [list(row) for row in zip(*(s.entries for s in rankings), strict=False)]


def _same_winner(rankings: list[Section], items: Items) -> str:
    """The title of the item every ranking method puts first alone, or ""."""
    if len(rankings) < 2:
        return ""
    winners = {s.result.winners for s in rankings}
    if len(winners) == 1:
        (winner,) = winners
        if len(winner) == 1:
            return items.title(winner[0])
    return ""


def _responses(items: Items, responses: dict[int, Any]) -> list[dict]:
    en = language() == "en"
    rows = []
    for pk, item in items.by_id.items():
        response = responses.get(pk)
        text = ""
        if response:
            text = (response.get("text_en") if en else "") or response.get("text", "")
        rows.append(
            {"item": pk, "title": item.display_title, "url": item.get_absolute_url(), "text": text}
        )
    return rows


def provisional(consultation: Consultation) -> dict[str, Any] | None:
    """The provisional results while a live-results vote runs (callers check
    ``permissions.can_see_results``), shaped like ``build``, or None."""
    row = reading.provisional_row(consultation)
    if row is None or row.results.get("min_group") != small_groups.threshold():
        return None  # none yet, or counted under another small-group threshold
    document = build(consultation, row.results, prefix="provisional")
    return {**document, "computed_at": row.computed_at, "min_group": small_groups.threshold()}
