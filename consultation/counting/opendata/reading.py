"""The readers of the open-data files: a ballots file (CSV or JSON) back into a profile,
and the items described beside it. They refuse what a profile would refuse."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from consultation.counting import safe_csv
from consultation.counting.opendata.formats import ITEM_FIELDS, KINDS
from consultation.counting.profiles import (
    MAX_RANKING_SIZE,
    SCALES,
    GradeProfile,
    Profile,
    RankingProfile,
    VoteProfile,
)


def load_profile(path: str | Path, *, scale: int | None = None) -> Profile:
    """The profile in a rankings/grades/votes file, CSV or JSON.

    A CSV file takes its candidates from an ``items.csv`` (or ``items.json``) beside it, so
    items nobody ranked are still candidates; without one, from the ballots (ascending ids),
    with a warning on stderr. ``scale`` is needed only for a ``grades.csv`` with no
    ``grades.json`` beside it (default 7, with a warning).
    """
    path = Path(path)
    with open(path, encoding="utf-8", newline="") as fp:
        start = fp.read(1)
    if start == "{":
        return _load_json(path)
    return _load_csv(path, scale)


def _load_json(path: Path) -> Profile:
    header, ballots = _json_ballots(path)
    format_name = header.get("format")
    kind = KINDS.get(format_name) if isinstance(format_name, str) else None
    if kind is None:
        raise ValueError(f"{path.name}: unknown format {header.get('format')!r}")
    items = [int(i) for i in header["items"]]
    if kind == "ranking":
        size = int(header["ranking_size"])
        return RankingProfile.from_rankings(items, (b["ranking"] for b in ballots), size)
    field = "grades" if kind == "grades" else "votes"
    counter = _BallotCounter()
    rows = ((int(i), v) for b in ballots for i, v in counter.see(b["ballot"], b[field]).items())
    if kind == "grades":
        return replace(
            GradeProfile.from_grades(items, int(header["scale"]), rows), n_ballots=counter.n
        )
    return replace(VoteProfile.from_votes(items, rows), n_ballots=counter.n)


class _BallotCounter:
    """Counts distinct ballot ids while their rows stream by."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def see(self, ballot: Any, value: Any) -> Any:
        self.seen.add(str(ballot))
        return value

    @property
    def n(self) -> int:
        return len(self.seen)


def _json_ballots(path: Path) -> tuple[dict[str, Any], Iterator[dict[str, Any]]]:
    """Stream the one-ballot-per-line layout the writers produce; other valid JSON is read
    whole."""
    with open(path, encoding="utf-8") as fp:
        first = fp.readline()
    if first.endswith('"ballots": [\n'):
        header = json.loads(first[: -len(', "ballots": [\n')] + "}")
        return header, _json_lines(path)
    with open(path, encoding="utf-8") as fp:
        document = json.load(fp)
    if not isinstance(document, dict) or not isinstance(document.get("ballots"), list):
        raise ValueError(f"{path.name}: not an Agora open-data file")
    return document, iter(document.pop("ballots"))


def _json_lines(path: Path) -> Iterator[dict[str, Any]]:
    with open(path, encoding="utf-8") as fp:
        fp.readline()
        for number, line in enumerate(fp, start=2):
            text = line.rstrip("\n").removesuffix(",")
            if text == "]}":
                return
            try:
                yield json.loads(text)
            except json.JSONDecodeError:
                raise ValueError(f"{path.name}, line {number}: malformed JSON") from None
    raise ValueError(f"{path.name}: truncated file (no closing ']}}')")


def _load_csv(path: Path, scale: int | None) -> Profile:
    with open(path, encoding="utf-8", newline="") as fp:
        header = next(csv.reader(fp), [])
    if header[:1] != ["ballot"]:
        raise ValueError(f"{path.name}: expected a CSV header starting with 'ballot'")
    items = _items_beside(path)
    if header[1:] == [f"rank_{r}" for r in range(1, len(header))] and len(header) > 1:
        return _rankings_csv(path, items, len(header) - 1)
    if header == ["ballot", "item", "grade"]:
        grade_scale = scale or _scale_beside(path)
        return _per_item_csv(
            path,
            items,
            lambda cell: _int(cell, path, "grade"),
            lambda ids, rows: GradeProfile.from_grades(ids, grade_scale, rows),
        )
    if header == ["ballot", "item", "choice"]:
        return _per_item_csv(path, items, str, VoteProfile.from_votes)
    raise ValueError(f"{path.name}: unknown CSV header {','.join(header)}")


