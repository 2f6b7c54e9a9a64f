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


class UsefulOut(Schema):
    comment: int
    marked_useful: bool
    useful_count: int


ERRORS = {400: ErrorOut, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut}
WRITE_ERRORS = {**ERRORS, 403: ErrorOut, 409: ErrorOut}
