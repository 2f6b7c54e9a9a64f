"""Every ranking ballot of a consultation as one array, for counting in the site
(instant-runoff in the provisional results): read at the speed of the database.

On PostgreSQL the entries come as one binary ``COPY`` and are decoded by numpy, a row
being a fixed 34 bytes (the columns are cast to fixed widths); at a million ballots this
is a few seconds where a row-by-row read took a minute (docs/performance.md, "Background
work at a million ballots"). Elsewhere (SQLite, the embedded default) the ballots are
streamed as ``opendata.rankings`` gives them.
"""

from collections.abc import Iterator, Sequence

import numpy as np
from django.db import connection

from consultation.counting import RankingProfile
from consultation.counting.profiles import ballot_dtype
from consultation.models import Consultation
from consultation.results import opendata

# One row of ``COPY ... (FORMAT binary)`` with the casts below: the field count, then each
# field's length and value (ballot int8, item int8, rank int4).
ROW = np.dtype(
    [
        ("fields", ">i2"),
        ("ballot_length", ">i4"),
        ("ballot", ">i8"),
        ("item_length", ">i4"),
        ("item", ">i8"),
        ("rank_length", ">i4"),
        ("rank", ">i4"),
    ]
)
HEADER = 19  # signature (11), flags (4), header extension length (4, zero)
BATCH_BYTES = 4 << 20
COPY_SQL = (
    "COPY (SELECT e.ballot_id::int8, e.item_id::int8, e.rank::int4 "
    "FROM consultation_ballotentry e JOIN consultation_ballot b ON b.id = e.ballot_id "
    "WHERE b.consultation_id = {} AND e.rank <= {}) TO STDOUT (FORMAT binary)"
)


def ranking_profile(consultation: Consultation, candidates: Sequence[int]) -> RankingProfile:
    """Every ballot's ranking over ``candidates`` (item ids, display order)."""
    k = consultation.ranking_size
    if connection.vendor != "postgresql":
        return RankingProfile.from_rankings(candidates, opendata.rankings(consultation), k)
    ballots, items, ranks = _entries(consultation, k)
    order = np.lexsort((ranks, ballots))  # by ballot, then rank: as the database would
    ballots, items, ranks = ballots[order], items[order], ranks[order]
    ids = np.asarray(candidates, dtype=np.int64)
    by_id = np.argsort(ids)
    where = by_id[np.searchsorted(ids, items, sorter=by_id)]
    if len(items) and not np.array_equal(ids[where], items):
        raise ValueError("a ballot ranks an item that is not one of the candidates")
    _ids, row = np.unique(ballots, return_inverse=True)
    array = np.full((len(_ids), k), -1, dtype=ballot_dtype(len(ids)))
    array[row, ranks - 1] = where
    return RankingProfile(tuple(candidates), array)


def _entries(consultation: Consultation, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ballots, items, ranks = [], [], []
    for rows in _copied_rows(COPY_SQL.format(int(consultation.pk), int(k))):
        ballots.append(rows["ballot"].astype(np.int64))
        items.append(rows["item"].astype(np.int64))
        ranks.append(rows["rank"].astype(np.int64))
    if not ballots:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(ballots), np.concatenate(items), np.concatenate(ranks)


def _copied_rows(sql: str) -> Iterator[np.ndarray]:
    """The rows of a binary COPY, decoded a few MiB at a time (psycopg hands the data over
    row by row: numpy decodes the batch in one call)."""
    connection.ensure_connection()
    buffer = bytearray()
    skip = HEADER
    with connection.connection.cursor() as cursor, cursor.copy(sql) as copy:
        for block in copy:
            buffer += block
            if len(buffer) >= BATCH_BYTES:
                rows, skip = _decoded(buffer, skip)
                yield rows
        rows, skip = _decoded(buffer, skip)
        yield rows
    if bytes(buffer) not in (b"", b"\xff\xff"):  # what is left: the two-byte trailer
        raise ValueError("an unexpected end of the ballots' COPY")


def _decoded(buffer: bytearray, skip: int) -> tuple[np.ndarray, int]:
    """The whole rows at the start of ``buffer`` (after ``skip`` header bytes), removed
    from it; and what is left of the header to skip."""
    if skip:
        if len(buffer) < skip:
            return np.empty(0, dtype=ROW), skip
        del buffer[:skip]
    whole = len(buffer) // ROW.itemsize * ROW.itemsize
    rows = np.frombuffer(bytes(buffer[:whole]), dtype=ROW)
    del buffer[:whole]
    if not (rows["fields"] == 3).all() or not (rows["rank_length"] == 4).all():
        raise ValueError("the ballots' COPY is not in the expected shape")
    return rows, 0
