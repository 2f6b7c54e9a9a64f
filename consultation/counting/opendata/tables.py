"""Frictionless Table Schema descriptors of every CSV file we publish (https://specs.frictionlessdata.io/table-schema/).

``table_schema(name, ...)`` gives the descriptor of one file; the site writes each one as
``<stem>.schema.json`` beside its CSV and points to it from ``datapackage.json``; the
``verify`` command of the CLI reads them back (``check_table``). The schemas follow what
the writers of this package write: change both together.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from consultation.counting.profiles import CHOICES

BALLOT_ID = {"pattern": "^[0-9a-f]{16}$"}
STANCES = ("for", "neutral", "against")
MODERATION_STATES = ("visible", "held", "hidden")
PARTICIPATION_KINDS = ("rankings", "grades", "votes", "comments")
ACTIONS = (
    "hide",
    "restore",
    "dismiss",
    "lock",
    "unlock",
    "warn",
    "suspend",
    "appeal_granted",
    "appeal_rejected",
)


def _field(name: str, kind: str, description: str, **constraints: Any) -> dict[str, Any]:
    field: dict[str, Any] = {"name": name, "type": kind, "description": description}
    if kind == "datetime":
        # ISO 8601 with its offset (``2026-12-01T21:02:59+00:00``): "any" lets readers
        # accept the seconds' fractions the moderation log's dates carry.
        field["format"] = "any"
    if constraints:
        field["constraints"] = constraints
    return field


def _ballot(description: str) -> dict[str, Any]:
    return _field("ballot", "string", description, required=True, **BALLOT_ID)


def _item(description: str = "the item's id (items.csv)", **more: Any) -> dict[str, Any]:
    return _field("item", "integer", description, minimum=1, **more)


def _to_items(field: str = "item") -> dict[str, Any]:
    return {"fields": field, "reference": {"resource": "items", "fields": "item"}}


def table_schema(
    name: str,
    *,
    ranking_size: int | None = None,
    scale: int | None = None,
) -> dict[str, Any]:
    """The Table Schema of the published CSV file ``name`` (``rankings.csv`` needs its
    ``ranking_size``, ``grades.csv`` its ``scale``). Unknown names raise ``KeyError``."""
    if name == "rankings.csv":
        if not ranking_size:
            raise ValueError("rankings.csv's schema needs the ranking size")
        ranks = [
            _field(
                f"rank_{r}",
                "integer",
                f"the item ranked {r}{'st' if r == 1 else 'th'} (items.csv); empty after the "
                "last item this ballot ranks",
                minimum=1,
                **({"required": True} if r == 1 else {}),
            )
            for r in range(1, ranking_size + 1)
        ]
        return {
            "fields": [_ballot("the ballot's public id (16 hex digits)"), *ranks],
            "primaryKey": ["ballot"],
            "missingValues": [""],
        }
    if name == "grades.csv":
        if not scale:
            raise ValueError("grades.csv's schema needs the grade scale")
        return {
            "fields": [
                _ballot("the citizen's public id in this file (16 hex digits)"),
                _item(required=True),
                _field(
                    "grade",
                    "integer",
                    f"majority-judgment grade, 0 (worst) to {scale - 1} (best)",
                    required=True,
                    minimum=0,
                    maximum=scale - 1,
                ),
            ],
            "primaryKey": ["ballot", "item"],
            "foreignKeys": [_to_items()],
            "missingValues": [""],
        }
    if name == "votes.csv":
        return {
            "fields": [
                _ballot("the citizen's public id in this file (16 hex digits)"),
                _item(required=True),
                _field("choice", "string", "the vote", required=True, enum=list(CHOICES)),
            ],
            "primaryKey": ["ballot", "item"],
            "foreignKeys": [_to_items()],
            "missingValues": [""],
        }
    return _FIXED[name]


_FIXED: dict[str, dict[str, Any]] = {
    "items.csv": {
        "fields": [
            _item("the item's id", required=True),
            _field("position", "integer", "display order, from 1", required=True, minimum=1),
            _field("theme", "string", "the theme's short name (empty: none)"),
            _field(
                "title",
                "string",
                "the title in French; a text starting like a spreadsheet formula has a "
                "single quote in front (docs/open-data.md)",
                required=True,
            ),
            _field("title_en", "string", "the title in English (empty: not translated)"),
        ],
        "primaryKey": ["item"],
        "missingValues": [""],
    },
    "comments.csv": {
        "fields": [
            _field("comment", "integer", "the comment's id", required=True, minimum=1),
            _item(required=True),
            _field(
                "parent", "integer", "the comment it answers (empty: opens a thread)", minimum=1
            ),
            _field(
                "author",
                "string",
                "the author's pseudonym in this file (16 hex digits; empty: account deleted "
                "or comment withdrawn by its author)",
                **BALLOT_ID,
            ),
            _field(
                "stance",
                "string",
                "the stance chosen (empty: comment withdrawn by its author)",
                enum=list(STANCES),
            ),
            _field("created_at", "datetime", "when it was posted (UTC)", required=True),
            _field("edited_at", "datetime", "its last edit (empty: never edited)"),
            _field("edits", "integer", "how many times it was edited", required=True, minimum=0),
            _field("deleted_at", "datetime", "when its author withdrew it (empty: not withdrawn)"),
            _field(
                "moderation",
                "string",
                "visible, held (awaiting review) or hidden by moderation",
                required=True,
                enum=list(MODERATION_STATES),
            ),
            _field("rule", "string", "the charter rule a hidden comment broke (empty: none)"),
            _field("rule_number", "integer", "that rule's number in the charter", minimum=1),
        ],
        "primaryKey": ["comment"],
        "foreignKeys": [
            _to_items(),
            {"fields": "parent", "reference": {"resource": "comments", "fields": "comment"}},
        ],
        "missingValues": [""],
    },
    "participation.csv": {
        "fields": [
            _field(
                "kind",
                "string",
                "rankings and grades and votes: new participants; comments: comments posted",
                required=True,
                enum=list(PARTICIPATION_KINDS),
            ),
            _field(
                "period_start", "datetime", "start of the period (UTC, on the hour)", required=True
            ),
            _field(
                "period_end",
                "datetime",
                "end of the period (excluded): one hour, or more where hours were merged to "
                "reach the small-group threshold",
                required=True,
            ),
            _field("count", "integer", "how many in the period", required=True, minimum=1),
        ],
        "primaryKey": ["kind", "period_start"],
        "missingValues": [""],
    },
    "moderation_log.csv": {
        "fields": [
            _field("decision", "integer", "the decision's id", required=True, minimum=1),
            _field("date", "datetime", "when it was taken", required=True),
            _field("action", "string", "what was decided", required=True, enum=list(ACTIONS)),
            _field("rule", "string", "the charter rule it applies (empty: none)"),
            _field("rule_number", "integer", "that rule's number in the charter"),
            _field("charter_version", "integer", "the charter's version (0: default)", minimum=0),
            _field("role", "string", "who decided: a role, never a name", required=True),
            _field("item", "integer", "the item of the comment concerned", minimum=1),
            _field("comment", "integer", "the comment concerned (empty: a person)", minimum=1),
            _field("appeal", "string", "outcome of an appeal against it (empty: none)"),
            _field("answers_decision", "integer", "the decision an appeal's outcome answers"),
        ],
        "primaryKey": ["decision"],
        "missingValues": [""],
    },
}
TABLES = (
    "items.csv",
    "rankings.csv",
    "grades.csv",
    "votes.csv",
    "comments.csv",
    "participation.csv",
    "moderation_log.csv",
)


def schema_name(csv_name: str) -> str:
    """``comments.csv`` -> ``comments.schema.json``."""
    return csv_name.removesuffix(".csv") + ".schema.json"


# --- checking a CSV file against its schema (the CLI's ``verify``) -------------------------


def check_table(path: Path, schema: dict[str, Any], *, unique_keys: bool = True) -> int:
    """Check ``path`` against the Table Schema ``schema`` (the subset we use: types
    integer, string, datetime; constraints required, minimum, maximum, enum, pattern; the
    primary key's uniqueness unless ``unique_keys`` is false). Returns the number of rows;
    raises ``ValueError`` naming the file, the line and the reason."""
    fields = schema.get("fields")
    if not isinstance(fields, list) or not all(isinstance(f, dict) for f in fields):
        raise ValueError(f"{path.name}: its schema has no list of fields")
    names = [str(f.get("name")) for f in fields]
    key = schema.get("primaryKey") or []
    key = [key] if isinstance(key, str) else list(key)
    positions = [names.index(k) for k in key if k in names]
    seen: set[tuple[str, ...]] = set()
    rows = 0
    for line, row in _rows(path, names):
        for field, cell in zip(fields, row, strict=True):
            problem = _cell_problem(field, cell)
            if problem:
                raise ValueError(f"{path.name}, line {line}: {field.get('name')} {problem}")
        if unique_keys and positions:
            value = tuple(row[p] for p in positions)
            if value in seen:
                raise ValueError(f"{path.name}, line {line}: {', '.join(key)} repeats a row's")
            seen.add(value)
        rows += 1
    return rows


def _rows(path: Path, names: Sequence[str]) -> Iterator[tuple[int, list[str]]]:
    with open(path, encoding="utf-8-sig", newline="") as fp:
        reader = csv.reader(fp)
        try:
            header = next(reader, [])
            if header != list(names):
                raise ValueError(
                    f"{path.name}: header {','.join(header)!r} is not the schema's "
                    f"{','.join(names)!r}"
                )
            for row in reader:
                if len(row) != len(names):
                    raise ValueError(
                        f"{path.name}, line {reader.line_num}: {len(row)} cells, "
                        f"expected {len(names)}"
                    )
                yield reader.line_num, row
        except csv.Error:
            raise ValueError(f"{path.name}, line {reader.line_num}: malformed CSV") from None


_INTEGER = re.compile(r"-?[0-9]{1,18}")


def _cell_problem(field: dict[str, Any], cell: str) -> str | None:
    constraints = field.get("constraints") or {}
    if cell == "":
        return "is required" if constraints.get("required") else None
    kind = field.get("type", "string")
    value: Any = cell
    if kind == "integer":
        if not _INTEGER.fullmatch(cell):
            return f"{cell!r} is not a whole number"
        value = int(cell)
    elif kind == "datetime":
        try:
            datetime.fromisoformat(cell)
        except ValueError:
            return f"{cell!r} is not an ISO 8601 date and time"
    if "enum" in constraints and value not in constraints["enum"]:
        return f"{cell!r} is not one of {', '.join(map(str, constraints['enum']))}"
    if "minimum" in constraints and value < constraints["minimum"]:
        return f"{cell} is below {constraints['minimum']}"
    if "maximum" in constraints and value > constraints["maximum"]:
        return f"{cell} is above {constraints['maximum']}"
    pattern = constraints.get("pattern")
    if pattern and not re.fullmatch(pattern, cell):
        return f"{cell!r} does not have the expected form"
    return None
