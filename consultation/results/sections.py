"""One counting method's section of a results page: its items in order (``Entry``), the
sentences explaining each step, and what its builder adds (a chart, a matrix, the rounds).

``display.build`` assembles the sections of a results document into the page; the names
and the recount command of a method are shared with the method cards.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from consultation.counting import METHODS, Result
from consultation.counting.explain import explain
from consultation.models import Consultation
from consultation.results import charts, computing

# Majority-judgment grades, best first, from dark to light: grey levels stay ordered in a
# black-and-white print, and every other grade is hatched as well.
GRADE_FILLS = ("#08306b", "#08519c", "#2171b5", "#4292c6", "#6baed6", "#9ecae1", "#c6dbef")
RECOUNT = "python -m consultation.counting recount {file} --method {method} --verify results.json"


def language() -> str:
    """The counting package's language code for the page: "en" or "fr"."""
    return "en" if (get_language() or "fr").startswith("en") else "fr"


def method_title(name: str) -> str:
    method = METHODS[name]
    return method.title_en if language() == "en" else method.title_fr


def ballot_file(name: str) -> str:
    """The open-data file a method counts: rankings.csv, grades.csv or votes.csv."""
    return f"{computing.data_kind(name)}.csv"


def recount_command(name: str) -> str:
    return RECOUNT.format(file=ballot_file(name), method=name)


@dataclass
class Entry:
    """One item at its place in one method's order."""

    item: int
    title: str
    url: str
    rank: int  # shared by tied items (1, 2, 2, 4)
    tied: bool
    scores: dict[str, Any]
    withheld: int | None = None  # responses of an item not broken down (small group)

    @property
    def place(self) -> str:
        return f"{self.rank}=" if self.tied else str(self.rank)


@dataclass
class Section:
    name: str
    title: str
    result: Result
    entries: list[Entry]
    explanations: list[str]
    chart: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def card(self) -> str:
        return f"consultation/results/cards/{self.name}.html"

    @property
    def recount(self) -> str:
        return recount_command(self.name)


class Items:
    """Titles and links of the consultation's items, in the page's language."""

    def __init__(self, consultation: Consultation):
        self.by_id = {item.pk: item for item in consultation.items.order_by("position", "pk")}
        for item in self.by_id.values():
            item.consultation = consultation  # get_absolute_url without a query each

    def title(self, pk: int) -> str:
        item = self.by_id.get(pk)
        return item.display_title if item else _("Item %(id)s") % {"id": pk}

    def url(self, pk: int) -> str:
        item = self.by_id.get(pk)
        return item.get_absolute_url() if item else ""

    def names(self) -> dict[int, str]:
        return {pk: item.display_title for pk, item in self.by_id.items()}


def _entries(result: Result, items: Items, small: dict[int, int]) -> list[Entry]:
    rank_of: dict[int, int] = {}
    tied_ones: set[int] = set()
    position = 1
    for tier in result.tiers:
        for pk in tier:
            rank_of[pk] = position
        if len(tier) > 1:
            tied_ones.update(tier)
        position += len(tier)
    return [
        Entry(
            item=pk,
            title=items.title(pk),
            url=items.url(pk),
            rank=rank_of.get(pk, result.order.index(pk) + 1),
            tied=pk in tied_ones,
            scores=result.scores[pk],
            withheld=small.get(pk),
        )
        for pk in result.order
    ]


def _explanations(result: Result, items: Items) -> list[str]:
    names = items.names()
    lang = language()
    return [explain(result, a, b, lang, names) for a, b in itertools.pairwise(result.order)]


def build_section(name: str, result: Result, items: Items, prefix: str, small: dict) -> Section:
    """One method's section: its entries in order, the sentences explaining each step,
    and what its builder adds (a chart, tables); ``prefix`` starts the chart's id."""
    entries = _entries(result, items, small.get(computing.data_kind(name), {}))
    section = Section(name, method_title(name), result, entries, _explanations(result, items))
    builder = _BUILDERS.get(name)
    if builder:
        builder(section, f"{prefix}-{name.replace('_', '-')}")
    return section


# --- per method --------------------------------------------------------------------------


