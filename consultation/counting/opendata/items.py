"""Reading the items described beside a ballots file (items.csv or items.json): their
ids in display order, and their titles."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from consultation.counting import safe_csv
from consultation.counting.opendata.formats import ITEM_FIELDS
from consultation.counting.opendata.refusals import (
    ENCODING,
    FileError,
    json_value,
    named,
    whole_number,
)


def read_items(path: str | Path) -> list[int]:
    """Item ids in display order (``position``, then file order) from items.csv/json."""
    path = Path(path)
    rows = _item_rows(path)
    try:
        keyed = [
            (
                whole_number(str(r["position"] or 0), path, None, "position"),
                n,
                whole_number(str(r["item"]), path, None, "item"),
            )
            for n, r in enumerate(rows)
        ]
    except (KeyError, TypeError):
        raise FileError(f"{path.name}: expected columns {', '.join(ITEM_FIELDS)}") from None
    ids = [item for _, _, item in sorted(keyed)]
    if not ids:
        raise FileError(f"{path.name}: lists no item")
    if len(set(ids)) != len(ids):
        raise FileError(f"{path.name}: an item id appears twice")
    return ids


def _item_rows(path: Path) -> list[dict[str, Any]]:
    def read() -> list[dict[str, Any]]:
        with open(path, encoding=ENCODING, newline="") as fp:
            if path.suffix == ".json":
                document = json_value(fp.read(), path, None)
                items = document.get("items") if isinstance(document, dict) else None
                if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                    raise FileError(f"{path.name}: expected an object with a list of 'items'")
                return items
            # Titles come back as they were typed, without the quote the writer put before
            # a would-be formula. Ballot files need no such step: ids, numbers, fixed words.
            return [
                {key: safe_csv.restore(value) for key, value in row.items()}
                for row in csv.DictReader(fp)
            ]

    try:
        return named(path, read)
    except csv.Error:
        raise FileError(f"{path.name}: malformed CSV") from None


def item_titles(ballots_path: str | Path, lang: str = "fr") -> dict[int, str]:
    """Titles of the items described beside a ballots file ({} when there is none)."""
    for name in ("items.csv", "items.json"):
        path = Path(ballots_path).parent / name
        if path.exists():
            field = "title_en" if lang == "en" else "title"
            rows = _item_rows(path)
            return {
                whole_number(str(r.get("item")), path, None, "item"): str(
                    r.get(field) or r.get("title") or r.get("item")
                )
                for r in rows
            }
    return {}
