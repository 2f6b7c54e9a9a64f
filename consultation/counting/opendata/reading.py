"""The readers of the open-data files: a ballots file (CSV or JSON) back into a profile,
and the items described beside it.

They refuse what they cannot trust, with the file, the line and the reason
(``FileError``): a ballot id seen twice, the same (ballot, item) twice, a gap in a
ranking, an unknown item, a file with no ballots, text that is not UTF-8. A UTF-8 byte
order mark (as spreadsheets save) is accepted. Nothing here lets a raw Python message out:
every check is ours, so the ``recount`` CLI prints one sentence a citizen understands.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from consultation.counting.opendata.formats import KINDS
from consultation.counting.opendata.items import item_titles, read_items
from consultation.counting.opendata.refusals import (
    ENCODING,
    FileError,
    Where,
    json_value,
    named,
    place,
    whole_number,
)
from consultation.counting.profiles import (
    CHOICES,
    MAX_RANKING_SIZE,
    SCALES,
    GradeProfile,
    Profile,
    RankingProfile,
    VoteProfile,
)

STREAMED_TAIL = ', "ballots": [\n'


def load_profile(path: str | Path, *, scale: int | None = None) -> Profile:
    """The profile in a rankings/grades/votes file, CSV or JSON.

    A CSV file takes its candidates from an ``items.csv`` (or ``items.json``) beside it, so
    items nobody ranked are still candidates; without one, from the ballots (ascending ids),
    with a warning on stderr. ``scale`` is needed only for a ``grades.csv`` with no
    ``grades.json`` beside it (default 7, with a warning). Raises ``FileError``.
    """
    path = Path(path)
    return named(path, lambda: _load_json(path) if is_json(path) else _load_csv(path, scale))


def is_json(path: Path) -> bool:
    """A ``.json`` file, or one whose first character (after spaces) opens a JSON value."""
    if path.suffix.lower() == ".json":
        return True
    with open(path, encoding=ENCODING, newline="") as fp:
        start = fp.read(64).lstrip()
    return start[:1] in ("{", "[")


# --- JSON ---------------------------------------------------------------------------------


class _Seen:
    """Ballot ids already read (duplicates are refused), and for per-item files the items
    each ballot answered, as one bit per item: O(ballots) memory, like the ids themselves."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.ballots: dict[str, int] = {}
        self.bits: dict[int, int] = {}

    def ballot(self, ballot: Any, where: Where) -> str:
        if not isinstance(ballot, str | int) or isinstance(ballot, bool) or ballot == "":
            raise FileError(f"{place(self.path, where)}: the ballot id is missing or not text")
        key = str(ballot)
        if key in self.ballots:
            raise FileError(f"{place(self.path, where)}: ballot {key} appears twice")
        self.ballots[key] = 0
        return key

    def answer(self, ballot: str, item: int, where: Where) -> None:
        """Record that ``ballot`` answered ``item``; refuse a second answer."""
        bit = 1 << self.bits.setdefault(item, len(self.bits))
        mask = self.ballots.get(ballot, 0)
        if mask & bit:
            raise FileError(f"{place(self.path, where)}: ballot {ballot} answers item {item} twice")
        self.ballots[ballot] = mask | bit

    @property
    def n(self) -> int:
        return len(self.ballots)


def _load_json(path: Path) -> Profile:
    header, ballots = _json_ballots(path)
    format_name = header.get("format")
    kind = KINDS.get(format_name) if isinstance(format_name, str) else None
    if kind is None:
        raise FileError(f"{path.name}: not an Agora ballots file (format {format_name!r})")
    items = _id_list(header.get("items"), path, "items")
    seen = _Seen(path)
    if kind == "ranking":
        size = header.get("ranking_size")
        if type(size) is not int or not 1 <= size <= max(MAX_RANKING_SIZE, len(items)):
            raise FileError(f"{path.name}: 'ranking_size' is not a valid number of ranks")
        known = set(items)

        def rankings() -> Iterator[list[int]]:
            for where, ballot in ballots:
                ballot_id = seen.ballot(ballot.get("ballot"), where)
                ranking = ballot.get("ranking")
                if not isinstance(ranking, list) or not all(type(i) is int for i in ranking):
                    raise FileError(f"{place(path, where)}: 'ranking' is not a list of item ids")
                yield _checked_ranking(ranking, known, size, path, where, ballot_id)

        return _not_empty(path, RankingProfile.from_rankings(items, rankings(), size))
    field = "grades" if kind == "grades" else "votes"
    check: Callable[[Any, Where], Any]
    grade_scale = 0
    if kind == "grades":
        scale = header.get("scale")
        if not isinstance(scale, int) or isinstance(scale, bool) or scale not in SCALES:
            raise FileError(f"{path.name}: 'scale' is not one of {', '.join(map(str, SCALES))}")
        grade_scale = scale
        check = _grade_check(path, scale)
    else:
        check = _choice_check(path)

    def rows() -> Iterator[tuple[int, Any]]:
        for where, ballot in ballots:
            ballot_id = seen.ballot(ballot.get("ballot"), where)
            answers = ballot.get(field)
            if not isinstance(answers, dict) or not answers:
                raise FileError(
                    f"{place(path, where)}: '{field}' is not an object of item ids and answers"
                )
            for key, value in answers.items():
                item = whole_number(key, path, where, "item id")
                seen.answer(ballot_id, item, where)
                yield item, check(value, where)

    if kind == "grades":
        grades = GradeProfile.from_grades(items, grade_scale, rows())
        return _not_empty(path, replace(grades, n_ballots=seen.n))
    votes = VoteProfile.from_votes(items, rows())
    return _not_empty(path, replace(votes, n_ballots=seen.n))


