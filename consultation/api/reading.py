"""The reading operations: consultations, their items, results, open data and the live
snapshot. Public, with the pages' visibility policy; a wrong token is still refused."""

from typing import Any, Literal

from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Path, Query

from consultation import grades, permissions, queries
from consultation.api.auth import caller
from consultation.api.errors import ApiError
from consultation.api.schemas import (
    ERRORS,
    ConsultationOut,
    ConsultationSummaryOut,
    ErrorOut,
    ItemOut,
    OpenDataOut,
    PathId,
    PublicationOut,
    PublishedResultsOut,
    ResultsOut,
    SearchWords,
    Slug,
    ThemeSlug,
    VersionQuery,
)
from consultation.api.shaping import (
    PARTICIPATION_KEYS,
    consultation_or_404,
    item_or_404,
    item_out,
    participation_out,
    summary_out,
)
from consultation.api.site import api
from consultation.live import counters, events
from consultation.models import Consultation, Publication
from consultation.results import reading, small_groups

PublicStatus = Literal["scheduled", "open", "closed", "published"]


@api.get(
    "/consultations", response={200: list[ConsultationSummaryOut], **ERRORS}, tags=["consultations"]
)
def list_consultations(
    request: HttpRequest, status: Query[PublicStatus | None] = None
) -> list[dict[str, Any]]:
    """Every consultation the public may see (drafts never appear), newest first."""
    caller(request)  # a wrong token is refused even where none is needed
    consultations = Consultation.objects.visible()
    if status:
        consultations = consultations.filter(status=status)
    return [summary_out(c) for c in consultations]


@api.get("/consultations/{slug}", response={200: ConsultationOut, **ERRORS}, tags=["consultations"])
def get_consultation(request: HttpRequest, slug: Path[Slug]) -> dict[str, Any]:
    viewer = caller(request)
    c = consultation_or_404(slug)
    return {
        **summary_out(c),
        "description": c.description,
        "closed_at": c.closed_at,
        "closing_reason": c.closing_reason,
        "eligibility": c.eligibility,
        "accepts_participation": c.accepts_participation(),
        "results_visible": permissions.can_see_results(viewer, c),
        "results_visibility": c.results_visibility,
        "modes": {
            "voting": c.voting_enabled,
            "grading": c.grading_enabled,
            "ranking": c.ranking_enabled,
            "comments": c.comments_enabled,
        },
        "ranking_size": c.ranking_size,
        "grade_scale": c.grade_scale,
        "grade_labels": [str(label) for label in grades.labels(c.grade_scale)],
        "themes": [{"slug": t.slug, "name": t.display_name} for t in c.themes.all()],
        "participation": participation_out(c),
    }


@api.get(
    "/consultations/{slug}/items", response={200: list[ItemOut], **ERRORS}, tags=["consultations"]
)
def list_items(
    request: HttpRequest,
    slug: Path[Slug],
    q: SearchWords = "",
    theme: ThemeSlug = "",
) -> list[dict[str, Any]]:
    caller(request)
    c = consultation_or_404(slug)
    return [item_out(item) for item in queries.search_items(c, query=q, theme=theme)]


@api.get(
    "/consultations/{slug}/items/{item_id}",
    response={200: ItemOut, **ERRORS},
    tags=["consultations"],
)
def get_item(request: HttpRequest, slug: Path[Slug], item_id: Path[PathId]) -> dict[str, Any]:
    caller(request)
    item = item_or_404(item_id)
    if item.consultation.slug != slug:
        raise Http404
    return item_out(item)


