"""The declared outcome: what a results document says under the method its card declared.

Results pages and the personal results e-mail lead with it; every other method is shown
"for information". Read from the document as stored (a publication's ``results.json``, the
final results under review): nothing is recounted. A document without a ``card`` (published
before cards existed) has no declared outcome, and its pages stay as they were.

- the per-item majority: which items are adopted (more votes for than against; as many for
  as against is a tie, and not adopted: no tie-break is involved);
- any other method: its first tier. Several items there are a tie: with the ``shared``
  tie-break they share first place; with the ``draw``, the draw's first is named, and the
  outcome says it came from the draw and which items it was between;
- instant-runoff: every elimination a tie-break decided is named, with the rule;
- a minimum turnout (quorum) not met: the outcome says so, and that it does not stand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from consultation.counting import METHODS, Result
from consultation.results import computing
from consultation.results.sections import Items, method_title

RULES = {
    "previous_rounds": lambda: _("the previous rounds"),
    "draw": lambda: _("the declared draw"),
    "display_order": lambda: _("the display order"),
}


@dataclass
class Outcome:
    method: str
    title: str
    sentence: str
    notes: list[str] = field(default_factory=list)
    stands: bool = True  # False when a declared minimum turnout was not met
    tie_broken: bool = False
    seed: str = ""
    others: list[str] = field(default_factory=list)  # titles, shown "for information"


def declared(document: dict, items: Items) -> Outcome | None:
    card = document.get("card")
    if not isinstance(card, dict) or card.get("deciding_method") not in METHODS:
        return None
    method = card["deciding_method"]
    methods = document.get("methods", {})
    outcome = Outcome(
        method=method,
        title=method_title(method),
        sentence="",
        seed=document.get("draw_seed", ""),
        others=[method_title(name) for name in METHODS if name in methods and name != method],
    )
    published = methods.get(method)
    if published is None:
        outcome.sentence = _(
            "The deciding method’s results are not published (too few participants to "
            "protect their anonymity): there is no declared outcome."
        )
    else:
        result = Result.from_dict(published)
        if method == "votes":
            _adopted(outcome, result, items)
        else:
            _first(outcome, result, items, card.get("tie_break", "draw"))
    _quorum(outcome, document, card)
    return outcome


def _quote(items: Items, pks: Any) -> str:
    return ", ".join(f"“{items.title(int(pk))}”" for pk in pks)


def _adopted(outcome: Outcome, result: Result, items: Items) -> None:
    adopted = [pk for pk in result.order if result.scores[pk].get("adopted")]
    if adopted:
        outcome.sentence = _("Adopted by a majority of the votes: %(items)s.") % {
            "items": _quote(items, adopted)
        }
    else:
        outcome.sentence = _("No item has more votes for than against: none is adopted.")
    even = [
        pk
        for pk in result.order
        if result.scores[pk]["for"] and result.scores[pk]["for"] == result.scores[pk]["against"]
    ]
    if even:
        outcome.notes.append(
            _("As many votes for as against, hence not adopted: %(items)s.")
            % {"items": _quote(items, even)}
        )


def _first(outcome: Outcome, result: Result, items: Items, tie_break: str) -> None:
    # Tied items named in display order: the draw's order is in the sentence's first part.
    winners = sorted(result.winners, key=result.candidates.index)
    if len(winners) <= 1:
        outcome.sentence = _("First: %(item)s.") % {"item": _quote(items, winners)}
    elif tie_break == "shared":
        outcome.sentence = _("Tie for first place, shared by %(items)s.") % {
            "items": _quote(items, winners)
        }
    else:
        outcome.tie_broken = True
        outcome.sentence = _(
            "First: %(item)s, by the declared draw between %(items)s, tied under this method."
        ) % {"item": _quote(items, result.order[:1]), "items": _quote(items, winners)}
    for decision in result.details.get("tie_breaks", []):
        if "round" not in decision:
            continue
        outcome.tie_broken = True
        rule = RULES[decision["rule"]]() if decision["rule"] in RULES else decision["rule"]
        outcome.notes.append(
            _(
                "Round %(round)d: %(item)s eliminated by a tie-break (%(rule)s) between "
                "%(items)s, who had the fewest votes."
            )
            % {
                "round": decision["round"],
                "item": _quote(items, [decision["eliminated"]]),
                "rule": rule,
                "items": _quote(items, decision["tied"]),
            }
        )
    if outcome.tie_broken:
        outcome.notes.insert(0, _("This outcome depended on a tie-break."))


def _quorum(outcome: Outcome, document: dict, card: dict) -> None:
    quorum = card.get("quorum")
    if not quorum:
        return
    kind = computing.data_kind(outcome.method)
    totals = document.get("totals")
    if totals is None:
        return  # provisional results: no turnout yet
    turnout = totals.get(kind, document.get("withheld", {}).get(kind, {}).get("ballots", 0))
    if turnout < quorum:
        outcome.stands = False
        outcome.notes.insert(
            0,
            _(
                "Minimum turnout not met: %(turnout)d took part, %(quorum)d were required. "
                "The declared outcome does not stand."
            )
            % {"turnout": turnout, "quorum": quorum},
        )
    else:
        outcome.notes.append(
            _("Minimum turnout met: %(turnout)d took part, %(quorum)d were required.")
            % {"turnout": turnout, "quorum": quorum}
        )