def _json_ballots(path: Path) -> tuple[dict[str, Any], Iterator[tuple[Where, dict[str, Any]]]]:
    """The header and the ballots (with where each is: ``line n`` or ``ballot n``).

    The one-ballot-per-line layout the writers produce is streamed; other valid JSON is
    read whole."""
    with open(path, encoding=ENCODING) as fp:
        first = fp.readline()
    if first.endswith(STREAMED_TAIL):
        header = json_value(first[: -len(STREAMED_TAIL)] + "}", path, 1)
        if not isinstance(header, dict):
            raise FileError(f"{path.name}, line 1: not an Agora ballots file")
        return header, _json_lines(path)
    with open(path, encoding=ENCODING) as fp:
        document = json_value(fp.read(), path, None)
    if not isinstance(document, dict) or not isinstance(document.get("ballots"), list):
        raise FileError(
            f"{path.name}: not an Agora ballots file (a JSON object with 'format' and "
            f"'ballots' is expected)"
        )
    ballots = document.pop("ballots")
    return document, (
        (f"ballot {n}", _object(b, path, f"ballot {n}")) for n, b in enumerate(ballots, 1)
    )


def _json_lines(path: Path) -> Iterator[tuple[Where, dict[str, Any]]]:
    with open(path, encoding=ENCODING) as fp:
        fp.readline()
        for number, line in enumerate(fp, start=2):
            text = line.rstrip("\n").removesuffix(",")
            if text == "]}":
                return
            yield number, _object(json_value(text, path, number), path, number)
    raise FileError(f"{path.name}: truncated file (no closing ']}}')")


def _object(value: Any, path: Path, where: Where) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FileError(f"{place(path, where)}: a ballot is not a JSON object")
    return value


def _id_list(value: Any, path: Path, what: str) -> list[int]:
    if not isinstance(value, list) or not value or not all(type(i) is int for i in value):
        raise FileError(f"{path.name}: '{what}' is not a list of item ids")
    if len(set(value)) != len(value):
        raise FileError(f"{path.name}: '{what}' lists an item twice")
    return value


# --- CSV ----------------------------------------------------------------------------------


def _load_csv(path: Path, scale: int | None) -> Profile:
    with open(path, encoding=ENCODING, newline="") as fp:
        header = next(csv.reader(fp), [])
    if header[:1] != ["ballot"]:
        raise FileError(f"{path.name}: expected a CSV header starting with 'ballot'")
    items = _items_beside(path)
    if header[1:] == [f"rank_{r}" for r in range(1, len(header))] and len(header) > 1:
        return _rankings_csv(path, items, len(header) - 1)
    if header == ["ballot", "item", "grade"]:
        grade_scale = scale or _scale_beside(path)
        return _per_item_csv(path, items, _grade_check(path, grade_scale), "grades", grade_scale)
    if header == ["ballot", "item", "choice"]:
        return _per_item_csv(path, items, _choice_check(path), "votes", 0)
    raise FileError(f"{path.name}: unknown CSV header {','.join(header)}")


def _csv_rows(path: Path, width: int) -> Iterator[tuple[int, list[str]]]:
    """Rows after the header, each with its line number."""
    with open(path, encoding=ENCODING, newline="") as fp:
        reader = csv.reader(fp)
        next(reader)
        try:
            for row in reader:
                if len(row) != width:
                    raise FileError(
                        f"{path.name}, line {reader.line_num}: {len(row)} cells, expected {width}"
                    )
                yield reader.line_num, row
        except csv.Error:
            raise FileError(
                f"{path.name}, line {reader.line_num}: malformed CSV (a quote is not closed)"
            ) from None


def _checked_ranking(
    ranking: list[int], known: set[int] | None, size: int, path: Path, where: Where, ballot: str
) -> list[int]:
    ids = set(ranking)
    if (
        ranking
        and len(ranking) <= size
        and len(ids) == len(ranking)
        and (known is None or known >= ids)
    ):
        return ranking  # the usual case, checked at once
    at = place(path, where)
    if not ranking:
        raise FileError(f"{at}: ballot {ballot} ranks no item")
    if len(ranking) > size:
        raise FileError(f"{at}: ballot {ballot} ranks {len(ranking)} items, more than {size}")
    if len(set(ranking)) != len(ranking):
        twice = next(i for i in ranking if ranking.count(i) > 1)
        raise FileError(f"{at}: ballot {ballot} ranks item {twice} twice")
    if known is not None and not known.issuperset(ranking):
        unknown = next(i for i in ranking if i not in known)
        raise FileError(f"{at}: ballot {ballot} ranks unknown item {unknown}")
    return ranking


