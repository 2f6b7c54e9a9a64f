"""Small groups: when a per-item breakdown may be shown.

"For 1, against 0" on an item one person voted on is that person's vote. So wherever a
breakdown of responses appears (the consultation, item and ranking pages, the API's
``…/results``, the websocket tallies and snapshots, the provisional results), it is shown
only for groups of at least ``OPEN_DATA_MIN_GROUP`` responses; smaller groups show their
total, not how it splits. The open-data export applies the same threshold to the files it
publishes (``consultation.results.opendata``). Which *phase* shows results at all is
``permissions.results_are_public``; this module only says which breakdowns, once it does.
docs/decisions/0023-what-results-show-before-publication.md.

- Votes and grades are broken down per item: an item needs that many votes (or grades).
  An item that has them had that many different citizens, so the whole kind passes too.
- Rankings have no per-item group (a ballot ranks several items): how often each item
  was ranked at each rank is shown once the consultation has that many ranking ballots,
  as the open data publishes its ranking file.
"""

from django.conf import settings

# The per-item breakdowns of a tally (``queries.item_tallies``) and what each needs.
BREAKDOWNS = ("votes", "grades", "ranks")


def threshold() -> int:
    return settings.OPEN_DATA_MIN_GROUP


def may_break_down(responses: int) -> bool:
    """Whether a group of ``responses`` (an item's votes or grades, a consultation's
    ranking ballots) is large enough to show how it splits."""
    return responses >= settings.OPEN_DATA_MIN_GROUP


def public_tally(tally: dict, ballots: int) -> dict:
    """One item's tally as it may be shown: ``tally`` is a full tally
    (``queries.item_tallies`` shape), ``ballots`` the consultation's ranking ballots.

    Returns ``comments``, ``responses`` (``{"votes": n, "grades": n}``: the item's totals,
    always shown) and ``votes``, ``grades``, ``ranks``: the breakdown, or None when the
    group is too small. Pages, the API and the websocket frames all use this shape.
    """
    votes, grades = sum(tally["votes"].values()), sum(tally["grades"])
    return {
        "comments": tally["comments"],
        "responses": {"votes": votes, "grades": grades},
        "votes": dict(tally["votes"]) if may_break_down(votes) else None,
        "grades": list(tally["grades"]) if may_break_down(grades) else None,
        "ranks": list(tally["ranks"]) if may_break_down(ballots) else None,
    }


def public_tallies(tallies: dict[int, dict], ballots: int) -> dict[int, dict]:
    """``public_tally`` of every item of ``queries.item_tallies``."""
    return {pk: public_tally(tally, ballots) for pk, tally in tallies.items()}