def _csv_rows(path: Path, width: int) -> Iterator[list[str]]:
    with open(path, encoding="utf-8", newline="") as fp:
        reader = csv.reader(fp)
        next(reader)
        for row in reader:
            if len(row) != width:
                raise ValueError(
                    f"{path.name}, line {reader.line_num}: {len(row)} cells, expected {width}"
                )
            yield row


def _int(cell: str, path: Path, what: str) -> int:
    try:
        return int(cell)
    except ValueError:
        raise ValueError(f"{path.name}: {what} {cell!r} is not an integer") from None


def _rankings_csv(path: Path, items: list[int] | None, size: int) -> RankingProfile:
    if size > MAX_RANKING_SIZE:
        raise ValueError(f"{path.name}: more than {MAX_RANKING_SIZE} rank columns")

    def rankings() -> Iterator[list[int]]:
        for row in _csv_rows(path, size + 1):
            yield [_int(cell, path, "item") for cell in row[1:] if cell != ""]

    if items is None:
        items = _warn_items(path, {i for r in rankings() for i in r})
    return RankingProfile.from_rankings(items, rankings(), size)


def _per_item_csv[P: (GradeProfile, VoteProfile)](
    path: Path,
    items: list[int] | None,
    value: Callable[[str], Any],
    build: Callable[[list[int], Iterator[tuple[int, Any]]], P],
) -> P:
    """grades.csv / votes.csv: one (ballot, item, value) row per answer, ``n_ballots`` the
    number of distinct ballot ids."""

    def rows(counter: _BallotCounter) -> Iterator[tuple[int, Any]]:
        for ballot, item, cell in _csv_rows(path, 3):
            counter.see(ballot, None)
            yield _int(item, path, "item"), value(cell)

    if items is None:
        items = _warn_items(path, {i for i, _ in rows(_BallotCounter())})
    counter = _BallotCounter()
    return replace(build(items, rows(counter)), n_ballots=counter.n)


def _warn_items(path: Path, seen: set[int]) -> list[int]:
    print(
        f"warning: no items.csv beside {path.name}: candidates taken from the ballots "
        f"(ascending ids); items nobody chose are missing and display order is unknown",
        file=sys.stderr,
    )
    if not seen:
        raise ValueError(f"{path.name}: no ballots and no items.csv: no candidates")
    return sorted(seen)


def read_items(path: str | Path) -> list[int]:
    """Item ids in display order (``position``, then file order) from items.csv/json."""
    path = Path(path)
    rows = _item_rows(path)
    try:
        keyed = [(int(r["position"] or 0), n, int(r["item"])) for n, r in enumerate(rows)]
    except (KeyError, ValueError, TypeError):
        raise ValueError(f"{path.name}: expected columns {', '.join(ITEM_FIELDS)}") from None
    return [item for _, _, item in sorted(keyed)]


def _item_rows(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8", newline="") as fp:
        if path.suffix == ".json":
            items: list[dict[str, Any]] = json.load(fp)["items"]
            return items
        # Titles come back as they were typed, without the quote the writer put before a
        # would-be formula. Ballot files need no such step: ids, numbers and fixed words.
        return [
            {key: safe_csv.restore(value) for key, value in row.items()}
            for row in csv.DictReader(fp)
        ]


def item_titles(ballots_path: str | Path, lang: str = "fr") -> dict[int, str]:
    """Titles of the items described beside a ballots file ({} when there is none)."""
    for name in ("items.csv", "items.json"):
        path = Path(ballots_path).parent / name
        if path.exists():
            field = "title_en" if lang == "en" else "title"
            rows = _item_rows(path)
            return {int(r["item"]): str(r.get(field) or r.get("title") or r["item"]) for r in rows}
    return {}


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
        except ValueError:  # not JSON, or not ours
            scale = None
        if scale in SCALES:
            return int(scale)
    print(f"warning: grade scale of {path.name} unknown: assuming 7 (use --scale)", file=sys.stderr)
    return 7
