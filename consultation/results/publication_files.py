"""The files a published version carries beside the ballots, for journalists, researchers
and data portals (docs/open-data.md, decision 0036):

- ``comments.csv``: the facts of every comment — ids, item, parent, its author's pseudonym
  (keyed like the ballot ids, under the consultation's secret, its own label), stance,
  dates, edit count, moderation state and the charter rule of a hidden comment. Never a
  word of any text, hidden or not: the texts are on the site, where moderation applies;
- ``participation.csv``: new participants per hour and per kind of ballot, and comments
  posted per hour; an hour with fewer than ``OPEN_DATA_MIN_GROUP`` is merged with the next
  ones (``participation_periods``), the small-group rule of the ballot files;
- ``LICENCE.txt``: the site's licence (``OPEN_DATA_LICENCE``, Licence Ouverte 2.0 by
  default; one per site);
- ``<stem>.schema.json``: the Frictionless Table Schema of each CSV file;
- ``datapackage.json`` (Frictionless data package) and ``dcat.jsonld`` (DCAT-AP), written
  last: they describe and hash every other file. ``manifest.json`` hashes them all.

The formats are ``consultation.counting.opendata``'s (no Django there: the ``verify``
command of the CLI reads them back); this module feeds them from the database.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Count, Min
from django.db.models.functions import TruncHour
from django.urls import reverse

from consultation.counting import opendata as formats
from consultation.counting.opendata import package, tables
from consultation.counting.opendata.writing import participation_periods
from consultation.counting.result import JSON_OPTIONS
from consultation.models import Ballot, Comment, Consultation, Grade, Publication, Vote
from consultation.results import opendata

COMMENTS_FILE = "comments.csv"
PARTICIPATION_FILE = "participation.csv"
AUTHOR_LABEL = "comments"
CHUNK_SIZE = 2000


def licence() -> package.Licence:
    return package.LICENCES[settings.OPEN_DATA_LICENCE]


# --- comments.csv -------------------------------------------------------------------------


def comment_rows(consultation: Consultation) -> Iterator[dict[str, Any]]:
    """Every comment of the consultation, oldest first, as ``comments.csv`` rows."""
    secret = consultation.open_data_secret
    rows = (
        Comment.objects.filter(item__consultation=consultation)
        .annotate(edits=Count("revisions"))
        .order_by("pk")
        .values_list(
            "pk",
            "item_id",
            "parent_id",
            "author_id",
            "stance",
            "created_at",
            "edited_at",
            "edits",
            "deleted_at",
            "moderation",
            "hidden_rule",
            "hidden_rule_number",
        )
    )
    for (
        pk,
        item,
        parent,
        author,
        stance,
        created,
        edited,
        edits,
        deleted,
        state,
        rule,
        number,
    ) in rows.iterator(chunk_size=CHUNK_SIZE):
        withdrawn = deleted is not None
        hidden = state == Comment.Moderation.HIDDEN
        yield {
            "comment": pk,
            "item": item,
            "parent": parent,
            # What the page shows of a withdrawn comment is its place: no author, no stance.
            "author": (
                opendata.ballot_id(secret, f"{AUTHOR_LABEL}:{author}")
                if author is not None and not withdrawn
                else None
            ),
            "stance": None if withdrawn else stance,
            "created_at": _iso(created),
            "edited_at": None if withdrawn or edited is None else _iso(edited),
            "edits": 0 if withdrawn else edits,
            "deleted_at": None if deleted is None else _iso(deleted),
            "moderation": state,
            "rule": (rule or None) if hidden else None,
            "rule_number": number if hidden else None,
        }


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


# --- participation.csv --------------------------------------------------------------------


def _hours_of(queryset) -> list[tuple[datetime, int]]:  # type: ignore[no-untyped-def]
    """``(hour, rows)`` of ``queryset``'s ``created_at``, counted by the database."""
    return [
        (row["hour"], row["n"])
        for row in queryset.annotate(hour=TruncHour("created_at", tzinfo=UTC))
        .values("hour")
        .annotate(n=Count("pk"))
        .order_by("hour")
    ]


def _first_answers(model: type[Grade] | type[Vote], consultation: Consultation) -> list:
    """``(hour, citizens)``: each citizen counted once, in the hour of their first answer;
    each row of a deleted account (``user`` NULL) stands alone, as in the ballot files."""
    base = model.objects.filter(item__consultation=consultation)
    counts: dict[datetime, int] = {}
    firsts = (
        base.filter(user__isnull=False)
        .values("user")
        .annotate(first=Min("created_at"))
        .order_by()
        .values_list("first", flat=True)
    )
    for first in firsts.iterator(chunk_size=CHUNK_SIZE):
        hour = first.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        counts[hour] = counts.get(hour, 0) + 1
    for hour, n in _hours_of(base.filter(user__isnull=True)):
        counts[hour] = counts.get(hour, 0) + n
    return sorted(counts.items())


