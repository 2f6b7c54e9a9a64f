"""The API's operations. Thin: load, call one domain function, shape the output."""

from typing import Any, Literal

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Path, Query, Status

from accounts.types import Person
from consultation import grades, permissions, queries
from consultation.api import errors
from consultation.api.auth import AUTH, AuthedRequest, caller
from consultation.api.errors import AgoraAPI, ApiError
from consultation.api.schemas import (
    ERRORS,
    WRITE_ERRORS,
    BallotIn,
    BallotOut,
    CommentChangeIn,
    CommentIn,
    CommentOut,
    ConsultationOut,
    ConsultationSummaryOut,
    ErrorOut,
    GradeIn,
    GradeOut,
    ItemOut,
    MyParticipationOut,
    OpenDataOut,
    PathId,
    PublicationOut,
    PublishedResultsOut,
    ResultsOut,
    SearchWords,
    Slug,
    ThemeSlug,
    UsefulOut,
    VersionQuery,
    VoteIn,
    VoteOut,
)
from consultation.live import events
from consultation.models import Comment, Consultation, Item, Publication
from consultation.participation import debate, voting
from consultation.queries import DISPLAY_DEPTH
from consultation.results import reading, small_groups

api = AgoraAPI(
    title="Agora API",
    version="1",
    description=(
        "Read consultations, items and aggregate results; take part as yourself. See docs/api.md."
    ),
    urls_namespace="api",
    # ninja's docs page loads Swagger UI from a CDN: no third-party requests here.
    docs_url=None,
)
errors.install(api)


# --- Loading and shaping -----------------------------------------------------------------


def _consultation(slug: str) -> Consultation:
    # visible(): no drafts, for anyone (see the package docstring).
    return get_object_or_404(Consultation.objects.visible(), slug=slug)


def _item(item_id: int) -> Item:
    return get_object_or_404(
        Item.objects.select_related("consultation", "theme").filter(
            consultation__in=Consultation.objects.visible()
        ),
        pk=item_id,
    )


def _comment(comment_id: int) -> Comment:
    return get_object_or_404(
        Comment.objects.select_related("item__consultation", "author").filter(
            item__consultation__in=Consultation.objects.visible()
        ),
        pk=comment_id,
    )


def _summary(c: Consultation) -> dict[str, Any]:
    return {
        "slug": c.slug,
        "title": c.display_title,
        "summary": c.display_summary,
        "status": c.status,
        "opens_at": c.opens_at,
        "closes_at": c.closes_at,
        "url": c.get_absolute_url(),
    }


def _participation(c: Consultation) -> dict[str, Any]:
    counts = queries.participation_counts(c)
    return {key: counts[key] for key in ("participants", "votes", "grades", "ballots", "comments")}


def _item_out(item: Item) -> dict[str, Any]:
    return {
        "id": item.pk,
        "title": item.display_title,
        "summary": item.display_summary,
        "body": item.body,
        "theme": item.theme.slug if item.theme else None,
        "position": item.position,
        "source_reference": item.source_reference,
        "url": item.get_absolute_url(),
    }


def _grade_out(item_id: int, grade: int | None, scale: int) -> dict[str, Any]:
    label = str(grades.labels(scale)[grade]) if grade is not None and grade < scale else None
    return {"item": item_id, "grade": grade, "label": label}


def _comment_out(comment: Comment, depth: int, viewer: Person) -> dict[str, Any]:
    """``queries.comment_json`` (the frames' shape), plus what the API reader may ask."""
    return {
        **queries.comment_json(comment),
        "depth": depth,
        "useful_count": getattr(comment, "useful_count", 0),
        "marked_useful": getattr(comment, "marked_useful", False),
        "mine": bool(viewer.is_authenticated and comment.author_id == viewer.pk),
    }


def _comment_with_counts(comment: Comment, viewer: Person) -> dict[str, Any]:
    """One comment outside its thread: the same shape, with its display depth."""
    depth, parent_id = 0, comment.parent_id
    while parent_id is not None and depth < DISPLAY_DEPTH:
        depth += 1
        parent_id = Comment.objects.filter(pk=parent_id).values_list("parent", flat=True).first()
    return {
        **_comment_out(comment, depth, viewer),
        "useful_count": comment.reactions.count(),
        "marked_useful": bool(
            viewer.is_authenticated and comment.reactions.filter(user=viewer).exists()
        ),
    }


