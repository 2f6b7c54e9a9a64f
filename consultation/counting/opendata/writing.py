"""The streaming writers of the open-data files: items, rankings, grades, votes, and the
moderation log, the comments' facts and participation over time published beside them.

A million ballots are written as they are iterated, never built as one list or one string.
Every CSV cell goes through ``safe_csv`` (the spreadsheet-formula rule).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import IO, Any

from consultation.counting import safe_csv
from consultation.counting.majority_judgment import labels
from consultation.counting.opendata.formats import (
    GRADES_FORMAT,
    ITEM_FIELDS,
    MODERATION_LOG_FORMAT,
    RANKINGS_FORMAT,
    VOTES_FORMAT,
)
from consultation.counting.profiles import CHOICES
from consultation.counting.result import JSON_OPTIONS

HOUR = timedelta(hours=1)


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


def write_moderation_log(
    csv_fp: IO[str] | None,
    json_fp: IO[str] | None,
    *,
    consultation: str,
    fields: Sequence[str],
    entries: Iterable[Mapping[str, Any]],
    summary: Mapping[str, Any],
) -> int:
    """``moderation_log.csv`` (one row per decision, ``fields`` as columns, an empty cell
    for none) and/or ``moderation_log.json`` (the same rows and the ``summary``), oldest
    decision first. Returns the number of decisions written."""
    rows = [{field: entry.get(field) for field in fields} for entry in entries]
    if csv_fp is not None:
        writer = _csv_writer(csv_fp)
        writer.writerow(fields)
        writer.writerows([["" if row[f] is None else row[f] for f in fields] for row in rows])
    if json_fp is not None:
        document = {
            "format": MODERATION_LOG_FORMAT,
            "consultation": consultation,
            "fields": list(fields),
            "entries": rows,
            "summary": dict(summary),
        }
        json_fp.write(json.dumps(document, **JSON_OPTIONS) + "\n")
    return len(rows)


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


COMMENT_FIELDS = (
    "comment",
    "item",
    "parent",
    "author",
    "stance",
    "created_at",
    "edited_at",
    "edits",
    "deleted_at",
    "moderation",
    "rule",
    "rule_number",
)
PARTICIPATION_FIELDS = ("kind", "period_start", "period_end", "count")


def write_comments(fp: IO[str], comments: Iterable[Mapping[str, Any]]) -> int:
    """``comments.csv``: one row per comment, ``COMMENT_FIELDS`` as columns (an empty cell
    for none), in the order given. What the site passes holds no text: only ids,
    pseudonyms, dates, counts and states. Returns the number of rows."""
    writer = _csv_writer(fp)
    writer.writerow(COMMENT_FIELDS)
    count = 0
    for comment in comments:
        writer.writerow(["" if comment.get(f) is None else comment[f] for f in COMMENT_FIELDS])
        count += 1
    return count


def participation_periods(
    hours: Iterable[tuple[datetime, int]], minimum: int
) -> list[tuple[datetime, datetime, int]]:
    """``(start, end, count)`` periods from ``(hour, count)`` pairs (any order), none with
    fewer than ``minimum``: an hour below it is merged with the hours after it until the
    period reaches ``minimum``, and a last period still below it joins the one before.
    Fewer than ``minimum`` in all: no period at all (the small-group rule)."""
    periods: list[tuple[datetime, datetime, int]] = []
    start: datetime | None = None
    total = 0
    last = None
    for hour, count in sorted(pair for pair in hours if pair[1] > 0):
        start = hour if start is None else start
        total += count
        last = hour
        if total >= minimum:
            periods.append((start, hour + HOUR, total))
            start, total = None, 0
    if total and periods and last is not None:
        first, _end, count = periods.pop()
        periods.append((first, last + HOUR, count + total))
    return periods


def write_participation(fp: IO[str], periods: Iterable[tuple[str, datetime, datetime, int]]) -> int:
    """``participation.csv``: ``(kind, start, end, count)`` rows, dates in ISO 8601 UTC."""
    writer = _csv_writer(fp)
    writer.writerow(PARTICIPATION_FIELDS)
    count = 0
    for kind, start, end, n in periods:
        writer.writerow([kind, _iso(start), _iso(end), n])
        count += 1
    return count


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")