@api.get(
    "/consultations/{slug}/results",
    response={200: ResultsOut, 403: ErrorOut, **ERRORS},
    tags=["consultations"],
)
def get_results(request: HttpRequest, slug: Path[Slug]) -> dict[str, Any]:
    """Aggregate counts only, never who voted how; a group smaller than ``min_group`` is
    not broken down (null). 403 ``results_hidden`` while hidden."""
    c = consultation_or_404(slug)
    if not permissions.can_see_results(caller(request), c):
        raise ApiError(
            403,
            "results_hidden",
            _("Results are not public yet. Participation figures are."),
        )
    counts, found = counters.shown_counts(c, tallies=True)
    participation = {key: counts[key] for key in PARTICIPATION_KEYS}
    tallies = small_groups.public_tallies(found, participation["ballots"])
    return {
        "consultation": c.slug,
        "status": c.status,
        "final": c.status == Consultation.Status.PUBLISHED,
        "min_group": small_groups.threshold(),
        "participation": participation,
        "items": [{"item": pk, **tally} for pk, tally in tallies.items()],
    }


def _publication(c: Consultation, version: int | None) -> Publication:
    publication = reading.published_results(c, version)
    if publication is not None:
        return publication
    if version is not None and reading.latest_version(c) is not None:
        raise ApiError(
            404,
            "version_not_found",
            _("There is no version %(version)d of these results.") % {"version": version},
        )
    raise ApiError(404, "not_published", _("The results of this consultation are not published."))


def _publication_out(p: Publication) -> dict[str, Any]:
    return {
        "version": p.version,
        "published_at": p.published_at,
        "published_by": p.published_by_name,
        "note": p.note,
    }


def _files_out(c: Consultation, p: Publication) -> list[dict[str, Any]]:
    return [
        {**entry, "url": _file_url(c, p.version, entry["name"])} for entry in p.manifest["files"]
    ]


def _file_url(c: Consultation, version: int, name: str) -> str:
    return reverse(
        "consultation:open_data", kwargs={"slug": c.slug, "version": version, "filename": name}
    )


@api.get(
    "/consultations/{slug}/results/published",
    response={200: PublishedResultsOut, **ERRORS},
    tags=["results"],
)
def get_published_results(
    request: HttpRequest, slug: Path[Slug], version: VersionQuery = None
) -> dict[str, Any]:
    """The published results (latest version, or ``?version=n``): frozen, recountable from
    the files listed. 404 ``not_published`` before publication, ``version_not_found``."""
    caller(request)
    c = consultation_or_404(slug)
    publication = _publication(c, version)
    return {
        **_publication_out(publication),
        "consultation": c.slug,
        "latest_version": publication.version if version is None else reading.latest_version(c),
        "results": publication.results,
        "files": _files_out(c, publication),
        "manifest_url": _file_url(c, publication.version, "manifest.json"),
    }


@api.get(
    "/consultations/{slug}/results/versions",
    response={200: list[PublicationOut], **ERRORS},
    tags=["results"],
)
def list_result_versions(request: HttpRequest, slug: Path[Slug]) -> list[dict[str, Any]]:
    """Every published version, newest first (empty before the first publication)."""
    caller(request)
    return [_publication_out(p) for p in reading.publication_versions(consultation_or_404(slug))]


@api.get(
    "/consultations/{slug}/open-data",
    response={200: OpenDataOut, **ERRORS},
    tags=["results"],
)
def get_open_data(
    request: HttpRequest, slug: Path[Slug], version: VersionQuery = None
) -> dict[str, Any]:
    """The open-data manifest of a published version (latest by default)."""
    caller(request)
    c = consultation_or_404(slug)
    publication = _publication(c, version)
    return {
        "consultation": c.slug,
        "version": publication.version,
        "manifest": publication.manifest,
        "manifest_url": _file_url(c, publication.version, "manifest.json"),
        "files": _files_out(c, publication),
    }


@api.get(
    "/consultations/{slug}/live",
    response={200: dict, **ERRORS},
    tags=["consultations"],
)
def get_live_snapshot(request: HttpRequest, slug: Path[Slug]) -> dict[str, Any]:
    """The websocket stream's ``snapshot`` frame, for clients without websockets
    (docs/realtime.md): live counters, per-item results only while they are visible."""
    caller(request)
    return events.snapshot_frame(consultation_or_404(slug))
