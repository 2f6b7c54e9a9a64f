"""The consultation's live view: counters, coalesced tallies, snapshots, events.

The database is the truth. Live counters are a derived view kept after commit
(a Redis hash per consultation with ``REDIS_URL``, process memory otherwise);
``reconcile`` recounts from the database and repairs drift. Everything here is
called from ``transaction.on_commit`` (robustly: a failure is logged, the vote
stands) or from the websocket providers, and publishes plain JSON through
``realtime.broadcast.publish``.
"""

import logging
import threading
from collections import defaultdict
from dataclasses import dataclass
from functools import partial

import numpy as np
from django.db import transaction
from django.utils import timezone

from consultation import permissions, queries
from consultation.counting import RankingProfile
from consultation.models import Ballot, Comment, Consultation, Grade, Vote
from consultation.results import opendata, small_groups
from realtime import broadcast
from realtime.topics import NOT_ALLOWED, NOT_FOUND, Access, Provider, register

logger = logging.getLogger(__name__)

COALESCE_SECONDS = 0.25  # at most 4 tally frames a second per consultation
BUILT = "_built"
TOTALS = ("votes", "grades", "ballots", "comments")


def topic(consultation_id: int) -> str:
    return f"consultation:{consultation_id}"


def moderation_topic(consultation_id: int) -> str:
    return f"moderation:{consultation_id}"


# --- counter stores ---------------------------------------------------------------------