# --- Reads -----------------------------------------------------------------------------------

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
    return [_summary(c) for c in consultations]


@api.get("/consultations/{slug}", response={200: ConsultationOut, **ERRORS}, tags=["consultations"])
def get_consultation(request: HttpRequest, slug: Path[Slug]) -> dict[str, Any]:
    viewer = caller(request)
    c = _consultation(slug)
    return {
        **_summary(c),
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
        "participation": _participation(c),
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
    c = _consultation(slug)
    return [_item_out(item) for item in queries.search_items(c, query=q, theme=theme)]


@api.get(
    "/consultations/{slug}/items/{item_id}",
    response={200: ItemOut, **ERRORS},
    tags=["consultations"],
)
def get_item(request: HttpRequest, slug: Path[Slug], item_id: Path[PathId]) -> dict[str, Any]:
    caller(request)
    item = _item(item_id)
    if item.consultation.slug != slug:
        raise Http404
    return _item_out(item)


@api.get(
    "/consultations/{slug}/results",
    response={200: ResultsOut, 403: ErrorOut, **ERRORS},
    tags=["consultations"],
)
def get_results(request: HttpRequest, slug: Path[Slug]) -> dict[str, Any]:
    """Aggregate counts only, never who voted how; a group smaller than ``min_group`` is
    not broken down (null). 403 ``results_hidden`` while hidden."""
    c = _consultation(slug)
    if not permissions.can_see_results(caller(request), c):
        raise ApiError(
            403,
            "results_hidden",
            _("Results are not public yet. Participation figures are."),
        )
    participation = _participation(c)
    tallies = small_groups.public_tallies(queries.item_tallies(c), participation["ballots"])
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
    c = _consultation(slug)
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
    return [_publication_out(p) for p in reading.publication_versions(_consultation(slug))]


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
    c = _consultation(slug)
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
    return events.snapshot_frame(_consultation(slug))


@api.get(
    "/consultations/{slug}/me",
    response={200: MyParticipationOut, **WRITE_ERRORS},
    auth=AUTH,
    tags=["participation"],
)
def my_participation(request: AuthedRequest, slug: Path[Slug]) -> dict[str, Any]:
    """The caller's own votes, grades, ranking and comments here: for their eyes only."""
    c = _consultation(slug)
    mine: dict[str, Any] = next(
        (entry for entry in queries.my_participation(request.auth) if entry["consultation"] == c),
        {"votes": [], "grades": [], "ballot": None, "comments": []},
    )
    return {
        "consultation": c.slug,
        "votes": [{"item": v.item_id, "choice": v.choice} for v in mine["votes"]],
        "grades": [_grade_out(g.item_id, g.grade, c.grade_scale) for g in mine["grades"]],
        "ballot": mine["ballot"].ranked_item_ids() if mine["ballot"] else [],
        "comments": [comment.pk for comment in mine["comments"]],
    }


# --- Votes, grades, ballots ---------------------------------------------------------------


@api.put(
    "/items/{item_id}/vote",
    response={200: VoteOut, **WRITE_ERRORS},
    auth=AUTH,
    tags=["participation"],
)
def cast_vote(request: AuthedRequest, item_id: Path[PathId], payload: VoteIn) -> dict[str, Any]:
    vote = voting.cast_vote(request.auth, _item(item_id), payload.choice)
    return {"item": item_id, "choice": vote.choice}


@api.delete(
    "/items/{item_id}/vote",
    response={200: VoteOut, **WRITE_ERRORS},
    auth=AUTH,
    tags=["participation"],
)
def withdraw_vote(request: AuthedRequest, item_id: Path[PathId]) -> dict[str, Any]:
    voting.withdraw_vote(request.auth, _item(item_id))
    return {"item": item_id, "choice": None}


@api.put(
    "/items/{item_id}/grade",
    response={200: GradeOut, **WRITE_ERRORS},
    auth=AUTH,
    tags=["participation"],
)
def grade_item(request: AuthedRequest, item_id: Path[PathId], payload: GradeIn) -> dict[str, Any]:
    item = _item(item_id)
    grade = voting.grade_item(request.auth, item, payload.grade)
    return _grade_out(item_id, grade.grade, item.consultation.grade_scale)


@api.delete(
    "/items/{item_id}/grade",
    response={200: GradeOut, **WRITE_ERRORS},
    auth=AUTH,
    tags=["participation"],
)
def withdraw_grade(request: AuthedRequest, item_id: Path[PathId]) -> dict[str, Any]:
    item = _item(item_id)
    voting.withdraw_grade(request.auth, item)
    return _grade_out(item_id, None, item.consultation.grade_scale)


@api.put(
    "/consultations/{slug}/ballot",
    response={200: BallotOut, **WRITE_ERRORS},
    auth=AUTH,
    tags=["participation"],
)
def submit_ballot(request: AuthedRequest, slug: Path[Slug], payload: BallotIn) -> dict[str, Any]:
    ballot = voting.submit_ballot(request.auth, _consultation(slug), payload.items)
    return {"consultation": slug, "items": ballot.ranked_item_ids()}


@api.delete(
    "/consultations/{slug}/ballot",
    response={200: BallotOut, **WRITE_ERRORS},
    auth=AUTH,
    tags=["participation"],
)
def withdraw_ballot(request: AuthedRequest, slug: Path[Slug]) -> dict[str, Any]:
    voting.withdraw_ballot(request.auth, _consultation(slug))
    return {"consultation": slug, "items": []}


# --- Comments -------------------------------------------------------------------------------


@api.get("/items/{item_id}/comments", response={200: list[CommentOut], **ERRORS}, tags=["debate"])
def list_comments(
    request: HttpRequest,
    item_id: Path[PathId],
    sort: Query[Literal["newest", "oldest", "useful"]] = "newest",
    stance: Query[Literal["for", "neutral", "against"] | None] = None,
) -> list[dict[str, Any]]:
    """The thread in display order; replies follow their parent with ``depth`` > 0."""
    viewer = caller(request)
    thread = queries.comment_thread(_item(item_id), sort=sort, stance=stance, viewer=viewer)
    return [_comment_out(comment, depth, viewer) for comment, depth in thread]


@api.post(
    "/items/{item_id}/comments",
    response={201: CommentOut, **WRITE_ERRORS},
    auth=AUTH,
    tags=["debate"],
)
def post_comment(
    request: AuthedRequest, item_id: Path[PathId], payload: CommentIn
) -> Status[dict[str, Any]]:
    item = _item(item_id)
    parent = None
    if payload.parent is not None:
        parent = Comment.objects.filter(pk=payload.parent).first()
        if parent is None:
            raise ApiError(422, "unknown_parent", _("The comment you reply to does not exist."))
    comment = debate.post_comment(request.auth, item, payload.body, payload.stance, parent)
    return Status(201, _comment_with_counts(comment, request.auth))


@api.patch(
    "/comments/{comment_id}",
    response={200: CommentOut, **WRITE_ERRORS},
    auth=AUTH,
    tags=["debate"],
)
def edit_comment(
    request: AuthedRequest, comment_id: Path[PathId], payload: CommentChangeIn
) -> dict[str, Any]:
    comment = _comment(comment_id)
    body = payload.body if payload.body is not None else comment.body
    comment = debate.edit_comment(request.auth, comment, body, payload.stance)
    return _comment_with_counts(comment, request.auth)


@api.delete(
    "/comments/{comment_id}",
    response={200: CommentOut, **WRITE_ERRORS},
    auth=AUTH,
    tags=["debate"],
)
def delete_comment(request: AuthedRequest, comment_id: Path[PathId]) -> dict[str, Any]:
    comment = debate.delete_comment(request.auth, _comment(comment_id))
    return _comment_with_counts(comment, request.auth)


@api.post(
    "/comments/{comment_id}/useful",
    response={200: UsefulOut, **WRITE_ERRORS},
    auth=AUTH,
    tags=["debate"],
)
def toggle_useful(request: AuthedRequest, comment_id: Path[PathId]) -> dict[str, Any]:
    """Mark the comment as useful, or unmark it if already marked."""
    comment = _comment(comment_id)
    marked = debate.toggle_useful(request.auth, comment)
    return {
        "comment": comment.pk,
        "marked_useful": marked,
        "useful_count": comment.reactions.count(),
    }
