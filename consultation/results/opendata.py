"""Open data, the Django side: stream anonymised ballots out of the database into files.

The file formats and their writers belong to ``consultation.counting.opendata`` (no
Django there, so that anyone can recount); this module feeds them. What it guarantees
(docs/open-data.md, docs/decisions/0012-open-data-and-publication.md):

- **anonymised**: no user id, no e-mail, no timestamp. A ballot's id is an HMAC of its
  primary key (rankings) or of its citizen (grades, votes: one line per citizen) under the
  consultation's ``open_data_secret``, truncated to 16 hex digits, with a different label
  per file, so ids cannot be linked across files or back to the database without the
  secret;
- **shuffled**: rows are sorted by that id, not by submission order;
- **stable**: the same database gives byte-identical files (the secret and the keys do
  not change), so rebuilding an export reproduces its SHA-256 and jobs are idempotent;
- **streamed**: rows are read in chunks of ``CHUNK_SIZE`` as tuples, never as model
  instances; what stays in memory for the whole export is two integer arrays (16 bytes
  per ballot) used to sort ballots by id;
- **small groups**: a kind of ballot with fewer than ``OPEN_DATA_MIN_GROUP`` citizens is
  withheld (only its total is published), and within a published kind, an item with
  fewer responses than that is not broken down (its responses leave the file, its total
  is published).

Each publication also carries the consultation's public moderation log as it stands then
(``write_moderation_log``: ``consultation.moderation.log``, which names nobody and holds no
note and no comment text).
"""

from __future__ import annotations

import hashlib
import hmac
import shutil
import time
import uuid
from array import array
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain, groupby
from operator import itemgetter
from pathlib import Path
from typing import IO, Any

import numpy as np
from django.conf import settings
from django.db.models import Count

from consultation.counting import opendata as formats
from consultation.models import Ballot, BallotEntry, Consultation, Grade, Item, Vote
from consultation.moderation import log as moderation_log

CHUNK_SIZE = 2000
ID_DIGITS = 16
ITEMS_FILES = ("items.csv", "items.json")
MODERATION_LOG_FILES = ("moderation_log.csv", "moderation_log.json")
# kind -> (ballot files, counting-method kind, the consultation's switch)
KINDS = {
    "rankings": (("rankings.csv", "rankings.json"), "ranking", "ranking_enabled"),
    "grades": (("grades.csv", "grades.json"), "grades", "grading_enabled"),
    "votes": (("votes.csv", "votes.json"), "votes", "voting_enabled"),
}
SMALL_GROUP = "small_group"


def root() -> Path:
    return Path(settings.MEDIA_ROOT) / "opendata"


def consultation_dir(consultation: Consultation) -> Path:
    return root() / consultation.slug


def version_dir(consultation: Consultation, version: int) -> Path:
    return consultation_dir(consultation) / f"v{version}"


def enabled_kinds(consultation: Consultation) -> list[str]:
    return [kind for kind, (_f, _k, switch) in KINDS.items() if getattr(consultation, switch)]


# --- ballot ids ---------------------------------------------------------------------------


def ballot_id(secret: str, label: str) -> str:
    """The public id of one ballot: HMAC-SHA256(secret, label), 16 hex digits."""
    digest = hmac.new(secret.encode(), label.encode(), hashlib.sha256).hexdigest()
    return digest[:ID_DIGITS]


@dataclass
class _SortedGroups:
    """Ballots (or citizens) in public-id order, kept as integer arrays.

    Only integers are held per ballot while sorting (the id as a 64-bit number, the key,
    a one-byte label index); the hex ids are rebuilt chunk by chunk.
    """

    ids: np.ndarray
    keys: np.ndarray
    labels: np.ndarray
    names: list[str]

    def __len__(self) -> int:
        return len(self.ids)

    def chunks(self, size: int) -> Iterator[list[tuple[str, str, int]]]:
        """Lists of ``(public id, label, key)``, ``size`` at a time."""
        for start in range(0, len(self.ids), size):
            window = slice(start, start + size)
            yield [
                (f"{int(i):0{ID_DIGITS}x}", self.names[int(label)], int(key))
                for i, label, key in zip(
                    self.ids[window], self.labels[window], self.keys[window], strict=True
                )
            ]


