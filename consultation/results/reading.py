"""Reads of results for the pages and the API: published versions, the organisers' review,
provisional results while the vote runs, the published files.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from django.db.models import Max
from django.utils.translation import gettext_lazy as _

from accounts.types import Person
from consultation import permissions
from consultation.errors import Conflict
from consultation.models import (
    ComputedResult,
    Consultation,
    OfficialResponse,
    Publication,
)
from consultation.results import opendata
from consultation.results.computing import FINAL, PROVISIONAL
from consultation.results.publishing import official_responses

Status = Consultation.Status


# --- reads for the pages and the API -----------------------------------------------------


def published_results(consultation: Consultation, version: int | None = None) -> Publication | None:
    """The latest publication (or ``version``), or None: never published, no such version.

    ``publication.results`` is the published ``results.json`` (docs/open-data.md),
    ``publication.manifest`` its ``manifest.json``.
    """
    publications = Publication.objects.filter(consultation=consultation)
    if version is not None:
        return publications.filter(version=version).first()
    return publications.latest_first().first()


def latest_version(consultation: Consultation) -> int | None:
    """The number of the latest published version (None: never published), without
    loading any frozen document."""
    return Publication.objects.filter(consultation=consultation).aggregate(n=Max("version"))["n"]


def publication_versions(consultation: Consultation) -> list[Publication]:
    """Every published version, newest first, without the (large) frozen documents."""
    return list(
        Publication.objects.filter(consultation=consultation)
        .latest_first()
        .defer("results_json", "manifest_json")
    )


@dataclass(frozen=True)
class Review:
    """What the organiser sees before publishing (``review_results``)."""

    consultation: Consultation
    computed: ComputedResult | None  # None: the final computation has not finished yet
    responses: dict[int, OfficialResponse]  # drafts, by item id
    latest: Publication | None
    can_publish: bool

    @cached_property
    def results(self) -> dict | None:
        """The results document that ``publish`` would freeze (without responses)."""
        return self.computed.results if self.computed else None

    @property
    def changed_since_latest(self) -> bool:
        """Whether publishing now would publish different numbers than the latest version."""
        if self.latest is None or self.results is None:
            return self.results is not None
        published = self.latest.results
        return any(published.get(k) != v for k, v in self.results.items() if k != "kind")


def review_results(user: Person, consultation: Consultation) -> Review:
    """The computed-but-unpublished final results, for the consultation's organisers."""
    permissions.require_manager(user, consultation)
    if not permissions.can_review_results(user, consultation):
        raise Conflict("not_closed", _("Results are reviewed once the vote is closed."))
    return Review(
        consultation=consultation,
        computed=ComputedResult.objects.filter(consultation=consultation, kind=FINAL).first(),
        responses=official_responses(consultation),
        latest=published_results(consultation),
        can_publish=permissions.can_publish(user, consultation),
    )


def provisional_row(consultation: Consultation) -> ComputedResult | None:
    """The latest provisional computation while the vote runs, if any.

    Callers check ``permissions.can_see_results`` first, as for the live tallies.
    """
    if consultation.status != Status.OPEN:
        return None
    return ComputedResult.objects.filter(consultation=consultation, kind=PROVISIONAL).first()


def provisional_results(consultation: Consultation) -> dict | None:
    """The document of ``provisional_row``, if any."""
    row = provisional_row(consultation)
    return row.results if row else None


def open_data_file(consultation: Consultation, version: int, name: str) -> Path | None:
    """The path of a published file (listed in that version's manifest), or None."""
    publication = published_results(consultation, version)
    if publication is None:
        return None
    listed = {entry["name"] for entry in publication.manifest["files"]} | {"manifest.json"}
    if name not in listed:
        return None
    path = opendata.version_dir(consultation, version) / name
    return path if path.is_file() else None
