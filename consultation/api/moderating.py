"""The operations of moderation with due process, as citizens meet it: reporting a comment,
the public moderation log, one's own notices, and appealing a decision about oneself.
Moderators' own actions stay behind the MFA-protected moderation pages."""

from math import ceil
from typing import Any

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Path, Status

from accounts.models import User
from consultation import permissions
from consultation.api.auth import AUTH, AuthedRequest, caller
from consultation.api.schemas import (
    ERRORS,
    WRITE_ERRORS,
    AppealIn,
    AppealOut,
    ErrorOut,
    ModerationLogOut,
    NoticesOut,
    NoticesReadIn,
    NoticesReadOut,
    PageQuery,
    PageSizeQuery,
    PathId,
    ReportIn,
    ReportOut,
    Slug,
)
from consultation.api.shaping import comment_or_404, consultation_or_404
from consultation.api.site import api
from consultation.models import Decision, Notice, Report, Rule
from consultation.moderation import appeals, reports
from consultation.moderation import log as moderation_log
from consultation.notices import sending, wording

# --- Reporting a comment ---------------------------------------------------------------------


@api.post(
    "/comments/{comment_id}/reports",
    response={201: ReportOut, **WRITE_ERRORS, 429: ErrorOut},
    auth=AUTH,
    tags=["moderation"],
)
def report_comment(
    request: AuthedRequest, comment_id: Path[PathId], payload: ReportIn
) -> Status[dict[str, Any]]:
    """Report the comment under a charter rule: once per person and comment (409
    ``already_reported``), a few an hour (429 ``too_many_reports``); a suspended person is
    refused (403 ``suspended``). You get a notice now and when a moderator decides."""
    report = reports.report_comment(
        request.auth, comment_or_404(comment_id), payload.rule, payload.text
    )
    return Status(201, _report_out(report))


def _report_out(report: Report) -> dict[str, Any]:
    return {
        "id": report.pk,
        "comment": report.comment_id,
        "rule": report.rule,
        "rule_number": Rule.number(report.rule),
        "text": report.text,
        "status": report.status,
        "created_at": report.created_at,
    }


# --- The public log --------------------------------------------------------------------------


@api.get(
    "/consultations/{slug}/moderation-log",
    response={200: ModerationLogOut, **ERRORS},
    tags=["moderation"],
)
def get_moderation_log(request: HttpRequest, slug: Path[Slug]) -> dict[str, Any]:
    """Every moderation decision here, oldest first: date, action, rule, the role of who
    decided (never a name), the appeal's outcome; counts per rule and the median time from
    first report to decision. No note, no comment text, nobody named."""
    caller(request)
    c = consultation_or_404(slug)
    rows = moderation_log.entries(c)
    return {"consultation": c.slug, "entries": rows, "summary": moderation_log.summary(c, rows)}


# --- My notices ------------------------------------------------------------------------------


@api.get(
    "/me/notices",
    response={200: NoticesOut, **WRITE_ERRORS},
    auth=AUTH,
    tags=["notices"],
)
def list_my_notices(
    request: AuthedRequest, page: PageQuery = 1, page_size: PageSizeQuery = 30
) -> dict[str, Any]:
    """The caller's notices, newest first, a page at a time, with how many are unread."""
    notices = Notice.objects.filter(user=request.auth).select_related("consultation")
    count = notices.count()
    start = (page - 1) * page_size
    return {
        "count": count,
        "unread": sending.unread_count(request.auth),
        "page": page,
        "pages": max(1, ceil(count / page_size)),
        "page_size": page_size,
        "notices": [_notice_out(n) for n in notices[start : start + page_size]],
    }


def _notice_out(notice: Notice) -> dict[str, Any]:
    return {
        "id": notice.pk,
        "kind": notice.kind,
        "consultation": notice.consultation.slug if notice.consultation is not None else None,
        "title": wording.title(notice),
        "lines": wording.lines(notice),
        "data": notice.data,
        "url": notice.url,
        "created_at": notice.created_at,
        "read_at": notice.read_at,
    }


@api.post(
    "/me/notices/read",
    response={200: NoticesReadOut, **WRITE_ERRORS},
    auth=AUTH,
    tags=["notices"],
)
def mark_my_notices_read(request: AuthedRequest, payload: NoticesReadIn) -> dict[str, Any]:
    """Mark the listed notices read (the caller's own: other ids are ignored), or all of
    them when ``ids`` is absent."""
    marked = sending.mark_read(request.auth, payload.ids)
    return {"marked": marked, "unread": sending.unread_count(request.auth)}


# --- Appealing a decision --------------------------------------------------------------------


@api.post(
    "/moderation-decisions/{decision_id}/appeal",
    response={201: AppealOut, **WRITE_ERRORS},
    auth=AUTH,
    tags=["moderation"],
)
def appeal_decision(
    request: AuthedRequest, decision_id: Path[PathId], payload: AppealIn
) -> Status[dict[str, Any]]:
    """Appeal a decision about you, once (409 ``already_appealed``), with a text; someone
    other than the moderator who decided answers, and you get a notice. A decision that
    does not concern you is not found, as on its page."""
    decision = _decision_or_404(request.auth, decision_id)
    appeal = appeals.appeal(request.auth, decision, payload.text)
    return Status(
        201,
        {
            "id": appeal.pk,
            "decision": decision.pk,
            "text": appeal.text,
            "status": appeal.status,
            "created_at": appeal.created_at,
        },
    )


def _decision_or_404(user: User, decision_id: int) -> Decision:
    """A decision the caller may know of: about them, on a comment they reported, or in a
    consultation they moderate (staff: a site-wide one); as its page says
    (``views.moderation_public``), anyone else is told it does not exist."""
    decision = get_object_or_404(Decision.objects.select_related("consultation"), pk=decision_id)
    if not permissions.can_see_decision(user, decision):
        raise Http404
    return decision
