"""Live counters from the database: count, rebuild, read and reconcile them (and the live
pairwise matrix). The database is the truth; the stores hold a derived view.
"""

import logging
import time
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from itertools import groupby
from operator import itemgetter
from typing import Any

import numpy as np
from django.db import connection
from django.db.models import CharField, Count, StringAgg, Value
from django.db.models.functions import Cast

from consultation import queries
from consultation.counting import RankingProfile
from consultation.counting.profiles import ballot_dtype
from consultation.live.stores import (
    BUILT,
    RANK_PREFIX,
    LiveMatrix,
    Ranking,
    Unavailable,
    comments_field,
    encode,
    grade_field,
    pairwise_store,
    rank_field,
    store,
    vote_field,
)
from consultation.models import Ballot, BallotEntry, Comment, Consultation, Grade, Item, Vote
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
    counts.update(_totals(consultation))
    return counts, queries.participant_ids(consultation)


def _totals(consultation: Consultation) -> dict[str, int]:
    items = Item.objects.filter(consultation=consultation)
    return {
        "votes": Vote.objects.filter(item__in=items).count(),
        "grades": Grade.objects.filter(item__in=items).count(),
        "ballots": Ballot.objects.filter(consultation=consultation).count(),
        "comments": Comment.objects.filter(item__in=items, deleted_at__isnull=True).count(),
    }


def item_counters(consultation: Consultation, items: Iterable[int]) -> dict[str, int]:
    """The vote, grade and comment counters of these items, and the totals (not the
    ballots' part, which the ledger answers for): a recount of what changed."""
    items = list(items)
    counts: dict[str, int] = {}
    for item_id in items:
        for choice in Vote.Choice.values:
            counts[vote_field(item_id, choice)] = 0
        for grade in range(consultation.grade_scale):
            counts[grade_field(item_id, grade)] = 0
        counts[comments_field(item_id)] = 0
    votes = Vote.objects.filter(item_id__in=items).values_list("item", "choice")
    for item_id, choice, n in votes.annotate(n=Count("id")):
        counts[vote_field(item_id, choice)] = n
    grades = Grade.objects.filter(item_id__in=items, grade__lt=consultation.grade_scale)
    for item_id, grade, n in grades.values_list("item", "grade").annotate(n=Count("id")):
        counts[grade_field(item_id, grade)] = n
    comments = Comment.objects.filter(item_id__in=items, deleted_at__isnull=True)
    for item_id, n in comments.values_list("item").annotate(n=Count("id")):
        counts[comments_field(item_id)] = n
    return counts | _totals(consultation)


def counted_rankings(
    consultation: Consultation, ballot_ids: Iterable[int] | None = None
) -> dict[int, Ranking]:
    """Each ballot's ranking (item ids, best first), by ballot id: every ballot of the
    consultation, or those of ``ballot_ids``. Rows streamed, no model instances."""
    rows = BallotEntry.objects.filter(ballot__consultation=consultation)
    if ballot_ids is not None:
        rows = rows.filter(ballot_id__in=list(ballot_ids))
    found = (
        rows.order_by("ballot_id", "rank")
        .values_list("ballot_id", "item_id")
        .iterator(chunk_size=opendata.CHUNK_SIZE * 4)
    )
    return {
        ballot: tuple(item for _b, item in entries)
        for ballot, entries in groupby(found, itemgetter(0))
    }


def encoded_rankings(consultation: Consultation, ballot_ids: Sequence[int]) -> dict[int, str]:
    """These ballots' rankings as the ledger spells them (``stores.encode``: "12,5,7"),
    spelled by the database: one short string per ballot crosses over, not one row per
    entry (on PostgreSQL; elsewhere, encoded here)."""
    if not ballot_ids:
        return {}
    if connection.vendor != "postgresql":  # SQLite orders no aggregate's input
        return {b: encode(r) for b, r in counted_rankings(consultation, ballot_ids).items()}
    rows = BallotEntry.objects.filter(
        ballot__consultation=consultation,
        ballot_id__gte=min(ballot_ids),  # a range as well: a chunk is one stretch of ids
        ballot_id__lte=max(ballot_ids),
        ballot_id__in=ballot_ids,
    )
    spelled = (
        rows.values("ballot_id")
        .annotate(ranking=StringAgg(Cast("item_id", CharField()), Value(","), order_by="rank"))
        .values_list("ballot_id", "ranking")
    )
    return dict(spelled)


def matrix_of(consultation: Consultation, rankings: Iterable[Ranking]) -> LiveMatrix:
    candidates = tuple(consultation.items.order_by("position", "id").values_list("pk", flat=True))
    profile = RankingProfile.from_rankings(candidates, rankings, consultation.ranking_size)
    return matrix_of_profile(profile)


def matrix_of_profile(profile: RankingProfile) -> LiveMatrix:
    m = len(profile.candidates)
    ranked = np.bincount(profile.ballots[profile.ballots >= 0], minlength=m)
    return LiveMatrix(
        profile.candidates, np.array(profile.pairwise(), dtype=np.int64), ranked.astype(np.int64)
    )


