"""Open-data files of a consultation: streaming writers, readers, hashes and manifest.

The site's exporter and the ``recount`` CLI share this module, so what the site publishes is
exactly what the CLI reads. Writers stream: a million ballots are written as they are
iterated, never built as one list or one string. Output is byte-for-byte deterministic
(UTF-8, ``\\n`` line endings, fixed key order): re-exporting gives the same SHA-256.

Open text files for the writers with ``open(path, "w", encoding="utf-8", newline="")``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

from consultation.counting import safe_csv
from consultation.counting.majority_judgment import labels
from consultation.counting.profiles import (
    CHOICES,
    MAX_RANKING_SIZE,
    SCALES,
    GradeProfile,
    Profile,
    RankingProfile,
    VoteProfile,
)
from consultation.counting.result import JSON_OPTIONS, Result

RANKINGS_FORMAT = "agora-rankings/1"
GRADES_FORMAT = "agora-grades/1"
VOTES_FORMAT = "agora-votes/1"
MANIFEST_FORMAT = "agora-manifest/1"
RESULTS_FORMAT = "agora-results/1"
ITEM_FIELDS = ("item", "position", "theme", "title", "title_en")
KINDS = {RANKINGS_FORMAT: "ranking", GRADES_FORMAT: "grades", VOTES_FORMAT: "votes"}


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _csv_writer(fp: IO[str]) -> safe_csv.Writer:
    # Every cell goes through the spreadsheet-formula rule of safe_csv (docs/open-data.md).
    return safe_csv.writer(fp)


class _JsonBallots:
    """Writes ``{header..., "ballots": [`` then one ballot per line, then ``]}``."""

    def __init__(self, fp: IO[str] | None, header: dict[str, Any]) -> None:
        self.fp, self.first = fp, True
        if fp is not None:
            fp.write(_dumps(header)[:-1] + ', "ballots": [\n')

    def write(self, ballot: dict[str, Any]) -> None:
        if self.fp is not None:
            self.fp.write(("" if self.first else ",\n") + _dumps(ballot))
            self.first = False

    def close(self) -> None:
        if self.fp is not None:
            self.fp.write(("" if self.first else "\n") + "]}\n")


# ------------------------------------------------------------------------------ writers


def write_items(
    csv_fp: IO[str] | None, json_fp: IO[str] | None, items: Iterable[Mapping[str, Any]]
) -> None:
    """``items.csv`` / ``items.json``: one row per item, in display order."""
    rows = [{field: item.get(field, "") for field in ITEM_FIELDS} for item in items]
    if csv_fp is not None:
        writer = _csv_writer(csv_fp)
        writer.writerow(ITEM_FIELDS)
        writer.writerows([["" if r[f] is None else r[f] for f in ITEM_FIELDS] for r in rows])
    if json_fp is not None:
        json_fp.write(json.dumps({"items": rows}, **JSON_OPTIONS) + "\n")


def write_rankings(
    csv_fp: IO[str] | None,
    json_fp: IO[str] | None,
    *,
    consultation: str,
    ranking_size: int,
    items: Sequence[int],
    ballots: Iterable[tuple[str, Sequence[int]]],
) -> int:
    """``rankings.csv`` and/or ``rankings.json`` from ``(ballot_id, [item ids best first])``.

    Returns the number of ballots written. Refuses what a profile would refuse.
    """
    known = set(items)
    header = {
        "format": RANKINGS_FORMAT,
        "consultation": consultation,
        "ranking_size": ranking_size,
        "items": list(items),
    }
    out = _JsonBallots(json_fp, header)
    writer = _csv_writer(csv_fp) if csv_fp is not None else None
    if writer:
        writer.writerow(["ballot", *(f"rank_{r}" for r in range(1, ranking_size + 1))])
    count = 0
    for ballot_id, ranking in ballots:
        ranking = [int(i) for i in ranking]
        _check_ranking(ballot_id, ranking, known, ranking_size)
        if writer:
            writer.writerow([ballot_id, *ranking, *[""] * (ranking_size - len(ranking))])
        out.write({"ballot": ballot_id, "ranking": ranking})
        count += 1
    out.close()
    return count


def _check_ranking(ballot_id: str, ranking: list[int], known: set[int], size: int) -> None:
    if not ranking or len(ranking) > size or len(set(ranking)) != len(ranking):
        raise ValueError(f"ballot {ballot_id}: invalid ranking {ranking}")
    if not known.issuperset(ranking):
        raise ValueError(f"ballot {ballot_id}: unknown item in {ranking}")


def write_grades(
    csv_fp: IO[str] | None,
    json_fp: IO[str] | None,
    *,
    consultation: str,
    scale: int,
    items: Sequence[int],
    ballots: Iterable[tuple[str, Mapping[int, int]]],
) -> int:
    """``grades.csv`` (long: ballot,item,grade) and/or ``grades.json`` from
    ``(ballot_id, {item_id: grade})``; items within a ballot in display order."""

    def grade(ballot_id: str, value: Any) -> int:
        if not 0 <= int(value) < scale:
            raise ValueError(f"ballot {ballot_id}: grade {value} outside 0..{scale - 1}")
        return int(value)

    header = {
        "format": GRADES_FORMAT,
        "consultation": consultation,
        "scale": scale,
        "labels": labels(scale, "fr"),
        "items": list(items),
    }
    return _write_per_item(csv_fp, json_fp, header, "grade", "grades", ballots, grade)


def write_votes(
    csv_fp: IO[str] | None,
    json_fp: IO[str] | None,
    *,
    consultation: str,
    items: Sequence[int],
    ballots: Iterable[tuple[str, Mapping[int, str]]],
) -> int:
    """``votes.csv`` (ballot,item,choice) and/or ``votes.json`` from
    ``(ballot_id, {item_id: "for" | "against" | "abstain"})``."""

    def choice(ballot_id: str, value: Any) -> str:
        if value not in CHOICES:
            raise ValueError(f"ballot {ballot_id}: vote {value!r} is not one of {CHOICES}")
        return str(value)

    header = {"format": VOTES_FORMAT, "consultation": consultation, "items": list(items)}
    return _write_per_item(csv_fp, json_fp, header, "choice", "votes", ballots, choice)


def _write_per_item(
    csv_fp: IO[str] | None,
    json_fp: IO[str] | None,
    header: dict[str, Any],
    column: str,
    key: str,
    ballots: Iterable[tuple[str, Mapping[int, Any]]],
    check: Callable[[str, Any], Any],
) -> int:
    """One CSV row per (ballot, item) and one JSON ballot per citizen, streamed."""
    position = {item: p for p, item in enumerate(header["items"])}
    out = _JsonBallots(json_fp, header)
    writer = _csv_writer(csv_fp) if csv_fp is not None else None
    if writer:
        writer.writerow(["ballot", "item", column])
    count = 0
    for ballot_id, answers in ballots:
        pairs = _ordered(ballot_id, answers, position)
        ordered = [(item, check(ballot_id, value)) for item, value in pairs]
        if writer:
            writer.writerows([ballot_id, item, value] for item, value in ordered)
        out.write({"ballot": ballot_id, key: {str(item): value for item, value in ordered}})
        count += 1
    out.close()
    return count


def _ordered(
    ballot_id: str, values: Mapping[int, Any], position: dict[int, int]
) -> list[tuple[int, Any]]:
    try:
        return sorted(((int(i), v) for i, v in values.items()), key=lambda iv: position[iv[0]])
    except KeyError as missing:
        raise ValueError(f"ballot {ballot_id}: unknown item {missing.args[0]}") from None


# ------------------------------------------------------------------- hashes, manifest


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fp:
        for block in iter(lambda: fp.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build_manifest(directory: str | Path, names: Iterable[str]) -> dict[str, Any]:
    """``{"format": "agora-manifest/1", "files": [{"name", "bytes", "sha256"}]}``."""
    directory = Path(directory)
    files = [
        {
            "name": name,
            "bytes": (directory / name).stat().st_size,
            "sha256": sha256_file(directory / name),
        }
        for name in names
    ]
    return {"format": MANIFEST_FORMAT, "files": files}


def build_results(results: Iterable[Result], computed_from: Mapping[str, str]) -> dict[str, Any]:
    """The published ``results.json``: every method's ``to_dict()`` and the input hashes."""
    return {
        "format": RESULTS_FORMAT,
        "methods": {r.method: r.to_dict() for r in results},
        "computed_from": dict(computed_from),
    }


def dump_json(value: Any, fp: IO[str]) -> None:
    """Deterministic JSON document (manifest, results): UTF-8, indent 2, final newline."""
    fp.write(json.dumps(value, **JSON_OPTIONS) + "\n")


# ------------------------------------------------------------------------------ readers


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
