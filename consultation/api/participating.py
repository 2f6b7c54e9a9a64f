"""The operations of taking part, as the caller: their own participation, votes, grades,
ranking ballots, comments and "useful" marks (and the comment threads they answer)."""

from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from ninja import Path, Query, Status

from consultation import queries
from consultation.api.auth import AUTH, AuthedRequest, caller
from consultation.api.errors import ApiError
from consultation.api.schemas import (
    ERRORS,
    WRITE_ERRORS,
    BallotIn,
    BallotOut,
    CommentChangeIn,
    CommentIn,
    CommentOut,
    CommentPageOut,
    GradeIn,
    GradeOut,
    MyParticipationOut,
    PathId,
    SearchWords,
    Slug,
    ThreadCursor,
    ThreadLimit,
    UsefulOut,
    VoteIn,
    VoteOut,
)
from consultation.api.shaping import (
    comment_or_404,
    comment_out,
    comment_with_counts,
    consultation_or_404,
    grade_out,
    item_or_404,
)
from consultation.api.site import api
from consultation.models import Comment
from consultation.participation import debate, thread_cursors, thread_pages, voting

# --- My participation ------------------------------------------------------------------------


@api.get(
    "/consultations/{slug}/me",
    response={200: MyParticipationOut, **WRITE_ERRORS},
    auth=AUTH,
    tags=["participation"],
)
def my_participation(request: AuthedRequest, slug: Path[Slug]) -> dict[str, Any]:
    """The caller's own votes, grades, ranking and comments here: for their eyes only."""
    c = consultation_or_404(slug)
    mine: dict[str, Any] = next(
        (entry for entry in queries.my_participation(request.auth) if entry["consultation"] == c),
        {"votes": [], "grades": [], "ballot": None, "comments": []},
    )
    return {
        "consultation": c.slug,
        "votes": [{"item": v.item_id, "choice": v.choice} for v in mine["votes"]],
        "grades": [grade_out(g.item_id, g.grade, c.grade_scale) for g in mine["grades"]],
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
    vote = voting.cast_vote(request.auth, item_or_404(item_id), payload.choice)
    return {"item": item_id, "choice": vote.choice}


@api.delete(
    "/items/{item_id}/vote",
    response={200: VoteOut, **WRITE_ERRORS},
    auth=AUTH,
    tags=["participation"],
)
def withdraw_vote(request: AuthedRequest, item_id: Path[PathId]) -> dict[str, Any]:
    voting.withdraw_vote(request.auth, item_or_404(item_id))
    return {"item": item_id, "choice": None}


@api.put(
    "/items/{item_id}/grade",
    response={200: GradeOut, **WRITE_ERRORS},
    auth=AUTH,
    tags=["participation"],
)
def grade_item(request: AuthedRequest, item_id: Path[PathId], payload: GradeIn) -> dict[str, Any]:
    item = item_or_404(item_id)
    grade = voting.grade_item(request.auth, item, payload.grade)
    return grade_out(item_id, grade.grade, item.consultation.grade_scale)


@api.delete(
    "/items/{item_id}/grade",
    response={200: GradeOut, **WRITE_ERRORS},
    auth=AUTH,
    tags=["participation"],
)
def withdraw_grade(request: AuthedRequest, item_id: Path[PathId]) -> dict[str, Any]:
    item = item_or_404(item_id)
    voting.withdraw_grade(request.auth, item)
    return grade_out(item_id, None, item.consultation.grade_scale)


@api.put(
    "/consultations/{slug}/ballot",
    response={200: BallotOut, **WRITE_ERRORS},
    auth=AUTH,
    tags=["participation"],
)
def submit_ballot(request: AuthedRequest, slug: Path[Slug], payload: BallotIn) -> dict[str, Any]:
    ballot = voting.submit_ballot(request.auth, consultation_or_404(slug), payload.items)
    return {"consultation": slug, "items": ballot.ranked_item_ids()}


@api.delete(
    "/consultations/{slug}/ballot",
    response={200: BallotOut, **WRITE_ERRORS},
    auth=AUTH,
    tags=["participation"],
)
def withdraw_ballot(request: AuthedRequest, slug: Path[Slug]) -> dict[str, Any]:
    voting.withdraw_ballot(request.auth, consultation_or_404(slug))
    return {"consultation": slug, "items": []}


# --- Comments -------------------------------------------------------------------------------


@api.get(
    "/items/{item_id}/comments",
    response={200: CommentPageOut | list[CommentOut], **ERRORS},
    tags=["debate"],
)
def list_comments(
    request: HttpRequest,
    response: HttpResponse,
    item_id: Path[PathId],
    sort: Query[Literal["newest", "oldest", "useful", "replies"]] = "newest",
    stance: Query[Literal["for", "neutral", "against"] | None] = None,
    q: SearchWords = "",
    cursor: ThreadCursor = None,
    limit: ThreadLimit = None,
) -> dict[str, Any] | list[dict[str, Any]]:
    """A page of the debate: ``{"comments": [...], "next": cursor, "previous": cursor}``.
    Threads (a root and its first replies, each after its parent with ``depth`` > 0), or
    with ``q`` the comments holding every word, each on its own. A root's
    ``more_replies`` cursor reads the rest of its thread.

    Without ``limit``, ``cursor`` or ``q`` the answer keeps its first shape, a bare list:
    the first 50 threads with up to 50 replies each, and a ``Link: <…>; rel="next"``
    header when there are more."""
    viewer = caller(request)
    item = item_or_404(item_id)
    if cursor is not None and thread_cursors.is_replies_cursor(cursor):
        replies = thread_pages.replies_page(
            item, cursor, limit=limit or thread_pages.REPLY_PAGE, viewer=viewer
        )
        return {
            "comments": [comment_out(c, depth, viewer) for c, depth in replies.comments],
            "next": replies.next,
            "previous": replies.previous,
        }
    first_shape = cursor is None and limit is None and not q
    page = thread_pages.page(
        item,
        sort=sort,
        stance=stance,
        query=q,
        cursor=cursor,
        limit=limit or (thread_pages.MAX_PAGE_SIZE if first_shape else thread_pages.PAGE_SIZE),
        preview=thread_pages.REPLY_PAGE if first_shape else thread_pages.REPLY_PREVIEW,
        viewer=viewer,
    )
    if first_shape:
        if page.next:
            wanted: dict[str, str | int | None] = {"sort": sort, "stance": stance}
            wanted |= {"limit": thread_pages.MAX_PAGE_SIZE, "cursor": page.next}
            query = urlencode({name: value for name, value in wanted.items() if value})
            response["Link"] = f'<{request.path}?{query}>; rel="next"'
        return [comment_out(comment, depth, viewer) for comment, depth in page.pairs()]
    comments = []
    for thread in page.threads:
        for comment, depth in thread.comments:
            shown = comment_out(comment, depth, viewer)
            if comment is thread.root and not page.search:
                shown |= {"reply_count": thread.reply_count, "more_replies": thread.more}
            comments.append(shown)
    return {"comments": comments, "next": page.next, "previous": page.previous}


@api.post(
    "/items/{item_id}/comments",
    response={201: CommentOut, **WRITE_ERRORS},
    auth=AUTH,
    tags=["debate"],
)
def post_comment(
    request: AuthedRequest, item_id: Path[PathId], payload: CommentIn
) -> Status[dict[str, Any]]:
    item = item_or_404(item_id)
    parent = None
    if payload.parent is not None:
        parent = Comment.objects.filter(pk=payload.parent).first()
        if parent is None:
            raise ApiError(422, "unknown_parent", _("The comment you reply to does not exist."))
    comment = debate.post_comment(request.auth, item, payload.body, payload.stance, parent)
    return Status(201, comment_with_counts(comment, request.auth))


@api.patch(
    "/comments/{comment_id}",
    response={200: CommentOut, **WRITE_ERRORS},
    auth=AUTH,
    tags=["debate"],
)
def edit_comment(
    request: AuthedRequest, comment_id: Path[PathId], payload: CommentChangeIn
) -> dict[str, Any]:
    comment = comment_or_404(comment_id)
    body = payload.body if payload.body is not None else comment.body
    comment = debate.edit_comment(request.auth, comment, body, payload.stance)
    return comment_with_counts(comment, request.auth)


@api.delete(
    "/comments/{comment_id}",
    response={200: CommentOut, **WRITE_ERRORS},
    auth=AUTH,
    tags=["debate"],
)
def delete_comment(request: AuthedRequest, comment_id: Path[PathId]) -> dict[str, Any]:
    comment = debate.delete_comment(request.auth, comment_or_404(comment_id))
    return comment_with_counts(comment, request.auth)


@api.post(
    "/comments/{comment_id}/useful",
    response={200: UsefulOut, **WRITE_ERRORS},
    auth=AUTH,
    tags=["debate"],
)
def toggle_useful(request: AuthedRequest, comment_id: Path[PathId]) -> dict[str, Any]:
    """Mark the comment as useful, or unmark it if already marked."""
    comment = comment_or_404(comment_id)
    marked = debate.toggle_useful(request.auth, comment)
    return {
        "comment": comment.pk,
        "marked_useful": marked,
        "useful_count": comment.reactions.count(),
    }
