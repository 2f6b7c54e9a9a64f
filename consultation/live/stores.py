"""Where live counters and the live pairwise matrix are kept: process memory on the
embedded default, one Redis hash (counters) and one Redis key (matrix) per consultation
in the production shape. The keys are spelled here and nowhere else.
"""

import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from realtime import redis as link

BUILT = "_built"


# --- counter stores ---------------------------------------------------------------------


# --- the counters' field names: spelled here, read and written through these ----------
# One flat hash per consultation: "v:<item>:<choice>" votes, "g:<item>:<grade>" grades,
# "r:<item>:<rank>" how often ranked at that rank, "c:<item>" comments, and the totals
# ("votes", "grades", "ballots", "comments") under their own names.
VOTE, GRADE = "v", "g"


def choice_field(kind: str, item_id: int, value: str | int) -> str:
    """A vote's (``VOTE``) or a grade's (``GRADE``) counter for ``item_id``."""
    return f"{kind}:{item_id}:{value}"


def vote_field(item_id: int, choice: str) -> str:
    return choice_field(VOTE, item_id, choice)


def grade_field(item_id: int, grade: int) -> str:
    return choice_field(GRADE, item_id, grade)


def rank_field(item_id: int, rank: int) -> str:
    return f"r:{item_id}:{rank}"


def comments_field(item_id: int) -> str:
    return f"c:{item_id}"


class MemoryStore:
    """The embedded default: one process, counters in memory."""

    shared = False  # a claim dies with its process, and its timer with it

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: dict[int, dict[str, int]] = {}
        self.people: dict[int, set[int]] = defaultdict(set)
        self.pending: set[int] = set()

    def clear(self) -> None:
        with self.lock:
            self.counts.clear()
            self.people.clear()
            self.pending.clear()

    def apply(
        self,
        cid: int,
        deltas: Mapping[str, int],
        add: int | None = None,
        remove: int | None = None,
    ) -> None:
        with self.lock:
            if cid not in self.counts:
                return  # not built yet: the next read rebuilds from the database
            for field, delta in deltas.items():
                self.counts[cid][field] = self.counts[cid].get(field, 0) + delta
            if add:
                self.people[cid].add(add)
            if remove:
                self.people[cid].discard(remove)

    def read(self, cid: int) -> tuple[dict[str, int], int] | None:
        with self.lock:
            if cid not in self.counts:
                return None
            return dict(self.counts[cid]), len(self.people[cid])

    def replace(self, cid: int, counts: Mapping[str, int], people: Iterable[int]) -> None:
        with self.lock:
            self.counts[cid] = dict(counts)
            self.people[cid] = set(people)

    def claim_flush(self, cid: int) -> bool:
        with self.lock:
            if cid in self.pending:
                return False
            self.pending.add(cid)
            return True

    def release_flush(self, cid: int) -> None:
        with self.lock:
            self.pending.discard(cid)


# How long a claim to send a consultation's next tally frame lives in Redis: it matters only
# when its process died, or lost Redis, before sending (consultation.live.events rechecks).
FLUSH_CLAIM_SECONDS = 5.0


class Unavailable(Exception):
    """Redis is down (or cooling down): the live view pauses, the database carries on."""