def _sorted_by_id(secret: str, groups: Iterable[tuple[str, int]]) -> _SortedGroups:
    """Sort ``(label, key)`` pairs by the public id ``ballot_id(secret, "label:key")``."""
    ids, keys, labels = array("Q"), array("q"), array("B")
    names: dict[str, int] = {}
    for label, key in groups:
        ids.append(int(ballot_id(secret, f"{label}:{key}"), 16))
        keys.append(key)
        labels.append(names.setdefault(label, len(names)))
    if not ids:
        empty = np.zeros(0, dtype=np.int64)
        return _SortedGroups(empty.astype(np.uint64), empty, empty.astype(np.uint8), [])
    id_array = np.frombuffer(ids, dtype=np.uint64)
    order = np.argsort(id_array, kind="stable")
    return _SortedGroups(
        id_array[order],
        np.frombuffer(keys, dtype=np.int64)[order],
        np.frombuffer(labels, dtype=np.uint8)[order],
        list(names),
    )


# --- streaming rows from the database -----------------------------------------------------


def ranking_rows(
    consultation: Consultation, *, chunk_size: int | None = None
) -> Iterator[tuple[str, list[int]]]:
    """Every ranking ballot as ``(ballot id, [item ids, first choice first])``, by id."""
    size = chunk_size or CHUNK_SIZE
    pks = (
        Ballot.objects.filter(consultation=consultation)
        .order_by("pk")
        .values_list("pk", flat=True)
        .iterator(chunk_size=size)
    )
    groups = _sorted_by_id(consultation.open_data_secret, (("ranking", pk) for pk in pks))
    for chunk in groups.chunks(size):
        entries: dict[int, list[int]] = defaultdict(list)
        rows = (
            BallotEntry.objects.filter(ballot_id__in=[key for _id, _p, key in chunk])
            .order_by("ballot_id", "rank")
            .values_list("ballot_id", "item_id")
        )
        for ballot_pk, item_pk in rows.iterator(chunk_size=size * 4):
            entries[ballot_pk].append(item_pk)
        for public_id, _prefix, key in chunk:
            if entries[key]:  # a ballot is never empty; skip one being replaced right now
                yield public_id, entries[key]


def rankings(consultation: Consultation) -> Iterator[list[int]]:
    """Every ranking ballot's item ids, first choice first, in database order: for counting
    in the site (provisional results, the live matrix); files use ``ranking_rows``."""
    rows = (
        BallotEntry.objects.filter(ballot__consultation=consultation)
        .order_by("ballot_id", "rank")
        .values_list("ballot_id", "item_id")
        .iterator(chunk_size=CHUNK_SIZE * 4)
    )
    for _ballot, entries in groupby(rows, itemgetter(0)):
        yield [item for _b, item in entries]


