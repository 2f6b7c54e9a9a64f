"""What goes in and comes out of the API: the shapes the OpenAPI schema publishes."""

from datetime import datetime
from typing import Annotated, Literal

from ninja import Field, Query, Schema
from pydantic import AfterValidator, ConfigDict, StrictInt

from config.text import problem

# Ids are positive 64-bit integers: anything larger is refused as bad input before it
# reaches a database that would overflow on it.
MAX_ID = 2**63 - 1
ItemId = Annotated[StrictInt, Field(ge=1, le=MAX_ID)]  # in a JSON body: a number, not "3"
PathId = Annotated[int, Field(ge=1, le=MAX_ID)]  # in a URL: digits


def _multi_line(value: str) -> str:
    # The site's one rule for free text (config.text): no control, bidi-override or
    # other invisible character, whatever field it comes in; tabs and line breaks kept.
    reason = problem(value, multiline=True)
    if reason:
        raise ValueError(reason)
    return value


def _single_line(value: str) -> str:
    reason = problem(value, multiline=False)
    if reason:
        raise ValueError(reason)
    return value


Text = Annotated[str, AfterValidator(_multi_line)]  # e.g. a comment
Slug = Annotated[str, Field(pattern=r"^[-a-zA-Z0-9_]+$", max_length=80)]
SearchWords = Annotated[
    str,
    AfterValidator(_single_line),
    Query("", max_length=200, description="Words to search for"),
]
ThemeSlug = Annotated[
    str, Query("", pattern=r"^[-a-zA-Z0-9_]*$", max_length=60, description="A theme's slug")
]


class ErrorOut(Schema):
    code: str
    detail: str


class Input(Schema):
    model_config = ConfigDict(extra="forbid")


class ThemeOut(Schema):
    slug: str
    name: str


class ModesOut(Schema):
    voting: bool
    grading: bool
    ranking: bool
    comments: bool


class ParticipationOut(Schema):
    participants: int
    votes: int
    grades: int
    ballots: int
    comments: int


class ConsultationSummaryOut(Schema):
    slug: str
    title: str
    summary: str
    status: str
    opens_at: datetime | None
    closes_at: datetime | None
    url: str


class ConsultationOut(ConsultationSummaryOut):
    description: str
    closed_at: datetime | None
    closing_reason: str
    eligibility: str
    accepts_participation: bool
    results_visible: bool
    results_visibility: str
    modes: ModesOut
    ranking_size: int
    grade_scale: int
    grade_labels: list[str] = Field(description="Worst (grade 0) to best.")
    themes: list[ThemeOut]
    participation: ParticipationOut


class ItemOut(Schema):
    id: int
    title: str
    summary: str
    body: str
    theme: str | None
    position: int
    source_reference: str
    url: str


class ResponsesOut(Schema):
    votes: int
    grades: int


SMALL_GROUP = " null when too few to break down (fewer than `min_group`)."


class ItemTallyOut(Schema):
    item: int
    responses: ResponsesOut = Field(description="The item's votes and grades, always given.")
    votes: dict[str, int] | None = Field(
        description='{"for": n, "against": n, "abstain": n};' + SMALL_GROUP
    )
    grades: list[int] | None = Field(
        description="How many gave each grade, worst (0) first;" + SMALL_GROUP
    )
    ranks: list[int] | None = Field(
        description="How many ranked the item 1st, 2nd, …; null while the consultation has"
        " fewer ranking ballots than `min_group`."
    )
    comments: int


class ResultsOut(Schema):
    consultation: str
    status: str
    final: bool
    min_group: int = Field(
        description="Smallest group whose responses are broken down (OPEN_DATA_MIN_GROUP)."
    )
    participation: ParticipationOut
    items: list[ItemTallyOut]


class OpenDataFileOut(Schema):
    name: str
    bytes: int
    sha256: str
    url: str = Field(description="Download address (CSV or JSON).")


class PublicationOut(Schema):
    version: int
    published_at: datetime
    published_by: str = Field(description="The organiser's public name, as published.")
    note: str = Field(description="Why this version was published (empty for the first).")


class PublishedResultsOut(PublicationOut):
    consultation: str
    latest_version: int
    results: dict = Field(
        description="The published results.json (format agora-results/1, docs/open-data.md)."
    )
    files: list[OpenDataFileOut]
    manifest_url: str


class OpenDataOut(Schema):
    consultation: str
    version: int
    manifest: dict = Field(description="manifest.json: every file with its SHA-256.")
    manifest_url: str
    files: list[OpenDataFileOut]


VersionQuery = Annotated[
    int | None, Query(None, ge=1, le=2**31 - 1, description="A published version (default: latest)")
]


class VoteIn(Input):
    choice: Literal["for", "against", "abstain"]


class VoteOut(Schema):
    item: int
    choice: str | None


class GradeIn(Input):
    grade: StrictInt = Field(description="0 (worst) to grade_scale - 1 (best).")


class GradeOut(Schema):
    item: int
    grade: int | None
    label: str | None


class BallotIn(Input):
    items: list[ItemId] = Field(description="Item ids, first choice first; at most K.")


