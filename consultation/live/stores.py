"""Where live counters and the live pairwise matrix are kept: process memory on the
embedded default, one Redis hash (counters) and one Redis key (matrix) per consultation
in the production shape. The keys are spelled here and nowhere else.
"""

import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from realtime import redis as link

# Marks a built counters hash. Its name changed when the ballot ledger came (decision
# 0040): a hash an earlier version built has no ledger, and is rebuilt on first read.
BUILT = "_built_with_ledger"


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


RANK_PREFIX = "r:"


def rank_field(item_id: int, rank: int) -> str:
    return f"{RANK_PREFIX}{item_id}:{rank}"


def comments_field(item_id: int) -> str:
    return f"c:{item_id}"


# A ranking ballot as the live view counted it: its item ids, best first; None: absent.
Ranking = tuple[int, ...]
# The ledger at one instant as each ranking's length and the item ids end to end, with the
# counters and the live matrix of that same instant.
type Snapshot = tuple[np.ndarray, np.ndarray, dict[str, int], "LiveMatrix | None"]


def ballot_deltas(old: Ranking | None, new: Ranking | None) -> dict[str, int]:
    """The counter fields that change when a ballot goes from ``old`` to ``new``."""
    deltas: dict[str, int] = defaultdict(int)
    for ranking, sign in ((old or (), -1), (new or (), 1)):
        for rank, item_id in enumerate(ranking, start=1):
            deltas[rank_field(item_id, rank)] += sign
    deltas["ballots"] += (new is not None) - (old is not None)
    return {field: n for field, n in deltas.items() if n}


def encode(ranking: Ranking | None) -> str:
    return "" if ranking is None else ",".join(map(str, ranking))


def _flat(rankings: list[Ranking]) -> tuple[np.ndarray, np.ndarray]:
    """Each ranking's length, and their item ids end to end."""
    lengths = np.fromiter(map(len, rankings), dtype=np.int64, count=len(rankings))
    items = np.fromiter((i for r in rankings for i in r), dtype=np.int64, count=int(lengths.sum()))
    return lengths, items