def participation_rows(consultation: Consultation) -> Iterator[tuple[str, datetime, datetime, int]]:
    """``(kind, start, end, count)``: each enabled kind of ballot, then comments."""
    minimum = settings.OPEN_DATA_MIN_GROUP
    kinds = opendata.enabled_kinds(consultation)
    hours: dict[str, list[tuple[datetime, int]]] = {}
    if "rankings" in kinds:
        hours["rankings"] = _hours_of(Ballot.objects.filter(consultation=consultation))
    if "grades" in kinds:
        hours["grades"] = _first_answers(Grade, consultation)
    if "votes" in kinds:
        hours["votes"] = _first_answers(Vote, consultation)
    hours["comments"] = _hours_of(Comment.objects.filter(item__consultation=consultation))
    for kind, counted in hours.items():
        for start, end, n in participation_periods(counted, minimum):
            yield kind, start, end, n


# --- writing them all ---------------------------------------------------------------------


def describe(consultation: Consultation, version: int, published_at: datetime) -> package.Version:
    """The words and addresses of one published version, for the licence and the records."""
    site = settings.SITE_URL
    page = reverse(
        "consultation:results_version", kwargs={"slug": consultation.slug, "version": version}
    )
    first_file = reverse(
        "consultation:open_data",
        kwargs={"slug": consultation.slug, "version": version, "filename": "x"},
    )
    closed = consultation.closed_at or published_at
    return package.Version(
        consultation=consultation.slug,
        version=version,
        title=f"{consultation.title} — résultats et données, version {version}",
        title_en=(
            f"{consultation.title_en} — results and data, version {version}"
            if consultation.title_en
            else ""
        ),
        description=consultation.summary,
        description_en=consultation.summary_en,
        publisher=settings.SITE_NAME,
        published_at=_iso(published_at),
        modified_at=_iso(max(closed, published_at)),
        landing_page=site + page,
        files_url=site + first_file.removesuffix("x"),
        licence=licence(),
        keywords=("consultation", "participation citoyenne", "vote", consultation.slug),
    )


def write(
    consultation: Consultation, directory: Path, *, version: int, published_at: datetime
) -> None:
    """Write comments, participation, the licence, the schemas, then the data package and
    the DCAT-AP record describing every file in ``directory`` (the manifest comes after)."""
    with open(directory / COMMENTS_FILE, "w", encoding="utf-8", newline="") as fp:
        formats.write_comments(fp, comment_rows(consultation))
    with open(directory / PARTICIPATION_FILE, "w", encoding="utf-8", newline="") as fp:
        formats.write_participation(fp, participation_rows(consultation))
    described = describe(consultation, version, published_at)
    (directory / package.LICENCE_FILE).write_text(package.licence_text(described), encoding="utf-8")
    for name in tables.TABLES:
        if (directory / name).is_file():
            schema = tables.table_schema(
                name,
                ranking_size=consultation.ranking_size,
                scale=consultation.grade_scale,
            )
            _dump(directory / tables.schema_name(name), schema)
    names = sorted(p.name for p in directory.iterdir() if not p.name.startswith("."))
    _dump(
        directory / package.PACKAGE_FILE,
        package.build_package(directory, names, described),
    )
    _dump(
        directory / package.DCAT_FILE,
        package.build_dcat(directory, [*names, package.PACKAGE_FILE], described),
    )


def _dump(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document, **JSON_OPTIONS) + "\n", encoding="utf-8")


# --- the site's catalogue -----------------------------------------------------------------


def catalog() -> dict[str, Any]:
    """The DCAT-AP catalogue of the site (``/donnees/catalogue.jsonld``): the dataset of the
    latest published version of every consultation, as its own ``dcat.jsonld`` describes
    it. Versions published before these records existed have none and are left out."""
    latest: dict[int, Publication] = {}
    publications = (
        Publication.objects.filter(consultation__in=Consultation.objects.visible())
        .select_related("consultation")
        .defer("results_json", "manifest_json")
        .order_by("consultation_id", "-version")
    )
    for publication in publications:
        latest.setdefault(publication.consultation_id, publication)
    datasets = []
    for publication in sorted(latest.values(), key=lambda p: p.published_at, reverse=True):
        path = opendata.version_dir(publication.consultation, publication.version)
        record = path / package.DCAT_FILE
        if record.is_file():
            dataset = package.dataset_of(json.loads(record.read_text(encoding="utf-8")))
            if dataset is not None:
                datasets.append(dataset)
    return package.build_catalog(
        title=f"{settings.SITE_NAME} — données ouvertes des consultations",
        description=(
            "Résultats, bulletins anonymisés et faits des débats de chaque consultation "
            "publiée, recomptables par chacun."
        ),
        publisher=settings.SITE_NAME,
        homepage=settings.SITE_URL + "/",
        datasets=datasets,
    )