class BallotOut(Schema):
    consultation: str
    items: list[int]


class MyParticipationOut(Schema):
    consultation: str
    votes: list[VoteOut]
    grades: list[GradeOut]
    ballot: list[int]
    comments: list[int]


class CommentIn(Input):
    body: Text
    stance: Literal["for", "neutral", "against"] = "neutral"
    parent: ItemId | None = None


class CommentChangeIn(Input):
    body: Text | None = None
    stance: Literal["for", "neutral", "against"] | None = None


class CommentOut(Schema):
    id: int
    item: int
    parent: int | None
    depth: int
    stance: str
    body: str
    author: str | None = Field(description="The author's public display name.")
    created_at: datetime
    edited_at: datetime | None
    deleted: bool
    useful_count: int
    marked_useful: bool
    mine: bool


class ThreadCommentOut(CommentOut):
    reply_count: int | None = Field(
        None, description="A thread's root: its replies at every depth (null on the others)."
    )
    more_replies: str | None = Field(
        None,
        description="A thread's root: the cursor of its replies after those in this page, "
        "if any (pass it as `cursor`).",
    )


class CommentPageOut(Schema):
    comments: list[ThreadCommentOut]
    next: str | None = Field(description="The cursor of the next page, null on the last.")
    previous: str | None = Field(description="The cursor of the page before, null on the first.")


# A page of the debate as ``GET /items/{id}/comments`` reads it
# (consultation.participation.thread_pages).
ThreadCursor = Annotated[
    str | None,
    Query(None, max_length=500, description="`next`, `previous` or `more_replies` of a page"),
]
ThreadLimit = Annotated[
    int | None,
    Query(
        None,
        ge=1,
        le=50,
        description="Threads per page (20 if not given), or replies with a `more_replies` cursor",
    ),
]


class UsefulOut(Schema):
    comment: int
    marked_useful: bool
    useful_count: int


# --- Moderation (consultation/api/moderating.py) ---------------------------------------------

# The charter's rules (consultation.models.Rule), in the charter's order: rule n is the n-th.
RuleCode = Literal["insult", "hate", "spam", "off_topic", "personal_data", "illegal", "other"]


class ReportIn(Input):
    rule: RuleCode = Field(description="The charter rule the comment breaks.")
    text: Text = Field("", description="A few words; required for rule `other`.")


class ReportOut(Schema):
    id: int
    comment: int
    rule: str
    rule_number: int
    text: str
    status: str = Field(description="open, then upheld or dismissed.")
    created_at: datetime


class ModerationLogEntryOut(Schema):
    decision: int
    date: datetime
    action: str = Field(
        description="hide, restore, dismiss, lock, unlock, warn, suspend, lift, appeal_granted, "
        "appeal_rejected."
    )
    rule: str
    rule_number: int
    charter_version: int = Field(description="The charter version cited (0: the default).")
    role: str = Field(description="Who decided, by role: moderator, organiser or staff.")
    item: int | None
    comment: int | None
    appeal: str | None = Field(description="The outcome of an appeal against it, if any.")
    answers_decision: int | None = Field(description="For an appeal's outcome: the decision.")


class ModerationSummaryOut(Schema):
    decisions: int
    per_rule: dict[str, int]
    per_action: dict[str, int]
    median_hours_to_decision: float | None = Field(
        description="From a comment's first report to the decision on it."
    )
    decided_reports: int = Field(description="Reported comments the median is taken over.")


class ModerationLogOut(Schema):
    consultation: str
    entries: list[ModerationLogEntryOut]
    summary: ModerationSummaryOut


class AppealIn(Input):
    # Required (422 ``text_required``), but checked after whether the decision concerns the
    # caller: a decision about someone else is not found, whatever the body.
    text: Text = Field("", description="Why the decision is wrong (required).")


class AppealOut(Schema):
    id: int
    decision: int
    text: str
    status: str = Field(description="pending, then granted or rejected.")
    created_at: datetime


class NoticeOut(Schema):
    id: int
    kind: str = Field(description="moderation, appeal or report.")
    consultation: str | None
    title: str = Field(description="Worded in the request's language.")
    lines: list[str]
    data: dict = Field(description="The facts the notice is worded from.")
    url: str
    created_at: datetime
    read_at: datetime | None


class NoticesOut(Schema):
    count: int
    unread: int
    page: int
    pages: int
    page_size: int
    notices: list[NoticeOut] = Field(description="Newest first.")


PageQuery = Annotated[int, Query(1, ge=1, le=2**31 - 1, description="Page number, from 1")]
PageSizeQuery = Annotated[int, Query(30, ge=1, le=100, description="Notices per page")]


class NoticesReadIn(Input):
    ids: list[ItemId] | None = Field(
        None, max_length=1000, description="The notices to mark read; all of them if absent."
    )


class NoticesReadOut(Schema):
    marked: int
    unread: int


ERRORS = {400: ErrorOut, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut}
WRITE_ERRORS = {**ERRORS, 403: ErrorOut, 409: ErrorOut}
