"""Live counters from the database: count, rebuild, read and reconcile them (and the live
pairwise matrix). The database is the truth; the stores hold a derived view.
"""

import logging
from typing import Any

import numpy as np

from consultation import queries
from consultation.counting import RankingProfile
from consultation.live.stores import (
    BUILT,
    LiveMatrix,
    Unavailable,
    comments_field,
    grade_field,
    pairwise_store,
    rank_field,
    store,
    vote_field,
)
from consultation.models import Consultation, Vote
from consultation.results import opendata

logger = logging.getLogger(__name__)
TOTALS = ("votes", "grades", "ballots", "comments")


# --- counting from the database ---------------------------------------------------------


def recount(consultation: Consultation) -> tuple[dict[str, int], set[int]]:
    """The truth, as flat counter fields, and the set of participants."""
    counts = {BUILT: 1}
    for item_id, tally in queries.item_tallies(consultation).items():
        for choice, n in tally["votes"].items():
            counts[vote_field(item_id, choice)] = n
        for grade, n in enumerate(tally["grades"]):
            counts[grade_field(item_id, grade)] = n
        for rank, n in enumerate(tally["ranks"], start=1):
            counts[rank_field(item_id, rank)] = n
        counts[comments_field(item_id)] = tally["comments"]
    totals = queries.participation_counts(consultation)
    for name in TOTALS:
        counts[name] = totals[name]
    return counts, queries.participant_ids(consultation)


def rebuild(consultation: Consultation) -> tuple[dict[str, int], int]:
    counts, people = recount(consultation)
    store().replace(consultation.pk, counts, people)
    rebuild_pairwise(consultation)
    return counts, len(people)


def current_counts(consultation: Consultation) -> tuple[dict[str, int], int]:
    """The live counter fields and the number of participants (rebuilt if need be)."""
    try:
        found = store().read(consultation.pk)
        return found if found is not None else rebuild(consultation)
    except Unavailable:
        counts, people = recount(consultation)  # correct, just slower, until Redis is back
        return counts, len(people)


def shown_counts(
    consultation: Consultation, *, tallies: bool
) -> tuple[dict[str, int], dict[int, dict[str, Any]]]:
    """What a page or the API shows of a consultation: its participation counts
    (``queries.participation_counts``' shape) and, asked for, each item's tally
    (``queries.item_tallies``' shape; empty when not asked).

    Of an open consultation — the one a surge writes to and reads — from the live
    counters: the numbers its stream carries, kept by every write after its commit and
    reconciled with the database each minute, read in one round trip, instead of counting
    every vote, grade, ballot and participant on every view (docs/performance.md, "Read
    path"). Of any other, counted from the database, which no longer moves."""
    if consultation.status != Consultation.Status.OPEN:
        counts = queries.participation_counts(consultation)
        return counts, queries.item_tallies(consultation) if tallies else {}
    fields, participants = current_counts(consultation)
    counts = {
        "participants": participants,
        **{name: fields.get(name, 0) for name in TOTALS},
        "anonymous_ballots": queries.anonymous_ballots(consultation),
    }
    found: dict[int, dict[str, Any]] = {}
    if tallies:
        choices = Vote.Choice.values
        for item_id in consultation.items.values_list("pk", flat=True):
            found[item_id] = {
                "votes": {c: fields.get(vote_field(item_id, c), 0) for c in choices},
                "grades": [
                    fields.get(grade_field(item_id, g), 0) for g in range(consultation.grade_scale)
                ],
                "ranks": [
                    fields.get(rank_field(item_id, r), 0)
                    for r in range(1, consultation.ranking_size + 1)
                ],
                "comments": fields.get(comments_field(item_id), 0),
            }
    return counts, found


def recount_pairwise(consultation: Consultation) -> LiveMatrix:
    """The matrix from the database, ballots streamed in chunks (no model instances)."""
    candidates = tuple(consultation.items.order_by("position", "id").values_list("pk", flat=True))
    profile = RankingProfile.from_rankings(
        candidates, opendata.rankings(consultation), consultation.ranking_size
    )
    ranked = np.bincount(profile.ballots[profile.ballots >= 0], minlength=len(candidates))
    return LiveMatrix(
        candidates, np.array(profile.pairwise(), dtype=np.int64), ranked.astype(np.int64)
    )


def rebuild_pairwise(consultation: Consultation) -> LiveMatrix | None:
    if not consultation.ranking_enabled:
        return None
    found = recount_pairwise(consultation)
    pairwise_store().replace(consultation.pk, found)
    return found


def pairwise_matrix(consultation: Consultation) -> LiveMatrix | None:
    """The live matrix (built from the database on first use); None when ranking is off
    or Redis is unavailable (the caller then counts from the ballots)."""
    if not consultation.ranking_enabled:
        return None
    try:
        found = pairwise_store().read(consultation.pk)
        if found is None or len(found.candidates) != consultation.items.count():
            found = rebuild_pairwise(consultation)
        return found
    except Unavailable:
        return None


def reconcile_pairwise(consultation: Consultation) -> bool:
    """Repair the live matrix if it drifted from the database; True if it did."""
    if not consultation.ranking_enabled:
        return False
    found = pairwise_store().read(consultation.pk)
    if found is None:
        return False  # never built: nothing to repair
    truth = recount_pairwise(consultation)
    if found.candidates == truth.candidates and np.array_equal(found.matrix, truth.matrix):
        return False
    pairwise_store().replace(consultation.pk, truth)
    logger.warning("live pairwise matrix of %s repaired", consultation.slug)
    return True
