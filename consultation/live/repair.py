"""Repairing the live counters when they drifted from the database: the periodic passes,
and a count at once after bulk deletions that bypass the domain's writes.

Two passes (decision 0040). Every minute, ``reconcile`` looks only at what changed since
its last run: the ballots, votes, grades and comments written since then (by their
indexed dates), checked against what the live view counted. Every hour (and when the
minute pass finds counts it cannot explain), ``reconcile(full=True)`` checks everything,
ballots in chunks of ``FULL_CHUNK``.

What makes a ballot's repair safe under a stream of writes is the *ledger*
(``consultation.live.stores``): the ranking the live view counted for each ballot. The
counters' ballot part and the live matrix move only with it, in one atomic transition
from an expected ranking to a new one, and both the write's after-commit hook and the
repair make that same transition. A repair reads the ledger *before* the database: if a
hook moved the ballot meanwhile, its transition no longer starts from what the repair
read, and is refused (the next pass looks again); if the repair moves first, the hook's
transition is refused, the ballot already being counted as the database has it. Either
way a ballot is counted once, as it stands.
"""

import logging
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

import numpy as np
from django.db.models import Q

from consultation.counting.pairwise import position_counts
from consultation.live.counters import (
    TOTALS,
    encoded_rankings,
    item_counters,
    matrix_of_profile,
    profile_of_counted,
    rebuild,
    recount,
)
from consultation.live.events import pages_changed, publish_tally, still_takes_part
from consultation.live.stores import (
    APPLIED,
    BUILT,
    RANK_PREFIX,
    Ranking,
    decode,
    matrix_cells,
    rank_field,
    store,
)
from consultation.models import Ballot, Comment, Consultation, Grade, Vote

logger = logging.getLogger(__name__)

# reconcile: how many times to count while the counters move, and how long apart.
RECONCILE_TRIES = 5
RECONCILE_PAUSE_SECONDS = 0.2
# A row is dated when its transaction starts writing and seen once it commits: the minute
# pass looks this far behind its last start, so that a write committed slowly is not missed.
GRACE_SECONDS = 120.0
# Ballots per step of the full check (one query, one read of the ledger each).
FULL_CHUNK = 20_000


def reconcile(consultation: Consultation, *, full: bool = False) -> dict[str, tuple[int, int]]:
    """Set the live view right where it differs from the database; report what differed.

    The minute pass (default) reads only the rows changed since its last run; the first
    run on a consultation, and ``full=True``, read everything. Nothing is done while the
    counters are not built (the first read builds them from the database)."""
    started = time.time()
    since = store().checked_at(consultation.pk)
    if store().counted_ballot_count(consultation.pk) is None:
        return {}
    drift: dict[str, tuple[int, int]] = {}
    if full or since is None:
        drift.update(_every_ballot(consultation))
        drift.update(_ballot_counts(consultation))
        drift.update(_counters(consultation, items=None))
    else:
        after = datetime.fromtimestamp(since - GRACE_SECONDS, tz=UTC)
        changed = Ballot.objects.filter(consultation=consultation, updated_at__gt=after)
        drift.update(_ballots(consultation, changed.order_by("pk").values_list("pk", flat=True)))
        count = store().counted_ballot_count(consultation.pk) or 0
        if count > Ballot.objects.filter(consultation=consultation).count():
            drift.update(_withdrawn(consultation))  # a withdrawal the live view missed
        drift.update(_counters(consultation, items=_touched_items(consultation, after)))
    store().set_checked(consultation.pk, started)
    if drift:
        logger.warning("live counters of %s repaired: %s", consultation.slug, drift)
        publish_tally(consultation.pk)
        pages_changed(consultation.pk, slug=consultation.slug)  # the copies showed the drift
    return drift


# --- ballots: the ledger against the database -------------------------------------------