def _rankings_csv(path: Path, items: list[int] | None, size: int) -> RankingProfile:
    if size > MAX_RANKING_SIZE:
        raise FileError(f"{path.name}: more than {MAX_RANKING_SIZE} rank columns")
    known = set(items) if items is not None else None

    def rankings() -> Iterator[list[int]]:
        # The usual row costs a few C calls; a refusal is worded by the slower checks.
        seen: set[str] = set()
        for line, row in _csv_rows(path, size + 1):
            ballot = row[0]
            if not ballot or ballot in seen:
                _Seen(path).ballot(ballot or None, line)  # the refusal, worded
                raise FileError(f"{path.name}, line {line}: ballot {ballot} appears twice")
            seen.add(ballot)
            cells = row[1:]
            if "" in cells:
                cells = cells[: cells.index("")]
                if any(row[len(cells) + 1 :]):
                    raise FileError(
                        f"{path.name}, line {line}: rank {len(cells) + 1} is empty but a later "
                        "rank is filled"
                    )
            try:
                digits = "".join(cells)
                if not (digits.isdigit() and digits.isascii()):
                    raise ValueError
                ranking = list(map(int, cells))
            except ValueError:  # a cell that is not a number (or too long to be one)
                ranking = [whole_number(cell, path, line, "item") for cell in cells]
            yield _checked_ranking(ranking, known, size, path, line, ballot)

    if items is None:
        items = _warn_items(path, {i for r in rankings() for i in r})
    return _not_empty(path, RankingProfile.from_rankings(items, rankings(), size))


def _per_item_csv(
    path: Path,
    items: list[int] | None,
    check: Callable[[Any, Where], Any],
    kind: str,
    scale: int,
) -> Profile:
    """grades.csv / votes.csv: one (ballot, item, value) row per answer, ``n_ballots`` the
    number of distinct ballot ids."""
    known = set(items) if items is not None else None

    def rows(seen: _Seen) -> Iterator[tuple[int, Any]]:
        for line, (ballot, item_cell, cell) in _csv_rows(path, 3):
            if ballot == "":
                raise FileError(f"{path.name}, line {line}: the ballot id is empty")
            if item_cell.isdigit() and item_cell.isascii() and len(item_cell) < 19:
                item = int(item_cell)
            else:
                item = whole_number(item_cell, path, line, "item")
            if known is not None and item not in known:
                raise FileError(f"{path.name}, line {line}: unknown item {item}")
            seen.answer(ballot, item, line)
            yield item, check(cell, line)

    if items is None:
        items = _warn_items(path, {i for i, _ in rows(_Seen(path))})
    seen = _Seen(path)
    if kind == "grades":
        grades = GradeProfile.from_grades(items, scale, rows(seen))
        return _not_empty(path, replace(grades, n_ballots=seen.n))
    votes = VoteProfile.from_votes(items, rows(seen))
    return _not_empty(path, replace(votes, n_ballots=seen.n))


def _grade_check(path: Path, scale: int) -> Callable[[Any, Where], int]:
    def check(value: Any, where: Where) -> int:
        grade = value if type(value) is int else whole_number(value, path, where, "grade")
        if not 0 <= grade < scale:
            raise FileError(f"{place(path, where)}: grade {grade} is outside 0..{scale - 1}")
        return grade

    return check


def _choice_check(path: Path) -> Callable[[Any, Where], str]:
    def check(value: Any, where: Where) -> str:
        if value not in CHOICES:
            raise FileError(
                f"{place(path, where)}: vote {value!r} is not one of {', '.join(CHOICES)}"
            )
        return str(value)

    return check


def _not_empty[P: (RankingProfile, GradeProfile, VoteProfile)](path: Path, profile: P) -> P:
    if not profile.n_ballots:
        raise FileError(f"{path.name}: no ballots (only a header): nothing to count")
    return profile


def _warn_items(path: Path, seen: set[int]) -> list[int]:
    print(
        f"warning: no items.csv beside {path.name}: candidates taken from the ballots "
        f"(ascending ids); items nobody chose are missing and display order is unknown",
        file=sys.stderr,
    )
    if not seen:
        raise FileError(f"{path.name}: no ballots (only a header) and no items.csv: no candidates")
    return sorted(seen)


def _items_beside(path: Path) -> list[int] | None:
    for name in ("items.csv", "items.json"):
        if (path.parent / name).exists():
            return read_items(path.parent / name)
    return None


def _scale_beside(path: Path) -> int:
    sibling = path.parent / "grades.json"
    if sibling.exists():
        try:
            scale = _json_ballots(sibling)[0].get("scale")
        except (ValueError, UnicodeDecodeError):  # not JSON, or not ours
            scale = None
        if scale in SCALES:
            return int(scale)
    print(f"warning: grade scale of {path.name} unknown: assuming 7 (use --scale)", file=sys.stderr)
    return 7


__all__ = ["FileError", "is_json", "item_titles", "load_profile", "read_items"]