class MemoryStore:
    """The embedded default: one process, counters in memory."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts: dict[int, dict[str, int]] = {}
        self.people: dict[int, set[int]] = defaultdict(set)
        self.pending: set[int] = set()

    def apply(self, cid, deltas, add=None, remove=None):
        with self.lock:
            if cid not in self.counts:
                return  # not built yet: the next read rebuilds from the database
            for field, delta in deltas.items():
                self.counts[cid][field] = self.counts[cid].get(field, 0) + delta
            if add:
                self.people[cid].add(add)
            if remove:
                self.people[cid].discard(remove)

    def read(self, cid):
        with self.lock:
            if cid not in self.counts:
                return None
            return dict(self.counts[cid]), len(self.people[cid])

    def replace(self, cid, counts, people):
        with self.lock:
            self.counts[cid] = dict(counts)
            self.people[cid] = set(people)

    def claim_flush(self, cid) -> bool:
        with self.lock:
            if cid in self.pending:
                return False
            self.pending.add(cid)
            return True

    def release_flush(self, cid):
        with self.lock:
            self.pending.discard(cid)


class Unavailable(Exception):
    """Redis is down (or cooling down): the live view pauses, the database carries on."""


class RedisStore:
    """With REDIS_URL: counters shared by every process (hash + set per consultation)."""

    def _keys(self, cid):
        return f"agora:live:{cid}:counts", f"agora:live:{cid}:people"

    def _run(self, work):
        if not broadcast.redis_ok():
            raise Unavailable
        try:
            return work(broadcast.redis_client())
        except Exception as error:
            broadcast.mark_down(error)
            raise Unavailable from error

    def apply(self, cid, deltas, add=None, remove=None):
        counts, people = self._keys(cid)

        def work(client):
            if not client.hexists(counts, BUILT):
                return
            pipe = client.pipeline(transaction=True)
            for field, delta in deltas.items():
                pipe.hincrby(counts, field, delta)
            if add:
                pipe.sadd(people, add)
            if remove:
                pipe.srem(people, remove)
            pipe.execute()

        self._run(work)

    def read(self, cid):
        counts, people = self._keys(cid)
        raw, participants = self._run(
            lambda client: client.pipeline(transaction=True).hgetall(counts).scard(people).execute()
        )
        if not raw or BUILT.encode() not in raw:
            return None
        return {k.decode(): int(v) for k, v in raw.items()}, participants

    def replace(self, cid, counts_, people_):
        counts, people = self._keys(cid)

        def work(client):
            pipe = client.pipeline(transaction=True)
            pipe.delete(counts, people)
            pipe.hset(counts, mapping={**counts_, BUILT: 1})
            if people_:
                pipe.sadd(people, *people_)
            pipe.execute()

        self._run(work)

    def claim_flush(self, cid) -> bool:
        # Whoever sets the flag schedules the flush; others' changes ride along with it.
        # The expiry only matters if that process dies before flushing.
        key = f"agora:live:{cid}:flush"
        return bool(self._run(lambda client: client.set(key, 1, nx=True, px=5000)))

    def release_flush(self, cid):
        key = f"agora:live:{cid}:flush"
        self._run(lambda client: client.delete(key))


_memory = MemoryStore()


def store():
    return RedisStore() if broadcast.uses_redis() else _memory


# --- counting from the database ---------------------------------------------------------


def recount(consultation: Consultation) -> tuple[dict[str, int], set[int]]:
    """The truth, as flat counter fields, and the set of participants."""
    counts = {BUILT: 1}
    for item_id, tally in queries.item_tallies(consultation).items():
        for choice, n in tally["votes"].items():
            counts[f"v:{item_id}:{choice}"] = n
        for grade, n in enumerate(tally["grades"]):
            counts[f"g:{item_id}:{grade}"] = n
        for rank, n in enumerate(tally["ranks"], start=1):
            counts[f"r:{item_id}:{rank}"] = n
        counts[f"c:{item_id}"] = tally["comments"]
    totals = queries.participation_counts(consultation)
    for name in TOTALS:
        counts[name] = totals[name]
    return counts, queries.participant_ids(consultation)


def rebuild(consultation: Consultation):
    counts, people = recount(consultation)
    store().replace(consultation.pk, counts, people)
    rebuild_pairwise(consultation)
    return counts, len(people)


def current_counts(consultation: Consultation):
    try:
        found = store().read(consultation.pk)
        return found if found is not None else rebuild(consultation)
    except Unavailable:
        counts, people = recount(consultation)  # correct, just slower, until Redis is back
        return counts, len(people)


def reconcile(consultation: Consultation) -> dict[str, tuple[int, int]]:
    """Compare the live counters with a recount; repair and report what differed."""
    truth, people = recount(consultation)
    found = store().read(consultation.pk)
    live, live_people = found if found is not None else ({}, -1)
    drift = {
        field: (live.get(field, 0), value)
        for field, value in truth.items()
        if field != BUILT and live.get(field, 0) != value
    }
    drift.update(
        {field: (value, 0) for field, value in live.items() if field not in truth and value}
    )
    if live_people != len(people):
        drift["participants"] = (live_people, len(people))
    if drift:
        store().replace(consultation.pk, truth, people)
        logger.warning("live counters of %s repaired: %s", consultation.slug, drift)
        publish_tally(consultation.pk)
    reconcile_pairwise(consultation)
    return drift


def reconcile_all() -> dict[str, dict]:
    report = {}
    for consultation in Consultation.objects.filter(status=Consultation.Status.OPEN):
        drift = reconcile(consultation)
        if drift:
            report[consultation.slug] = {k: list(v) for k, v in drift.items()}
    return report


# --- frames -------------------------------------------------------------------------------


def _tally_body(consultation: Consultation) -> dict:
    """Hidden results: each item's comment count only. Shown: each item's tally as
    ``small_groups.public_tally`` shapes it for the pages and the API (breakdowns of
    small groups are None)."""
    counts, participants = current_counts(consultation)
    visible = permissions.results_are_public(consultation)
    items = {}
    for item_id in consultation.items.values_list("pk", flat=True):
        comments = counts.get(f"c:{item_id}", 0)
        if not visible:
            items[str(item_id)] = {"comments": comments}
            continue
        tally = {
            "comments": comments,
            "votes": {c: counts.get(f"v:{item_id}:{c}", 0) for c in Vote.Choice.values},
            "grades": [counts.get(f"g:{item_id}:{g}", 0) for g in range(consultation.grade_scale)],
            "ranks": [
                counts.get(f"r:{item_id}:{r}", 0) for r in range(1, consultation.ranking_size + 1)
            ],
        }
        items[str(item_id)] = small_groups.public_tally(tally, counts.get("ballots", 0))
    participation = {"participants": participants, **{n: counts.get(n, 0) for n in TOTALS}}
    return {"results_visible": visible, "participation": participation, "items": items}


def snapshot_frame(consultation: Consultation) -> dict:
    # Read the sequence number first: the counts read after it include every frame up
    # to it, so a client may drop any frame numbered at or below the snapshot's.
    seq = broadcast.current_seq(topic(consultation.pk))
    body = _tally_body(consultation)
    return {
        "type": "snapshot",
        "stream": "public",
        "seq": seq,
        "consultation": {"slug": consultation.slug, "status": consultation.status, **body},
    }


def publish_tally(consultation_id: int) -> int | None:
    consultation = Consultation.objects.filter(pk=consultation_id).first()
    if consultation is None:
        return None
    body = _tally_body(consultation)
    del body["results_visible"]
    return broadcast.publish(topic(consultation_id), {"type": "tally", "stream": "public", **body})


_timers: set[threading.Timer] = set()


def request_tally(consultation_id: int) -> None:
    """Coalesce: the first change in a 250 ms window schedules one tally frame."""
    if store().claim_flush(consultation_id):
        timer = threading.Timer(COALESCE_SECONDS, _flush, args=(consultation_id,))
        timer.daemon = True
        _timers.add(timer)
        timer.start()


def wait_for_pending_tallies(timeout: float = 2.0) -> None:
    """Let scheduled tally frames go out (process shutdown, end of a test)."""
    for timer in list(_timers):
        timer.join(timeout)


def _flush(consultation_id: int) -> None:
    from django.db import connection

    try:
        # Release before reading: a change committed after this point schedules the
        # next frame; one committed before it is in the counts read below.
        store().release_flush(consultation_id)
        publish_tally(consultation_id)
    except Unavailable:
        pass
    except Exception:
        logger.exception("tally flush for consultation %s failed", consultation_id)
    finally:
        connection.close()  # this timer thread ends here: do not leave its connection open
        _timers.difference_update(
            {t for t in _timers if not t.is_alive() or t is threading.current_thread()}
        )


# --- after-commit hooks called by the domain -------------------------------------------


def after_commit(function, *args) -> None:
    """Queue ``function(*args)`` for after the commit; never let it fail the write."""
    transaction.on_commit(partial(_guarded, function, *args), robust=True)


def _guarded(function, *args):
    try:
        function(*args)
    except Unavailable:
        pass  # counted in the database; the counters are rebuilt when Redis returns
    except Exception:
        logger.exception("live update %s failed (the write itself stands)", function.__name__)


def _still_takes_part(consultation_id: int, user_id: int) -> bool:
    return (
        Vote.objects.filter(item__consultation_id=consultation_id, user_id=user_id).exists()
        or Grade.objects.filter(item__consultation_id=consultation_id, user_id=user_id).exists()
        or Ballot.objects.filter(consultation_id=consultation_id, user_id=user_id).exists()
        or Comment.objects.filter(item__consultation_id=consultation_id, author_id=user_id).exists()
    )


def _changed(cid, user_id, deltas, *, removed: bool):
    remove = user_id if removed and not _still_takes_part(cid, user_id) else None
    store().apply(cid, deltas, add=None if removed else user_id, remove=remove)
    request_tally(cid)


def choice_changed(kind: str, cid: int, item_id: int, user_id: int, old, new) -> None:
    """A vote ("v") or grade ("g") went from ``old`` to ``new`` (None: absent)."""
    total = "votes" if kind == "v" else "grades"
    deltas = defaultdict(int)
    if old is not None:
        deltas[f"{kind}:{item_id}:{old}"] -= 1
        deltas[total] -= 1
    if new is not None:
        deltas[f"{kind}:{item_id}:{new}"] += 1
        deltas[total] += 1
    _changed(cid, user_id, deltas, removed=new is None)


def ballot_changed(cid: int, user_id: int, old: list[int] | None, new: list[int] | None) -> None:
    deltas = defaultdict(int)
    for rank, item_id in enumerate(old or [], start=1):
        deltas[f"r:{item_id}:{rank}"] -= 1
    for rank, item_id in enumerate(new or [], start=1):
        deltas[f"r:{item_id}:{rank}"] += 1
    deltas["ballots"] += (new is not None) - (old is not None)
    _changed(cid, user_id, deltas, removed=new is None)
    pairwise_changed(cid, old, new)


def _comment_payload(comment: Comment) -> dict:
    return {
        "id": comment.pk,
        "item": comment.item_id,
        "parent": comment.parent_id,
        "stance": comment.stance,
        "author": comment.author.display_name if comment.author else None,
        "body": comment.body,
        "created_at": comment.created_at.isoformat(),
        "edited_at": comment.edited_at.isoformat() if comment.edited_at else None,
    }


def _moderation_frame(comment: Comment, event: str) -> dict:
    payload = {**_comment_payload(comment), "event": event, "url": comment.item.get_absolute_url()}
    return {"type": "moderation.comment", "stream": "moderation", "comment": payload}


def comment_posted(comment_id: int) -> None:
    comment = Comment.objects.select_related("author", "item__consultation").get(pk=comment_id)
    cid = comment.item.consultation_id
    store().apply(cid, {f"c:{comment.item_id}": 1, "comments": 1}, add=comment.author_id)
    frame = {"type": "comment.posted", "stream": "public", "comment": _comment_payload(comment)}
    broadcast.publish(topic(cid), frame)
    broadcast.publish(moderation_topic(cid), _moderation_frame(comment, "posted"))
    request_tally(cid)


def comment_edited(comment_id: int) -> None:
    comment = Comment.objects.select_related("author", "item__consultation").get(pk=comment_id)
    cid = comment.item.consultation_id
    frame = {"type": "comment.edited", "stream": "public", "comment": _comment_payload(comment)}
    broadcast.publish(topic(cid), frame)
    broadcast.publish(moderation_topic(cid), _moderation_frame(comment, "edited"))


def comment_hidden(comment_id: int, reason: str) -> None:
    comment = Comment.objects.select_related("item").get(pk=comment_id)
    cid = comment.item.consultation_id
    store().apply(cid, {f"c:{comment.item_id}": -1, "comments": -1})
    frame = {
        "type": "comment.hidden",
        "stream": "public",
        "comment": {"id": comment.pk, "item": comment.item_id, "reason": reason},
    }
    broadcast.publish(topic(cid), frame)
    request_tally(cid)


def status_changed(consultation_id: int) -> None:
    consultation = Consultation.objects.get(pk=consultation_id)
    frame = {
        "type": "consultation.status",
        "stream": "public",
        "status": consultation.status,
        "closes_at": consultation.closes_at.isoformat() if consultation.closes_at else None,
        "results_visible": permissions.results_are_public(consultation),
    }
    broadcast.publish(topic(consultation_id), frame)
    # Closing may reveal results that were hidden during the vote.
    publish_tally(consultation_id)


# --- live pairwise matrix (ranking ballots) -----------------------------------------------
# d[a][b] = ballots ranking item a above item b (a ranked item is above every unranked one),
# kept up to date as ballots change so that provisional Schulze and Copeland results cost
# one read (consultation.results). Same rules as the counters above: a derived view,
# changed after commit and only once built, rebuilt from the database by ``rebuild`` and
# checked by ``reconcile``. It never travels in a websocket frame.
#
# The stores keep d factored, so that a ballot of k items changes k + k(k-1)/2 cells
# whatever the number of items (ballot_changed runs once per ballot): "a" counts the
# ballots ranking a, "a:b" those ranking both, a above b. Then d[a][b] = "a" - "b:a": a
# ballot ranking a puts it above b, unless it ranks b before a.


@dataclass(frozen=True)
class LiveMatrix:
    candidates: tuple[int, ...]  # item ids, display order
    matrix: np.ndarray  # (m, m) int64, indexed like ``candidates``
    ranked: np.ndarray  # (m,) int64: ballots ranking each candidate


def _ballot_changes(old: list[int] | None, new: list[int] | None) -> dict[tuple, int]:
    """The stored cells that change when ballot ``old`` becomes ``new`` (None: absent):
    ``(a,)`` for "a", ``(a, b)`` for "a:b"."""
    deltas: dict[tuple, int] = defaultdict(int)
    for ballot, sign in ((old, -1), (new, 1)):
        for rank, above in enumerate(ballot or ()):
            deltas[above,] += sign
            for below in ballot[rank + 1 :]:
                deltas[above, below] += sign
    return {cell: n for cell, n in deltas.items() if n}


def _factor(live_matrix: LiveMatrix) -> tuple[np.ndarray, np.ndarray]:
    """``(ranked, both)`` with both[a, b] the ballots ranking both, a above b."""
    both = live_matrix.ranked[np.newaxis, :] - live_matrix.matrix.T
    np.fill_diagonal(both, 0)
    return live_matrix.ranked.copy(), both


def _unfactor(candidates: tuple[int, ...], ranked: np.ndarray, both: np.ndarray) -> LiveMatrix:
    matrix = ranked[:, np.newaxis] - both.T
    np.fill_diagonal(matrix, 0)
    return LiveMatrix(candidates, matrix, ranked.copy())


class PairwiseMemoryStore:
    def __init__(self):
        self.lock = threading.Lock()
        # cid -> (candidates, index of each item id, ranked, both)
        self.built: dict[int, tuple[tuple[int, ...], dict[int, int], np.ndarray, np.ndarray]] = {}

    def apply(self, cid, old, new):
        changes = _ballot_changes(old, new)
        with self.lock:
            found = self.built.get(cid)
            if found is None:
                return  # not built: the next read rebuilds from the database
            _candidates, index, ranked, both = found
            for cell, n in changes.items():
                if all(item in index for item in cell):
                    if len(cell) == 1:
                        ranked[index[cell[0]]] += n
                    else:
                        both[index[cell[0]], index[cell[1]]] += n

    def read(self, cid):
        with self.lock:
            found = self.built.get(cid)
            return None if found is None else _unfactor(found[0], found[2], found[3])

    def replace(self, cid, live_matrix):
        candidates = live_matrix.candidates
        index = {item: i for i, item in enumerate(candidates)}
        with self.lock:
            self.built[cid] = (candidates, index, *_factor(live_matrix))


class PairwiseRedisStore:
    """A hash per consultation: the non-zero cells ("a", "a:b"), plus the item ids."""

    CANDIDATES = "_candidates"

    def _key(self, cid):
        return f"agora:live:{cid}:pairs"

    def apply(self, cid, old, new):
        key, changes = self._key(cid), _ballot_changes(old, new)

        def work(client):
            if not client.hexists(key, self.CANDIDATES):
                return  # not built: the next read rebuilds from the database
            pipe = client.pipeline(transaction=True)
            for cell, n in changes.items():
                pipe.hincrby(key, ":".join(map(str, cell)), n)
            pipe.execute()

        if changes:
            RedisStore()._run(work)

    def read(self, cid):
        raw = RedisStore()._run(lambda client: client.hgetall(self._key(cid)))
        names = raw.pop(self.CANDIDATES.encode(), None) if raw else None
        if names is None:
            return None
        candidates = tuple(int(i) for i in names.decode().split(","))
        index = {item: i for i, item in enumerate(candidates)}
        ranked = np.zeros(len(candidates), dtype=np.int64)
        both = np.zeros((len(candidates), len(candidates)), dtype=np.int64)
        for field, value in raw.items():
            cell = [index.get(int(item)) for item in field.decode().split(":")]
            if None in cell:
                continue
            if len(cell) == 1:
                ranked[cell[0]] = int(value)
            else:
                both[cell[0], cell[1]] = int(value)
        return _unfactor(candidates, ranked, both)

    def replace(self, cid, live_matrix):
        key, c = self._key(cid), live_matrix.candidates
        ranked, both = _factor(live_matrix)
        cells = {str(c[i]): int(ranked[i]) for i in np.flatnonzero(ranked)}
        cells.update(
            {f"{c[i]}:{c[j]}": int(both[i, j]) for i, j in zip(*np.nonzero(both), strict=True)}
        )

        def work(client):
            pipe = client.pipeline(transaction=True)
            pipe.delete(key)
            pipe.hset(key, mapping={**cells, self.CANDIDATES: ",".join(map(str, c))})
            pipe.execute()

        RedisStore()._run(work)


_pairwise_memory = PairwiseMemoryStore()


def pairwise_store():
    return PairwiseRedisStore() if broadcast.uses_redis() else _pairwise_memory


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


def pairwise_changed(cid: int, old: list[int] | None, new: list[int] | None) -> None:
    """A ranking ballot went from ``old`` to ``new`` (item ids, best first; None: absent)."""
    pairwise_store().apply(cid, old, new)


# --- websocket providers ----------------------------------------------------------------


def _consultation_from_topic(name: str) -> Consultation:
    return Consultation.objects.get(pk=int(name.split(":", 1)[1]))


# A consultation its visitor may not see (a draft) is answered as one that does not
# exist, as the pages answer 404 for both: a different close code would tell that a
# draft of that address exists.


def _resolve_public(user, slug: str) -> Access:
    consultation = Consultation.objects.filter(slug=slug).first()
    if consultation is None or not permissions.can_view(user, consultation):
        return Access(None, NOT_FOUND)
    return Access(topic(consultation.pk))


def _resolve_moderation(user, slug: str) -> Access:
    consultation = Consultation.objects.filter(slug=slug).first()
    if consultation is None:
        return Access(None, NOT_FOUND)
    if permissions.can_moderate(user, consultation):
        return Access(moderation_topic(consultation.pk))
    if not permissions.can_view(user, consultation):
        return Access(None, NOT_FOUND)
    return Access(None, NOT_ALLOWED)


def _moderation_snapshot(name: str) -> dict:
    consultation = _consultation_from_topic(name)
    seq = broadcast.current_seq(name)
    latest = (
        Comment.objects.filter(item__consultation=consultation, deleted_at__isnull=True)
        .select_related("author", "item__consultation")
        .order_by("-created_at")[:20]
    )
    return {
        "type": "moderation.snapshot",
        "stream": "moderation",
        "seq": seq,
        "queue": [_moderation_frame(c, "posted")["comment"] for c in latest],
        "at": timezone.now().isoformat(),
    }


RESYNC_SETTLE_SECONDS = 2.0


def _resync(name: str) -> None:
    """After an outage: rebuild from the database now, and check again shortly.

    Changes committed while the rebuild reads the database can be overwritten by
    it; the second look, a moment later, repairs them (and says so in the log).
    """
    consultation = _consultation_from_topic(name)
    rebuild(consultation)
    timer = threading.Timer(RESYNC_SETTLE_SECONDS, _settle, args=(consultation.pk,))
    timer.daemon = True
    _timers.add(timer)
    timer.start()


def _settle(consultation_id: int) -> None:
    from django.db import connection

    try:
        consultation = Consultation.objects.filter(pk=consultation_id).first()
        if consultation is not None:
            reconcile(consultation)
    except Exception:
        logger.exception("settling the counters of consultation %s failed", consultation_id)
    finally:
        connection.close()
        _timers.discard(threading.current_thread())


def register_providers() -> None:
    register(
        "consultation",
        Provider(
            resolve=_resolve_public,
            snapshot=lambda name: snapshot_frame(_consultation_from_topic(name)),
            resync=_resync,
        ),
    )
    register("moderation", Provider(resolve=_resolve_moderation, snapshot=_moderation_snapshot))
