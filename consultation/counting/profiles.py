"""The three kinds of input a counting method takes, as plain numpy arrays.

A profile knows its candidates (item ids, in the consultation's display order) and the
aggregated or raw ballots. Nothing here knows about Django or the database: the site builds
profiles from its rows, the CLI from open-data files, and both get the same numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import islice
from typing import Any

import numpy as np

from consultation.counting.pairwise import PAIRWISE_CHUNK, pairwise_matrix

# Ballots are read in chunks of this many rows: a generator over a million rows is never
# turned into one Python list.
CHUNK = 65_536
CHOICES = ("for", "against", "abstain")
SCALES = (6, 7)
MAX_RANKING_SIZE = 20


def _candidates(candidates: Iterable[int]) -> tuple[int, ...]:
    ids = tuple(int(c) for c in candidates)
    if not ids:
        raise ValueError("a profile needs at least one candidate")
    if len(set(ids)) != len(ids):
        raise ValueError("candidate ids must be unique")
    return ids


def _frozen(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


def ballot_dtype(m: int) -> np.dtype:
    """The smallest signed integer type that holds every candidate index and -1."""
    return np.dtype(np.int8) if m <= 127 else np.dtype(np.int16)


def _chunks(rows: Iterable[Any]) -> Iterable[list[Any]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, CHUNK)):
        yield chunk


# --------------------------------------------------------------------------- rankings


@dataclass(frozen=True, eq=False)
class RankingProfile:
    """Top-K ranking ballots.

    ``ballots`` has shape (n, K): each row holds the candidate *indices* (positions in
    ``candidates``) ranked 1st, 2nd, ..., padded with -1 after the last ranked item.
    """

    candidates: tuple[int, ...]
    ballots: np.ndarray = field(repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "candidates", _candidates(self.candidates))
        ballots = np.array(self.ballots, dtype=ballot_dtype(len(self.candidates)), ndmin=2)
        if ballots.size == 0:
            ballots = ballots.reshape(0, max(ballots.shape[-1], 1))
        _check_ballot_array(ballots, len(self.candidates))
        object.__setattr__(self, "ballots", _frozen(ballots))

    @property
    def n_ballots(self) -> int:
        return int(self.ballots.shape[0])

    @property
    def ranking_size(self) -> int:
        """K: how many items a ballot may rank (the width of ``ballots``)."""
        return int(self.ballots.shape[1])

    def pairwise(self) -> np.ndarray:
        """(m, m) int64: ``d[i, j]`` = ballots ranking i strictly above j (read-only).

        A ranked item is above every unranked item; unranked items are tied with each other.
        """
        return self._pairwise

    @cached_property
    def _pairwise(self) -> np.ndarray:
        return _frozen(pairwise_matrix(self.ballots, len(self.candidates)))

    @classmethod
    def from_rankings(
        cls,
        candidates: Sequence[int],
        rankings: Iterable[Sequence[int]],
        ranking_size: int | None = None,
    ) -> RankingProfile:
        """Build from rankings given as item ids, best first; consumed in chunks.

        Refuses unknown ids, an item ranked twice, empty ballots and ballots longer than
        ``ranking_size`` (when given; otherwise K is the longest ballot).
        """
        ids = _candidates(candidates)
        limit = max(MAX_RANKING_SIZE, len(ids))  # K <= 20 on the site; full rankings here
        if ranking_size is not None and not 1 <= ranking_size <= limit:
            raise ValueError(f"ranking_size must be between 1 and {limit}")
        index = {c: i for i, c in enumerate(ids)}
        limit = ranking_size or limit
        dtype = ballot_dtype(len(ids))
        parts: list[np.ndarray] = []
        seen = 0
        for chunk in _chunks(rankings):
            parts.append(_ranking_chunk(chunk, index, limit, dtype, seen))
            seen += len(chunk)
        width = ranking_size or max((p.shape[1] for p in parts), default=1)
        ballots = np.full((seen, width), -1, dtype=dtype)
        row = 0
        for part in parts:
            ballots[row : row + len(part), : part.shape[1]] = part
            row += len(part)
        return cls(ids, ballots)


def _ranking_chunk(
    chunk: list[Sequence[int]], index: dict[int, int], limit: int, dtype: np.dtype, offset: int
) -> np.ndarray:
    width = max(len(r) for r in chunk)
    out = np.full((len(chunk), min(width, limit)), -1, dtype=dtype)
    for number, ranking in enumerate(chunk, start=offset + 1):
        if not ranking:
            raise ValueError(f"ballot {number}: empty ranking")
        if len(ranking) > limit:
            raise ValueError(f"ballot {number}: ranks {len(ranking)} items, more than {limit}")
        try:
            row = [index[int(item)] for item in ranking]
        except KeyError as missing:
            raise ValueError(f"ballot {number}: unknown item {missing.args[0]}") from None
        if len(set(row)) != len(row):
            raise ValueError(f"ballot {number}: an item is ranked twice")
        out[number - offset - 1, : len(row)] = row
    return out


def _check_ballot_array(ballots: np.ndarray, m: int) -> None:
    if ballots.ndim != 2:
        raise ValueError("ballots must be a 2-D array (n ballots x K ranks)")
    limit = max(MAX_RANKING_SIZE, m)
    if not 1 <= ballots.shape[1] <= limit:
        raise ValueError(f"ranking size must be between 1 and {limit}")
    if ballots.shape[0] == 0:
        return
    if ballots.min() < -1 or ballots.max() >= m:
        raise ValueError("ballots hold a candidate index out of range")
    if (ballots[:, 0] < 0).any():
        raise ValueError("every ballot must rank at least one item")
    # In chunks and in small dtypes: checking must not cost more memory than counting.
    for start in range(0, ballots.shape[0], PAIRWISE_CHUNK):
        chunk = ballots[start : start + PAIRWISE_CHUNK]
        padded = chunk < 0
        if (padded[:, :-1] & ~padded[:, 1:]).any():
            raise ValueError("a ballot has a ranked item after an empty rank")
        if _has_duplicates(chunk, padded, m):
            raise ValueError("a ballot ranks an item twice")


def _has_duplicates(chunk: np.ndarray, padded: np.ndarray, m: int) -> bool:
    if m <= 64:
        # One bit per item: the sum of a row's bits equals their OR iff no bit repeats.
        bits = np.left_shift(np.uint64(1), chunk.astype(np.uint64))
        bits[padded] = 0
        total = bits.sum(axis=1, dtype=np.uint64)
        return bool((total != np.bitwise_or.reduce(bits, axis=1)).any())
    k = chunk.shape[1]
    fillers = np.arange(-1, -1 - k, -1, dtype=chunk.dtype)  # distinct, never an index
    ranked = np.sort(np.where(padded, fillers, chunk), axis=1)
    return bool((ranked[:, 1:] == ranked[:, :-1]).any())


# ----------------------------------------------------------------------------- grades


@dataclass(frozen=True, eq=False)
class GradeProfile:
    """Majority-judgment grades: ``counts[i, g]`` citizens gave grade g to item i.

    Grade 0 is the worst ("À rejeter"), ``scale - 1`` the best. Citizens grade the items they
    choose to, so items may have different numbers of grades. ``n_ballots`` is the number of
    citizens who graded at least one item, when known.
    """

    candidates: tuple[int, ...]
    scale: int
    counts: np.ndarray = field(repr=False)
    n_ballots: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "candidates", _candidates(self.candidates))
        if self.scale not in SCALES:
            raise ValueError(f"unsupported grade scale {self.scale} (expected 6 or 7)")
        counts = np.array(self.counts, dtype=np.int64, ndmin=2)
        if counts.shape != (len(self.candidates), self.scale):
            raise ValueError(f"counts must have shape ({len(self.candidates)}, {self.scale})")
        if (counts < 0).any():
            raise ValueError("grade counts cannot be negative")
        object.__setattr__(self, "counts", _frozen(counts))

    @classmethod
    def from_grades(
        cls,
        candidates: Sequence[int],
        scale: int,
        rows: Iterable[tuple[int, int]],
        n_ballots: int | None = None,
    ) -> GradeProfile:
        """Build from ``(item_id, grade)`` rows, consumed in chunks."""
        ids = _candidates(candidates)
        if scale not in SCALES:
            raise ValueError(f"unsupported grade scale {scale} (expected 6 or 7)")
        index = {c: i for i, c in enumerate(ids)}
        counts = np.zeros(len(ids) * scale, dtype=np.int64)
        for chunk in _chunks(rows):
            codes = [_grade_code(row, index, scale) for row in chunk]
            counts += np.bincount(codes, minlength=len(ids) * scale)
        return cls(ids, scale, counts.reshape(len(ids), scale), n_ballots)

    @classmethod
    def from_array(cls, candidates: Sequence[int], scale: int, grades: np.ndarray) -> GradeProfile:
        """Build from a dense (n ballots, m items) array of grades, -1 where not graded."""
        ids = _candidates(candidates)
        grades = np.asarray(grades)
        if grades.ndim != 2 or grades.shape[1] != len(ids):
            raise ValueError(f"grades must have shape (n, {len(ids)})")
        if grades.size and (grades.min() < -1 or grades.max() >= scale):
            raise ValueError(f"grades must be between 0 and {scale - 1} (or -1: not graded)")
        # One bincount per item over a contiguous copy; read as uint8, "not graded" (-1) is
        # 255 and falls outside the grades, with no arithmetic on the big array.
        columns = np.ascontiguousarray(grades.T, dtype=np.int8).view(np.uint8)
        counts = np.empty((len(ids), scale), dtype=np.int64)
        ungraded = 0
        for j in range(len(ids)):
            bins = np.bincount(columns[j], minlength=256)
            counts[j] = bins[:scale]
            ungraded += int(bins[255])
        graded = grades.shape[0]
        if ungraded:
            graded = int((grades >= 0).any(axis=1).sum())
        return cls(ids, scale, counts, graded)


def _grade_code(row: tuple[int, int], index: dict[int, int], scale: int) -> int:
    item, grade = row
    if int(item) not in index:
        raise ValueError(f"unknown item {item}")
    if not 0 <= int(grade) < scale:
        raise ValueError(f"grade {grade} for item {item} is outside 0..{scale - 1}")
    return index[int(item)] * scale + int(grade)


# ------------------------------------------------------------------------------ votes


@dataclass(frozen=True, eq=False)
class VoteProfile:
    """Per-item votes: ``counts[i]`` = (for, against, abstain) for item i."""

    candidates: tuple[int, ...]
    counts: np.ndarray = field(repr=False)
    n_ballots: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "candidates", _candidates(self.candidates))
        counts = np.array(self.counts, dtype=np.int64, ndmin=2)
        if counts.shape != (len(self.candidates), 3):
            raise ValueError(f"counts must have shape ({len(self.candidates)}, 3)")
        if (counts < 0).any():
            raise ValueError("vote counts cannot be negative")
        object.__setattr__(self, "counts", _frozen(counts))

    @classmethod
    def from_votes(
        cls,
        candidates: Sequence[int],
        rows: Iterable[tuple[int, str]],
        n_ballots: int | None = None,
    ) -> VoteProfile:
        """Build from ``(item_id, "for" | "against" | "abstain")`` rows, consumed in chunks."""
        ids = _candidates(candidates)
        index = {c: i for i, c in enumerate(ids)}
        counts = np.zeros(len(ids) * 3, dtype=np.int64)
        for chunk in _chunks(rows):
            codes = [_vote_code(row, index) for row in chunk]
            counts += np.bincount(codes, minlength=len(ids) * 3)
        return cls(ids, counts.reshape(len(ids), 3), n_ballots)


def _vote_code(row: tuple[int, str], index: dict[int, int]) -> int:
    item, choice = row
    if int(item) not in index:
        raise ValueError(f"unknown item {item}")
    if choice not in CHOICES:
        raise ValueError(f"vote {choice!r} for item {item} is not one of {', '.join(CHOICES)}")
    return index[int(item)] * 3 + CHOICES.index(choice)


Profile = RankingProfile | GradeProfile | VoteProfile