def _per_citizen_rows(
    consultation: Consultation,
    model: type[Grade] | type[Vote],
    label: str,
    field_name: str,
    *,
    skip_items: frozenset[int] = frozenset(),
    chunk_size: int | None = None,
) -> Iterator[tuple[str, dict[int, Any]]]:
    """One row per citizen: ``(ballot id, {item id: value})``, by id.

    Rows of a deleted account (``user`` NULL) cannot be grouped any more: each stands alone.
    """
    size = chunk_size or CHUNK_SIZE
    base = model.objects.filter(item__consultation=consultation)
    people = (
        base.filter(user__isnull=False)
        .order_by("user_id")
        .values_list("user_id", flat=True)
        .distinct()
        .iterator(chunk_size=size)
    )
    anonymous = (
        base.filter(user__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
        .iterator(chunk_size=size)
    )
    groups = _sorted_by_id(
        consultation.open_data_secret,
        chain(
            ((label, uid) for uid in people),
            ((f"{label}-anonymous", pk) for pk in anonymous),
        ),
    )
    for chunk in groups.chunks(size):
        users = [key for _id, prefix, key in chunk if prefix == label]
        rows_pks = [key for _id, prefix, key in chunk if prefix != label]
        found: dict[tuple[bool, int], dict[int, Any]] = defaultdict(dict)
        if users:
            for user_id, item_id, value in (
                base.filter(user_id__in=users)
                .order_by("user_id", "item_id")
                .values_list("user_id", "item_id", field_name)
                .iterator(chunk_size=size * 4)
            ):
                found[True, user_id][item_id] = value
        if rows_pks:
            for pk, item_id, value in (
                base.filter(pk__in=rows_pks).values_list("pk", "item_id", field_name).iterator()
            ):
                found[False, pk][item_id] = value
        for public_id, prefix, key in chunk:
            row = {
                item: value
                for item, value in found[prefix == label, key].items()
                if item not in skip_items
            }
            if row:
                yield public_id, row


def grade_rows(consultation: Consultation, **options: Any) -> Iterator[tuple[str, dict[int, int]]]:
    """Every citizen's grades as ``(ballot id, {item id: grade})``, by id."""
    return _per_citizen_rows(consultation, Grade, "grades", "grade", **options)


def vote_rows(consultation: Consultation, **options: Any) -> Iterator[tuple[str, dict[int, str]]]:
    """Every citizen's votes as ``(ballot id, {item id: "for" | "against" | "abstain"})``."""
    return _per_citizen_rows(consultation, Vote, "votes", "choice", **options)


def responses_per_item(consultation: Consultation, kind: str) -> dict[int, int]:
    """How many grades or votes each item received (an aggregate query)."""
    models: dict[str, type[Grade] | type[Vote]] = {"grades": Grade, "votes": Vote}
    model = models[kind]
    counts = dict.fromkeys(consultation.items.values_list("pk", flat=True), 0)
    for row in (
        model.objects.filter(item__consultation=consultation)
        .values("item")
        .annotate(n=Count("id"))
        .order_by()
    ):
        counts[row["item"]] = row["n"]
    return counts


def items_of(consultation: Consultation) -> list[Item]:
    return list(consultation.items.select_related("theme").order_by("position", "id"))


# --- building an export -------------------------------------------------------------------


@dataclass
class Export:
    """What ``build`` wrote in ``directory``."""

    directory: Path
    items: list[int]
    hashes: dict[str, str] = field(default_factory=dict)  # file name -> SHA-256
    totals: dict[str, int] = field(default_factory=dict)  # kind -> ballots in its file
    withheld: dict[str, dict] = field(default_factory=dict)  # kind -> why, with totals

    @property
    def ballot_files(self) -> dict[str, str]:
        """kind -> the CSV file the results of that kind are computed from."""
        return {kind: KINDS[kind][0][0] for kind in KINDS if kind in self.totals}


def build(consultation: Consultation, directory: Path) -> Export:
    """Write items and ballot files into ``directory`` (new, empty) and hash them."""
    directory.mkdir(parents=True, exist_ok=False)
    items = items_of(consultation)
    export = Export(directory, [item.pk for item in items])
    with _open_pair(directory, ITEMS_FILES) as (csv_fp, json_fp):
        formats.write_items(csv_fp, json_fp, _item_rows(items))
    minimum = settings.OPEN_DATA_MIN_GROUP
    for kind in enabled_kinds(consultation):
        names = KINDS[kind][0]
        small: dict[int, int] = {}
        if kind == "rankings":
            rows: Iterator = ranking_rows(consultation)
        else:
            small = {
                item: n
                for item, n in responses_per_item(consultation, kind).items()
                if 0 < n < minimum
            }
            stream = grade_rows if kind == "grades" else vote_rows
            rows = stream(consultation, skip_items=frozenset(small))
        with _open_pair(directory, names) as (csv_fp, json_fp):
            written = _write(kind, consultation, export.items, rows, csv_fp, json_fp)
        if written < minimum:
            for name in names:
                (directory / name).unlink()
            export.withheld[kind] = {
                "reason": SMALL_GROUP,
                "ballots": _total_ballots(consultation, kind),
                "threshold": minimum,
            }
            continue
        export.totals[kind] = written
        if small:
            export.withheld[kind] = {
                "reason": SMALL_GROUP,
                "threshold": minimum,
                "items": {str(item): n for item, n in sorted(small.items())},
            }
    for name in sorted(p.name for p in directory.iterdir()):
        export.hashes[name] = formats.sha256_file(directory / name)
    return export


def _write(
    kind: str,
    consultation: Consultation,
    items: list[int],
    rows: Iterable[tuple[str, Any]],
    csv_fp: IO[str] | None,
    json_fp: IO[str] | None,
) -> int:
    """Write one kind's CSV and JSON in a single pass over ``rows``; return the count."""
    common: dict[str, Any] = {"consultation": consultation.slug, "items": items, "ballots": rows}
    if kind == "rankings":
        size = consultation.ranking_size
        return formats.write_rankings(csv_fp, json_fp, ranking_size=size, **common)
    if kind == "grades":
        return formats.write_grades(csv_fp, json_fp, scale=consultation.grade_scale, **common)
    return formats.write_votes(csv_fp, json_fp, **common)


def _total_ballots(consultation: Consultation, kind: str) -> int:
    if kind == "rankings":
        return Ballot.objects.filter(consultation=consultation).count()
    model = Grade if kind == "grades" else Vote
    base = model.objects.filter(item__consultation=consultation)
    people = base.filter(user__isnull=False).values("user").distinct().count()
    return people + base.filter(user__isnull=True).count()


def write_moderation_log(consultation: Consultation, directory: Path) -> int:
    """Write the public moderation log (every decision, and the summary) into
    ``directory``; return how many decisions it lists."""
    rows = moderation_log.entries(consultation)
    with _open_pair(directory, MODERATION_LOG_FILES) as (csv_fp, json_fp):
        return formats.write_moderation_log(
            csv_fp,
            json_fp,
            consultation=consultation.slug,
            fields=moderation_log.FIELDS,
            entries=rows,
            summary=moderation_log.summary(consultation, rows),
        )


def _item_rows(items: list[Item]) -> list[dict[str, Any]]:
    return [
        {
            "item": item.pk,
            "position": index,
            "title": item.title,
            "title_en": item.title_en,
            "theme": item.theme.slug if item.theme else "",
        }
        for index, item in enumerate(items, start=1)
    ]


class _open_pair:
    def __init__(self, directory: Path, names: tuple[str, str]):
        self.paths = [directory / name for name in names]

    def __enter__(self):
        # newline="": the CSV writer chooses its line endings; UTF-8 always.
        self.files = [open(p, "w", encoding="utf-8", newline="") for p in self.paths]  # noqa: SIM115
        return self.files

    def __exit__(self, *exc):
        for f in self.files:
            f.close()


def fresh_directory(consultation: Consultation) -> Path:
    """A new scratch directory for one computation (never shared by two runs).

    Scratch directories older than the task time limit belong to runs that died (a
    worker killed mid-task): they are removed here.
    """
    parent = consultation_dir(consultation)
    if parent.is_dir():
        too_old = time.time() - settings.CELERY_TASK_TIME_LIMIT
        for stale in parent.glob(".tmp-*"):
            if stale.stat().st_mtime < too_old:
                discard(stale)
    return parent / f".tmp-{uuid.uuid4().hex}"


def settle(scratch: Path, target: Path) -> Path:
    """Move a finished export to ``target``; if an identical one is there, keep that one.

    Export directories are named after their content, so ``target`` existing means the
    same bytes were already written by an earlier run (a retried or repeated job).
    """
    if target.exists():
        shutil.rmtree(scratch)
    else:
        scratch.rename(target)
    return target


def discard(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