def rebuild(consultation: Consultation) -> tuple[dict[str, int], int]:
    """Count everything again and replace the live view: counters, ledger and matrix.

    The ballots' part (rank counters, the ballot total, the matrix) is counted from the
    ledger read here, so that the three agree from the start; a ballot written while
    this reads is set right by the next ``repair.reconcile`` (its ``updated_at`` is
    recent), as is a vote or a grade."""
    started = time.time()
    counts, people = recount(consultation)
    ballots = counted_rankings(consultation)
    counts = {f: n for f, n in counts.items() if not f.startswith(RANK_PREFIX)}
    for field, n in ballots_counts(ballots.values()).items():
        counts[field] = n
    matrix = matrix_of(consultation, ballots.values()) if consultation.ranking_enabled else None
    store().replace(consultation.pk, counts, people, ballots, matrix)
    store().set_checked(consultation.pk, started)  # the minute pass starts from here
    return counts, len(people)


def ballots_counts(rankings: Iterable[Ranking]) -> dict[str, int]:
    """The rank counters and the ballot total of these rankings."""
    counts: Counter[str] = Counter()
    n = 0
    for ranking in rankings:
        n += 1
        for rank, item_id in enumerate(ranking, start=1):
            counts[rank_field(item_id, rank)] += 1
    return {**counts, "ballots": n}


def current_counts(consultation: Consultation) -> tuple[dict[str, int], int]:
    """The live counter fields and the number of participants (rebuilt if need be)."""
    try:
        found = store().read(consultation.pk)
        return found if found is not None else rebuild(consultation)
    except Unavailable:
        counts, people = recount(consultation)  # correct, just slower, until Redis is back
        return counts, len(people)


def shown_counts(
    consultation: Consultation, *, tallies: bool, items: Collection[int] | None = None
) -> tuple[dict[str, int], dict[int, dict[str, Any]]]:
    """What a page or the API shows of a consultation: its participation counts
    (``queries.participation_counts``' shape) and, asked for, each item's tally
    (``queries.item_tallies``' shape; empty when not asked), of every item or, given
    ``items`` (ids), of those (a measure's page shows its own).

    Of an open consultation — the one a surge writes to and reads — from the live
    counters: the numbers its stream carries, kept by every write after its commit and
    reconciled with the database each minute, read in one round trip, instead of counting
    every vote, grade, ballot and participant on every view (docs/performance.md, "Read
    path"). Of any other, counted from the database, which no longer moves."""
    if consultation.status != Consultation.Status.OPEN:
        counts = queries.participation_counts(consultation)
        return counts, queries.item_tallies(consultation) if tallies else {}
    return live_view(consultation, tallies=tallies, items=items)


def live_view(
    consultation: Consultation, *, tallies: bool = True, items: Collection[int] | None = None
) -> tuple[dict[str, int], dict[int, dict[str, Any]]]:
    """The participation counts and (asked for) each item's tally, read from the live
    counters in one read: what pages show of an open consultation and what its stream's
    snapshot and tally frames carry."""
    fields, participants = current_counts(consultation)
    counts = {"participants": participants, **{name: fields.get(name, 0) for name in TOTALS}}
    found: dict[int, dict[str, Any]] = {}
    if tallies:
        choices = Vote.Choice.values
        if items is None:
            items = consultation.items.values_list("pk", flat=True)
        for item_id in items:
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
    return matrix_of(consultation, map(tuple, opendata.rankings(consultation)))


def pairwise_matrix(consultation: Consultation) -> LiveMatrix | None:
    """The live matrix (built from the database on first use); None when ranking is off
    or Redis is unavailable (the caller then counts from the ballots)."""
    if not consultation.ranking_enabled:
        return None
    try:
        found = pairwise_store().read(consultation.pk)
        if found is None or len(found.candidates) != consultation.items.count():
            # With the counters and the ledger, never alone: the three move together.
            rebuild(consultation)
            found = pairwise_store().read(consultation.pk)
        return found
    except Unavailable:
        return None


def live_ranking_profile(consultation: Consultation) -> RankingProfile | None:
    """Every ballot as the live view counted it (its ledger), over the consultation's
    items in display order: the ballots without the database. None when the view is not
    built or Redis is unavailable (the caller reads the database)."""
    try:
        found = store().counted_items(consultation.pk)
    except Unavailable:
        return None
    return None if found is None else profile_of_counted(consultation, *found)


def profile_of_counted(
    consultation: Consultation, lengths: np.ndarray, items: np.ndarray
) -> RankingProfile | None:
    """The profile of rankings given as their lengths and their item ids end to end
    (``stores.counted_items``); None if they name another consultation's items."""
    candidates = tuple(consultation.items.order_by("position", "id").values_list("pk", flat=True))
    ids = np.asarray(candidates, dtype=np.int64)
    by_id = np.argsort(ids)
    where = by_id[np.searchsorted(ids, items, sorter=by_id)] if len(ids) else items
    k = consultation.ranking_size
    if not np.array_equal(ids[where], items) or (lengths > k).any():
        return None  # not this consultation's items any more: count from the database
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    ballots = np.full((len(lengths), k), -1, dtype=ballot_dtype(len(ids)))
    ballots[np.repeat(np.arange(len(lengths)), lengths), np.arange(len(items)) - starts] = where
    return RankingProfile(candidates, ballots)