def _ballots(consultation: Consultation, ids: Iterable[int]) -> dict[str, tuple[int, int]]:
    """Move each of these ballots' ledger entry to what the database holds; ``ballot:<id>``
    -> (1 if it was counted, 1 if it exists) for each one moved."""
    ids = list(ids)
    moved: dict[str, tuple[int, int]] = {}
    for start in range(0, len(ids), FULL_CHUNK):
        chunk = ids[start : start + FULL_CHUNK]
        # Compared as the ledger spells them ("12,5,7"), each side encoded by its own
        # store (Redis, the database): no ballot is decoded unless the two differ.
        counted = store().counted_encoded(consultation.pk, chunk)  # before the database
        truth = encoded_rankings(consultation, chunk)
        differ = [i for i in chunk if counted[i] != truth.get(i)]
        owners = dict(Ballot.objects.filter(pk__in=differ).values_list("pk", "user_id"))
        for ballot_id in differ:
            was, now = decode(counted[ballot_id]), decode(truth.get(ballot_id))
            if _move(consultation, ballot_id, was, now, owners):
                moved[f"ballot:{ballot_id}"] = (int(was is not None), int(now is not None))
    return moved


def _move(
    consultation: Consultation,
    ballot_id: int,
    counted: Ranking | None,
    truth: Ranking | None,
    owners: Mapping[int, int | None],
) -> bool:
    owner = owners.get(ballot_id)
    add = owner if truth is not None else None
    remove = None
    if truth is None and owner is not None and not still_takes_part(consultation.pk, owner):
        remove = owner
    found = store().ballot_transition(consultation.pk, ballot_id, counted, truth, add, remove)
    return found == APPLIED


def _every_ballot(consultation: Consultation) -> dict[str, tuple[int, int]]:
    """The full check's ballot part: every ballot, by chunks of ids, then those counted
    but gone."""
    moved: dict[str, tuple[int, int]] = {}
    ids = Ballot.objects.filter(consultation=consultation).order_by("pk")
    last = 0
    while chunk := list(ids.filter(pk__gt=last).values_list("pk", flat=True)[:FULL_CHUNK]):
        moved.update(_ballots(consultation, chunk))
        last = chunk[-1]
    moved.update(_withdrawn(consultation))
    return moved


def _withdrawn(consultation: Consultation) -> dict[str, tuple[int, int]]:
    """Ballots the ledger counts that the database no longer has. The ledger is read
    first: a ballot withdrawn after that read is either found here, or not yet
    withdrawn when the database was read."""
    counted = store().counted_ballot_ids(consultation.pk)
    existing = set(Ballot.objects.filter(consultation=consultation).values_list("pk", flat=True))
    gone = counted - existing
    if not gone:
        return {}
    # Their owners: the ballots are gone, so the ledger's ranking is all we know; the
    # participant set is set right by the full check's participant count.
    rankings = store().counted_ballots(consultation.pk, gone)
    return {
        f"ballot:{ballot_id}": (1, 0)
        for ballot_id in sorted(gone)
        if _move(consultation, ballot_id, rankings[ballot_id], None, {})
    }


def _ballot_counts(consultation: Consultation) -> dict[str, tuple[int, int]]:
    """The counters' ballot part and the live matrix against the ledger, all read at one
    instant: what differs is added where it lacks. An addition, unlike a replacement,
    cannot undo a transition that lands meanwhile: both move the same way."""
    found = store().ballots_snapshot(consultation.pk)
    if found is None:
        return {}
    lengths, items, counts, matrix = found
    profile = profile_of_counted(consultation, lengths, items)
    if profile is None:
        return {}
    positions = position_counts(profile.ballots, len(profile.candidates))
    expected = {
        rank_field(profile.candidates[i], r + 1): int(positions[r, i])
        for r, i in zip(*np.nonzero(positions), strict=True)
    }
    expected["ballots"] = profile.n_ballots
    fields = {f for f in counts if f.startswith(RANK_PREFIX) or f == "ballots"} | set(expected)
    deltas = {f: expected.get(f, 0) - counts.get(f, 0) for f in fields}
    deltas = {f: n for f, n in deltas.items() if n}
    cells: dict[tuple[int, ...], int] = {}
    if matrix is not None:
        truth = matrix_cells(matrix_of_profile(profile))
        now = matrix_cells(matrix)
        cells = {c: truth.get(c, 0) - now.get(c, 0) for c in set(truth) | set(now)}
        cells = {c: n for c, n in cells.items() if n}
    store().adjust(consultation.pk, deltas, cells)
    drift = {f: (counts.get(f, 0), expected.get(f, 0)) for f in deltas}
    if cells:
        drift["pairwise"] = (len(cells), 0)
        logger.warning("live pairwise matrix of %s repaired", consultation.slug)
    return drift