def _votes(section: Section, chart_id: str) -> None:
    segments = [
        charts.Segment("for", _("For"), "#1b5e20"),
        charts.Segment("against", _("Against"), "#b00020", "hatch"),
        charts.Segment("abstain", _("Abstain"), "#d1d5db", "dots", "#1a1a1a"),
    ]
    rows = [
        charts.Row(
            e.item,
            e.title,
            [e.scores["for"], e.scores["against"], e.scores["abstain"]],
            rank=e.place,
        )
        for e in section.entries
    ]
    section.chart = charts.stacked_bars(
        chart_id,
        _("Votes on each item"),
        _(
            "Stacked bars, one per item in the order of the results: shares of votes for, "
            "against and abstentions. The table that follows gives the same numbers."
        ),
        segments,
        rows,
    )


def _majority_judgment(section: Section, chart_id: str) -> None:
    details = section.result.details
    labels = details["labels_en"] if language() == "en" else details["labels"]
    best_first = list(range(details["scale"]))[::-1]
    section.extra["grades"] = [labels[g] for g in best_first]
    segments = [
        charts.Segment(
            str(g),
            labels[g],
            GRADE_FILLS[n],
            "hatch" if n % 2 else "solid",
            "#ffffff" if n < 4 else "#1a1a1a",
        )
        for n, g in enumerate(best_first)
    ]
    rows = []
    for entry in section.entries:
        profile = entry.scores["profile"]
        median = entry.scores["median"]
        graded = entry.scores["grades"]
        entry.scores = {
            **entry.scores,
            "label": labels[median] if median is not None else "",
            "best_first": [
                (profile[g], profile[g] / graded if graded else None) for g in best_first
            ],
        }
        rows.append(
            charts.Row(
                entry.item,
                entry.title,
                [profile[g] for g in best_first],
                entry.scores["label"],
                rank=entry.place,
            )
        )
    section.chart = charts.stacked_bars(
        chart_id,
        _("Merit profiles"),
        _(
            "Stacked bars, one per item in the order of the results: the share of each "
            "grade, best on the left. The grade under the dashed middle line is the "
            "majority grade. The table that follows gives the same numbers."
        ),
        segments,
        rows,
        median_line=_("half of the grades"),
    )


def _borda(section: Section, chart_id: str) -> None:
    section.chart = charts.bars(
        chart_id,
        _("Borda points"),
        _(
            "Horizontal bars, one per item in the order of the results: its Borda points. "
            "The table that follows gives the same numbers."
        ),
        [charts.Row(e.item, e.title, [e.scores["points"]], rank=e.place) for e in section.entries],
    )


def _matrix(section: Section, key: str) -> list[dict]:
    """Rows of a pairwise matrix (``details[key]``), items in result order."""
    candidates = list(section.result.candidates)
    matrix = section.result.details[key]
    index = {pk: candidates.index(pk) for pk in section.result.order}
    return [
        {
            "entry": row,
            "cells": [
                None if row.item == column.item else matrix[index[row.item]][index[column.item]]
                for column in section.entries
            ],
        }
        for row in section.entries
    ]


def _schulze(section: Section, chart_id: str) -> None:
    section.extra["pairwise"] = _matrix(section, "pairwise")
    section.extra["paths"] = _matrix(section, "strongest_paths")


def _copeland(section: Section, chart_id: str) -> None:
    winner = section.result.details.get("condorcet_winner")
    section.extra["condorcet_winner"] = (
        next(e for e in section.entries if e.item == winner) if winner is not None else None
    )


def _instant_runoff(section: Section, chart_id: str) -> None:
    rounds = section.result.details["rounds"]
    section.extra["rounds"] = [r["round"] for r in rounds]
    section.extra["exhausted"] = [r["exhausted"] for r in rounds]
    table = []
    for entry in section.entries:
        cells = []
        for r in rounds:
            votes = r["votes"].get(str(entry.item), r["votes"].get(entry.item))
            cells.append({"votes": votes, "eliminated": r["eliminated"] == entry.item})
        table.append({"entry": entry, "cells": cells})
    section.extra["table"] = table


_BUILDERS = {
    "votes": _votes,
    "majority_judgment": _majority_judgment,
    "borda": _borda,
    "schulze": _schulze,
    "copeland": _copeland,
    "instant_runoff": _instant_runoff,
}