def _flat_encoded(values: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """``_flat`` of encoded rankings (a million in about a second)."""
    lengths = np.fromiter((v.count(b",") + 1 for v in values), dtype=np.int64, count=len(values))
    if not values:
        return lengths, np.empty(0, dtype=np.int64)
    return lengths, np.array(b",".join(values).split(b","), dtype=np.int64)


def decode(text: bytes | str | None) -> Ranking | None:
    if not text:
        return None
    text = text.decode() if isinstance(text, bytes) else text
    return tuple(int(i) for i in text.split(","))


class MemoryStore:
    """The embedded default: one process, counters in memory."""

    shared = False  # a claim dies with its process, and its timer with it

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: dict[int, dict[str, int]] = {}
        self.people: dict[int, set[int]] = defaultdict(set)
        self.pending: set[int] = set()
        # cid -> ballot id -> the ranking the counters and the matrix counted (the ledger)
        self.ballots: dict[int, dict[int, Ranking]] = {}
        self.checked: dict[int, float] = {}

    def clear(self) -> None:
        with self.lock:
            self.counts.clear()
            self.people.clear()
            self.pending.clear()
            self.ballots.clear()
            self.checked.clear()

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

    def replace(
        self,
        cid: int,
        counts: Mapping[str, int],
        people: Iterable[int],
        ballots: Mapping[int, Ranking] | None = None,
        matrix: "LiveMatrix | None" = None,
    ) -> None:
        """The counters; given ``ballots``, the ledger and the live matrix (None: none) too,
        all counted from the same ballots."""
        with self.lock, _pairwise_memory.lock:
            self.counts[cid] = dict(counts)
            self.people[cid] = set(people)
            if ballots is not None:
                self.ballots[cid] = dict(ballots)
                _pairwise_memory.replace_locked(cid, matrix)

    def ballot_transition(
        self,
        cid: int,
        ballot_id: int,
        expected: Ranking | None,
        new: Ranking | None,
        add: int | None,
        remove: int | None,
    ) -> int:
        with self.lock, _pairwise_memory.lock:
            if cid not in self.counts or cid not in self.ballots:
                _pairwise_memory.built.pop(cid, None)  # it could not follow: rebuilt on read
                return NOT_BUILT
            ledger = self.ballots[cid]
            if ledger.get(ballot_id) != expected:
                return REFUSED
            if new is None:
                ledger.pop(ballot_id, None)
            else:
                ledger[ballot_id] = new
            for field, delta in ballot_deltas(expected, new).items():
                self.counts[cid][field] = self.counts[cid].get(field, 0) + delta
            if add:
                self.people[cid].add(add)
            if remove:
                self.people[cid].discard(remove)
            _pairwise_memory.apply_locked(cid, expected, new)
            return APPLIED

    def set_fields(self, cid: int, fields: Mapping[str, int], people: set[int] | None) -> None:
        """Set these counter fields (and, given, the participants) to the values given."""
        with self.lock:
            if cid not in self.counts:
                return
            self.counts[cid].update(fields)
            if people is not None:
                self.people[cid] = set(people)

    def counted_ballots(self, cid: int, ids: Iterable[int]) -> dict[int, Ranking | None]:
        with self.lock:
            ledger = self.ballots.get(cid, {})
            return {i: ledger.get(i) for i in ids}

    def counted_ballot_ids(self, cid: int) -> set[int]:
        with self.lock:
            return set(self.ballots.get(cid, {}))

    def counted_encoded(self, cid: int, ids: Iterable[int]) -> dict[int, str | None]:
        """``counted_ballots`` as ``encode`` spells them (None: not counted)."""
        return {
            i: None if r is None else encode(r) for i, r in self.counted_ballots(cid, ids).items()
        }

    def counted_items(self, cid: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Every counted ballot's length, and their item ids end to end (None: not built)."""
        with self.lock:
            if cid not in self.counts or cid not in self.ballots:
                return None
            rankings = list(self.ballots[cid].values())
        return _flat(rankings)

    def counted_ballot_count(self, cid: int) -> int | None:
        with self.lock:
            ledger = self.ballots.get(cid)
            return None if ledger is None else len(ledger)

    def ballots_snapshot(self, cid: int) -> Snapshot | None:
        """The ledger (as ``counted_items`` gives it), the counters and the matrix at one
        instant (None: not built)."""
        with self.lock, _pairwise_memory.lock:
            if cid not in self.counts or cid not in self.ballots:
                return None
            found = _pairwise_memory.built.get(cid)
            matrix = None if found is None else _unfactor(found[0], found[2], found[3])
            rankings = list(self.ballots[cid].values())
            counts = dict(self.counts[cid])
        return (*_flat(rankings), counts, matrix)

    def adjust(
        self, cid: int, deltas: Mapping[str, int], cells: Mapping[tuple[int, ...], int]
    ) -> None:
        """Add ``deltas`` to the counters and ``cells`` to the matrix's stored cells."""
        with self.lock, _pairwise_memory.lock:
            if cid in self.counts:
                for field, delta in deltas.items():
                    self.counts[cid][field] = self.counts[cid].get(field, 0) + delta
            _pairwise_memory.adjust_locked(cid, cells)

    def checked_at(self, cid: int) -> float | None:
        with self.lock:
            return self.checked.get(cid)

    def set_checked(self, cid: int, when: float) -> None:
        with self.lock:
            self.checked[cid] = when

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

    def _ledger(self, cid: int) -> str:
        return f"agora:live:{cid}:ballots"

    def replace(
        self,
        cid: int,
        counts_: Mapping[str, int],
        people_: Iterable[int],
        ballots: Mapping[int, Ranking] | None = None,
        matrix: "LiveMatrix | None" = None,
    ) -> None:
        """The counters; given ``ballots``, the ledger and the live matrix (None: none) too,
        all counted from the same ballots."""
        counts, people = self._keys(cid)
        people_ = list(people_)

        def work(client):
            # One transaction: a ballot's transition sees the counters and the ledger of
            # one and the same count, never one without the other.
            pipe = client.pipeline(transaction=True)
            pipe.delete(counts, people)
            pipe.hset(counts, mapping={**counts_, BUILT: 1})
            for start in range(0, len(people_), LEDGER_CHUNK):
                pipe.sadd(people, *people_[start : start + LEDGER_CHUNK])
            if ballots is not None:
                pipe.delete(self._ledger(cid))
                rows = [(i, encode(r)) for i, r in ballots.items()]
                for start in range(0, len(rows), LEDGER_CHUNK):
                    pipe.hset(self._ledger(cid), mapping=dict(rows[start : start + LEDGER_CHUNK]))
                PairwiseRedisStore().queue_replace(pipe, cid, matrix)
            pipe.execute()

        self._run(work)

    def ballot_transition(
        self,
        cid: int,
        ballot_id: int,
        expected: Ranking | None,
        new: Ranking | None,
        add: int | None,
        remove: int | None,
    ) -> int:
        counts, people = self._keys(cid)
        pairs = PairwiseRedisStore()._key(cid)
        fields = ballot_deltas(expected, new)
        cells = {":".join(map(str, c)): n for c, n in _ballot_changes(expected, new).items()}
        args: list[Any] = [ballot_id, encode(expected), encode(new), add or "", remove or ""]
        args.append(len(fields))
        for name, n in (*fields.items(), *cells.items()):
            args += [name, n]

        def work(client):
            script = _TRANSITION_SCRIPTS.get(id(client))
            if script is None:
                script = _TRANSITION_SCRIPTS[id(client)] = client.register_script(TRANSITION_LUA)
            return int(script(keys=[self._ledger(cid), counts, people, pairs], args=args))

        return self._run(work)

    def set_fields(self, cid: int, fields: Mapping[str, int], people: set[int] | None) -> None:
        counts, people_key = self._keys(cid)
        members = list(people or ())

        def work(client):
            if not client.hexists(counts, BUILT):
                return
            pipe = client.pipeline(transaction=True)
            if fields:
                pipe.hset(counts, mapping=dict(fields))
            if people is not None:
                pipe.delete(people_key)
                for start in range(0, len(members), LEDGER_CHUNK):
                    pipe.sadd(people_key, *members[start : start + LEDGER_CHUNK])
            pipe.execute()

        self._run(work)

    def counted_ballots(self, cid: int, ids: Iterable[int]) -> dict[int, Ranking | None]:
        ids = list(ids)
        if not ids:
            return {}
        found = self._run(lambda client: client.hmget(self._ledger(cid), ids))
        return {i: decode(text) for i, text in zip(ids, found, strict=True)}

    def counted_ballot_ids(self, cid: int) -> set[int]:
        return {int(i) for i in self._run(lambda client: client.hkeys(self._ledger(cid)))}

    def counted_encoded(self, cid: int, ids: Iterable[int]) -> dict[int, str | None]:
        ids = list(ids)
        if not ids:
            return {}
        found = self._run(lambda client: client.hmget(self._ledger(cid), ids))
        return {i: None if t is None else t.decode() for i, t in zip(ids, found, strict=True)}

    def counted_items(self, cid: int) -> tuple[np.ndarray, np.ndarray] | None:
        counts, _people = self._keys(cid)
        built, values = self._run(
            lambda client: (
                client.pipeline(transaction=True)
                .hexists(counts, BUILT)
                .hvals(self._ledger(cid))
                .execute()
            )
        )
        return _flat_encoded(values) if built else None

    def counted_ballot_count(self, cid: int) -> int | None:
        counts, _people = self._keys(cid)
        built, size = self._run(
            lambda client: (
                client.pipeline(transaction=True)
                .hexists(counts, BUILT)
                .hlen(self._ledger(cid))
                .execute()
            )
        )
        return size if built else None

    def ballots_snapshot(self, cid: int) -> Snapshot | None:
        counts, _people = self._keys(cid)
        pairs = PairwiseRedisStore()._key(cid)
        values, raw, raw_pairs = self._run(
            lambda client: (
                client.pipeline(transaction=True)
                .hvals(self._ledger(cid))
                .hgetall(counts)
                .hgetall(pairs)
                .execute()
            )
        )
        if not raw or BUILT.encode() not in raw:
            return None
        return (
            *_flat_encoded(values),
            {k.decode(): int(v) for k, v in raw.items()},
            PairwiseRedisStore.decode(raw_pairs),
        )

    def adjust(
        self, cid: int, deltas: Mapping[str, int], cells: Mapping[tuple[int, ...], int]
    ) -> None:
        counts, _people = self._keys(cid)
        pairs = PairwiseRedisStore()._key(cid)

        def work(client):
            pipe = client.pipeline(transaction=True)
            for field, delta in deltas.items():
                pipe.hincrby(counts, field, delta)
            for cell, delta in cells.items():
                pipe.hincrby(pairs, ":".join(map(str, cell)), delta)
            pipe.execute()

        if deltas or cells:
            self._run(work)

    def checked_at(self, cid: int) -> float | None:
        found = self._run(lambda client: client.get(f"agora:live:{cid}:checked"))
        return None if found is None else float(found)

    def set_checked(self, cid: int, when: float) -> None:
        self._run(lambda client: client.set(f"agora:live:{cid}:checked", repr(when)))

    def claim_flush(self, cid: int) -> bool:
        # Whoever sets the flag schedules the flush; others' changes ride along with it.
        # The expiry only matters if that process dies before flushing.
        key = f"agora:live:{cid}:flush"
        ttl = int(FLUSH_CLAIM_SECONDS * 1000)
        return bool(self._run(lambda client: client.set(key, 1, nx=True, px=ttl)))

    def release_flush(self, cid: int) -> None:
        key = f"agora:live:{cid}:flush"
        self._run(lambda client: client.delete(key))


# A ballot's transition in Redis, atomic: the ledger (ballot -> counted ranking) moves
# from what the caller expects to the new ranking, and the counters, the participants and
# the live matrix move with it; or nothing happens (0) when the ledger holds something
# else, and -1 when the counters are not built (the matrix, which could not follow, is
# dropped: the next read rebuilds everything). ARGV: ballot, expected, new ("" absent),
# participant to add, to remove ("" none), n, then n counter (field, delta) pairs, then
# the matrix's (cell, delta) pairs.
TRANSITION_LUA = """
if redis.call('HEXISTS', KEYS[2], '_built_with_ledger') == 0 then
  redis.call('DEL', KEYS[4])
  return -1
end
local found = redis.call('HGET', KEYS[1], ARGV[1])
if found == false then found = '' end
if found ~= ARGV[2] then return 0 end
if ARGV[3] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
end
local i = 7
for _ = 1, tonumber(ARGV[6]) do
  redis.call('HINCRBY', KEYS[2], ARGV[i], ARGV[i + 1])
  i = i + 2
end
if ARGV[4] ~= '' then redis.call('SADD', KEYS[3], ARGV[4]) end
if ARGV[5] ~= '' then redis.call('SREM', KEYS[3], ARGV[5]) end
if redis.call('HEXISTS', KEYS[4], '_candidates') == 1 then
  while i < #ARGV do
    redis.call('HINCRBY', KEYS[4], ARGV[i], ARGV[i + 1])
    i = i + 2
  end
end
return 1
"""
_TRANSITION_SCRIPTS: dict[int, Any] = {}
APPLIED, REFUSED, NOT_BUILT = 1, 0, -1
LEDGER_CHUNK = 10_000  # fields per HSET when a ledger is written whole

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


def _ballot_changes(
    old: Sequence[int] | None, new: Sequence[int] | None
) -> dict[tuple[int, ...], int]:
    """The stored cells that change when ballot ``old`` becomes ``new`` (None: absent):
    ``(a,)`` for "a", ``(a, b)`` for "a:b"."""
    deltas: dict[tuple[int, ...], int] = defaultdict(int)
    for ballot, sign in ((old or [], -1), (new or [], 1)):
        for rank, above in enumerate(ballot):
            deltas[above,] += sign
            for below in ballot[rank + 1 :]:
                deltas[above, below] += sign
    return {cell: n for cell, n in deltas.items() if n}


def matrix_cells(live_matrix: LiveMatrix) -> dict[tuple[int, ...], int]:
    """The stored (factored) cells of a matrix, by item ids: ``(a,)`` and ``(a, b)``."""
    c = live_matrix.candidates
    ranked, both = _factor(live_matrix)
    cells: dict[tuple[int, ...], int] = {(c[i],): int(ranked[i]) for i in range(len(c))}
    cells.update({(c[i], c[j]): int(both[i, j]) for i in range(len(c)) for j in range(len(c))})
    return cells


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

    def apply(self, cid: int, old: Sequence[int] | None, new: Sequence[int] | None) -> None:
        with self.lock:
            self.apply_locked(cid, old, new)

    def apply_locked(self, cid: int, old: Sequence[int] | None, new: Sequence[int] | None) -> None:
        found = self.built.get(cid)
        if found is None:
            return  # not built: the next read rebuilds from the database
        _candidates, index, ranked, both = found
        for cell, n in _ballot_changes(old, new).items():
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
        with self.lock:
            self.replace_locked(cid, live_matrix)

    def adjust_locked(self, cid: int, cells: Mapping[tuple[int, ...], int]) -> None:
        found = self.built.get(cid)
        if found is None:
            return
        _candidates, index, ranked, both = found
        for cell, n in cells.items():
            if all(item in index for item in cell):
                if len(cell) == 1:
                    ranked[index[cell[0]]] += n
                else:
                    both[index[cell[0]], index[cell[1]]] += n

    def replace_locked(self, cid: int, live_matrix: LiveMatrix | None) -> None:
        if live_matrix is None:
            self.built.pop(cid, None)
            return
        candidates = live_matrix.candidates
        index = {item: i for i, item in enumerate(candidates)}
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
        return self.decode(raw)

    @classmethod
    def decode(cls, raw: dict[bytes, bytes]) -> LiveMatrix | None:
        raw = dict(raw)
        names = raw.pop(cls.CANDIDATES.encode(), None) if raw else None
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
        def work(client):
            pipe = client.pipeline(transaction=True)
            self.queue_replace(pipe, cid, live_matrix)
            pipe.execute()

        RedisStore()._run(work)

    def queue_replace(self, pipe: Any, cid: int, live_matrix: LiveMatrix | None) -> None:
        """Add the replacement (None: removal) to ``pipe``, a transaction."""
        key = self._key(cid)
        pipe.delete(key)
        if live_matrix is None:
            return
        c = live_matrix.candidates
        ranked, both = _factor(live_matrix)
        cells = {str(c[i]): int(ranked[i]) for i in np.flatnonzero(ranked)}
        cells.update(
            {f"{c[i]}:{c[j]}": int(both[i, j]) for i, j in zip(*np.nonzero(both), strict=True)}
        )
        pipe.hset(key, mapping={**cells, self.CANDIDATES: ",".join(map(str, c))})


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