# --- votes, grades, comments and participants: recounted where they changed ------------


def _touched_items(consultation: Consultation, after: datetime) -> set[int]:
    """Items with a vote, grade or comment written since ``after``."""
    touched: set[int] = set()
    for model in (Vote, Grade):
        rows = model.objects.filter(item__consultation=consultation, updated_at__gt=after)
        touched.update(rows.values_list("item_id", flat=True).distinct())
    comments = Comment.objects.filter(item__consultation=consultation).filter(
        Q(created_at__gt=after) | Q(deleted_at__gt=after)
    )
    touched.update(comments.values_list("item_id", flat=True).distinct())
    return touched


def _checked_fields(counts: dict[str, int], items: set[int] | None) -> set[str]:
    """The counter fields a recount of ``items`` (None: all) answers for: everything but
    the ballots' part, which the ledger answers for."""
    return {
        f
        for f in counts
        if f != BUILT
        and f != "ballots"
        and not f.startswith(RANK_PREFIX)
        and (items is None or f in TOTALS or _item_of(f) in items)
    }


def _item_of(field: str) -> int | None:
    parts = field.split(":")
    return int(parts[1]) if len(parts) > 1 else None


def _counters(consultation: Consultation, *, items: set[int] | None) -> dict[str, tuple[int, int]]:
    """Recount votes, grades and comments (of ``items``; None: all) and, in the full
    check, the participants; replace what differs.

    Only when those counters stood still while the database was counted: a write
    committed meanwhile is in the counters and maybe not in the recount (its queries ran
    before it), and "repairing" would undo it. Under a steady stream of writes the repair
    waits for a quieter moment: a few tries now, a moment apart, then the next run."""
    if items is not None and not items:
        return {}
    for attempt in range(RECONCILE_TRIES):
        if attempt:
            time.sleep(RECONCILE_PAUSE_SECONDS)
        before = store().read(consultation.pk)
        truth, people = _recount_fields(consultation, items)
        found = store().read(consultation.pk)
        if found is None or before is None:
            return {}
        fields = _checked_fields({**found[0], **truth}, items)
        if all(before[0].get(f, 0) == found[0].get(f, 0) for f in fields) and (
            people is None or before[1] == found[1]
        ):
            break
    else:
        logger.info("live counters of %s kept moving while counted: next time", consultation.slug)
        return {}
    live, live_people = found
    drift = {f: (live.get(f, 0), truth.get(f, 0)) for f in fields}
    drift = {f: pair for f, pair in drift.items() if pair[0] != pair[1]}
    if people is not None and live_people != len(people):
        drift["participants"] = (live_people, len(people))
    if drift:
        store().set_fields(
            consultation.pk,
            {f: truth.get(f, 0) for f in drift if f != "participants"},
            people if "participants" in drift else None,
        )
    return drift


def _recount_fields(
    consultation: Consultation, items: set[int] | None
) -> tuple[dict[str, int], set[int] | None]:
    if items is None:
        return recount(consultation)
    return item_counters(consultation, items), None


def participant_erased(consultation_id: int) -> None:
    """A deleted account's votes, grades and ballot in this open consultation went in a
    few bulk deletions, not through the domain's writes: count the consultation again now
    and tell the pages, instead of leaving its counters wrong until the periodic
    ``reconcile``. A write landing between the recount and the replacement is set right
    by the next minute pass (its rows are recent)."""
    consultation = Consultation.objects.filter(pk=consultation_id).first()
    if consultation is None:
        return
    rebuild(consultation)
    pages_changed(consultation.pk, slug=consultation.slug)
    publish_tally(consultation.pk)


def reconcile_all(*, full: bool = False) -> dict[str, dict]:
    report = {}
    for consultation in Consultation.objects.filter(status=Consultation.Status.OPEN):
        drift = reconcile(consultation, full=full)
        if drift:
            report[consultation.slug] = {k: list(v) for k, v in drift.items()}
    return report