class RedisStore:
    """With REDIS_URL: counters shared by every process (hash + set per consultation)."""

    # A flush claim may outlive the process that took it (consultation.live.events).
    shared = True

    def _keys(self, cid: int) -> tuple[str, str]:
        return f"agora:live:{cid}:counts", f"agora:live:{cid}:people"

    def _run[T](self, work: Callable[[Any], T]) -> T:
        """``work(client)`` on the shared client; ``Unavailable`` if Redis is down or fails."""
        if not link.redis_ok():
            raise Unavailable
        try:
            return work(link.redis_client())
        except Exception as error:
            link.mark_down(error)
            raise Unavailable from error

    def apply(
        self,
        cid: int,
        deltas: Mapping[str, int],
        add: int | None = None,
        remove: int | None = None,
    ) -> None:
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

    def read(self, cid: int) -> tuple[dict[str, int], int] | None:
        counts, people = self._keys(cid)
        raw, participants = self._run(
            lambda client: client.pipeline(transaction=True).hgetall(counts).scard(people).execute()
        )
        if not raw or BUILT.encode() not in raw:
            return None
        return {k.decode(): int(v) for k, v in raw.items()}, participants

    def replace(self, cid: int, counts_: Mapping[str, int], people_: Iterable[int]) -> None:
        counts, people = self._keys(cid)

        def work(client):
            pipe = client.pipeline(transaction=True)
            pipe.delete(counts, people)
            pipe.hset(counts, mapping={**counts_, BUILT: 1})
            if people_:
                pipe.sadd(people, *people_)
            pipe.execute()

        self._run(work)

    def claim_flush(self, cid: int) -> bool:
        # Whoever sets the flag schedules the flush; others' changes ride along with it.
        # The expiry only matters if that process dies before flushing.
        key = f"agora:live:{cid}:flush"
        ttl = int(FLUSH_CLAIM_SECONDS * 1000)
        return bool(self._run(lambda client: client.set(key, 1, nx=True, px=ttl)))

    def release_flush(self, cid: int) -> None:
        key = f"agora:live:{cid}:flush"
        self._run(lambda client: client.delete(key))


_memory = MemoryStore()


def store() -> RedisStore | MemoryStore:
    return RedisStore() if link.uses_redis() else _memory


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


def _ballot_changes(old: list[int] | None, new: list[int] | None) -> dict[tuple[int, ...], int]:
    """The stored cells that change when ballot ``old`` becomes ``new`` (None: absent):
    ``(a,)`` for "a", ``(a, b)`` for "a:b"."""
    deltas: dict[tuple[int, ...], int] = defaultdict(int)
    for ballot, sign in ((old or [], -1), (new or [], 1)):
        for rank, above in enumerate(ballot):
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
    def __init__(self) -> None:
        self.lock = threading.Lock()
        # cid -> (candidates, index of each item id, ranked, both)
        self.built: dict[int, tuple[tuple[int, ...], dict[int, int], np.ndarray, np.ndarray]] = {}

    def clear(self) -> None:
        with self.lock:
            self.built.clear()

    def apply(self, cid: int, old: list[int] | None, new: list[int] | None) -> None:
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

    def read(self, cid: int) -> LiveMatrix | None:
        with self.lock:
            found = self.built.get(cid)
            return None if found is None else _unfactor(found[0], found[2], found[3])

    def replace(self, cid: int, live_matrix: LiveMatrix) -> None:
        candidates = live_matrix.candidates
        index = {item: i for i, item in enumerate(candidates)}
        with self.lock:
            self.built[cid] = (candidates, index, *_factor(live_matrix))


class PairwiseRedisStore:
    """A hash per consultation: the non-zero cells ("a", "a:b"), plus the item ids."""

    CANDIDATES = "_candidates"

    def _key(self, cid: int) -> str:
        return f"agora:live:{cid}:pairs"

    def apply(self, cid: int, old: list[int] | None, new: list[int] | None) -> None:
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

    def read(self, cid: int) -> LiveMatrix | None:
        raw: dict[bytes, bytes] = RedisStore()._run(lambda client: client.hgetall(self._key(cid)))
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

    def replace(self, cid: int, live_matrix: LiveMatrix) -> None:
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


def pairwise_store() -> PairwiseRedisStore | PairwiseMemoryStore:
    return PairwiseRedisStore() if link.uses_redis() else _pairwise_memory


def reset_for_tests() -> None:
    """Forget every live counter and pairwise matrix, in this process and in Redis.

    For the test suite, between tests: consultation ids come back after a rollback, and
    a counter left by an earlier test would be read as the new consultation's. Nothing
    is lost (the next read rebuilds from the database), but a live site has no use for it.
    """
    _memory.clear()
    _pairwise_memory.clear()
    if link.uses_redis():
        client = link.redis_client()
        keys = list(client.scan_iter("agora:live:*"))
        if keys:
            client.delete(*keys)
