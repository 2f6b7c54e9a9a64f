"""Reads that span models: tallies, participation figures, threads, a citizen's record.

Aggregates only: nothing here tells anyone how a given person voted, except
``my_participation``, which answers that person alone.
"""

import re
import unicodedata
from collections import Counter, defaultdict
from typing import Any

from django.db.models import Count

from accounts.models import User
from accounts.types import Person
from consultation.models import Ballot, BallotEntry, Comment, Consultation, Grade, Item, Vote

# Replies deeper than this are shown at this depth (still as replies to their parent).
DISPLAY_DEPTH = 4


def participant_ids(consultation: Consultation) -> set[int]:
    """Everyone who voted, graded, ranked or commented (anonymised ballots excluded)."""
    items = Item.objects.filter(consultation=consultation)
    people: set[int] = set()
    for rows in (
        Vote.objects.filter(item__in=items, user__isnull=False).values_list("user", flat=True),
        Grade.objects.filter(item__in=items, user__isnull=False).values_list("user", flat=True),
        Ballot.objects.filter(consultation=consultation, user__isnull=False).values_list(
            "user", flat=True
        ),
        Comment.objects.filter(item__in=items, author__isnull=False).values_list(
            "author", flat=True
        ),
    ):
        people.update(rows.distinct())
    return people


def participation_counts(consultation: Consultation) -> dict[str, int]:
    """Public at every phase: how many people took part, not how."""
    items = Item.objects.filter(consultation=consultation)
    return {
        "participants": len(participant_ids(consultation)),
        "votes": Vote.objects.filter(item__in=items).count(),
        "grades": Grade.objects.filter(item__in=items).count(),
        "ballots": Ballot.objects.filter(consultation=consultation).count(),
        "comments": Comment.objects.filter(item__in=items, deleted_at__isnull=True).count(),
    }


def item_tallies(consultation: Consultation) -> dict[int, dict[str, Any]]:
    """Per item: vote counts, grade distribution, and how often it was ranked at each rank."""
    tallies: dict[int, dict[str, Any]] = {
        pk: {
            "votes": {"for": 0, "against": 0, "abstain": 0},
            "grades": [0] * consultation.grade_scale,
            "ranks": [0] * consultation.ranking_size,
            "comments": 0,
        }
        for pk in consultation.items.values_list("pk", flat=True)
    }
    for vote in (
        Vote.objects.filter(item__consultation=consultation)
        .values("item", "choice")
        .annotate(n=Count("id"))
    ):
        tallies[vote["item"]]["votes"][vote["choice"]] = vote["n"]
    for grade in (
        Grade.objects.filter(item__consultation=consultation)
        .values("item", "grade")
        .annotate(n=Count("id"))
    ):
        if grade["grade"] < consultation.grade_scale:
            tallies[grade["item"]]["grades"][grade["grade"]] = grade["n"]
    for entry in (
        BallotEntry.objects.filter(ballot__consultation=consultation)
        .values("item", "rank")
        .annotate(n=Count("id"))
    ):
        if entry["rank"] <= consultation.ranking_size:
            tallies[entry["item"]]["ranks"][entry["rank"] - 1] = entry["n"]
    for comments in (
        Comment.objects.filter(item__consultation=consultation, deleted_at__isnull=True)
        .values("item")
        .annotate(n=Count("id"))
    ):
        tallies[comments["item"]]["comments"] = comments["n"]
    return tallies


def comment_counts(consultation: Consultation) -> dict[int, int]:
    rows = (
        Comment.objects.filter(item__consultation=consultation, deleted_at__isnull=True)
        .values("item")
        .annotate(n=Count("id"))
    )
    return {row["item"]: row["n"] for row in rows}


SORTS = {
    "newest": lambda c: (-c.created_at.timestamp(), -c.pk),
    "oldest": lambda c: (c.created_at.timestamp(), c.pk),
    "useful": lambda c: (-c.useful_count, -c.created_at.timestamp()),
}
STANCE_ORDER = {"for": 0, "against": 1, "neutral": 2}


def comment_thread(
    item: Item, *, sort: str = "newest", stance: str | None = None, viewer: Person | None = None
) -> list[tuple[Comment, int]]:
    """Top-level comments (sorted) each with ``.children``, depth capped for display.

    Returns a flat list of (comment, depth) pairs in display order, with
    ``comment.useful_count`` and ``comment.marked_useful`` (by ``viewer``) set.
    """
    comments = list(
        Comment.objects.filter(item=item)
        .select_related("author")
        .annotate(useful_count=Count("reactions", distinct=True))
    )
    marked: set[int] = set()
    if viewer is not None and viewer.is_authenticated:
        marked = set(item.comments.filter(reactions__user=viewer).values_list("pk", flat=True))
    children: defaultdict[int, list[Comment]] = defaultdict(list)
    roots: list[Comment] = []
    for comment in comments:
        comment.marked_useful = comment.pk in marked
        (children[comment.parent_id] if comment.parent_id else roots).append(comment)
    key = SORTS.get(sort, SORTS["newest"])
    if stance in STANCE_ORDER:
        roots = [c for c in roots if c.stance == stance]
    roots.sort(key=key)
    ordered: list[tuple[Comment, int]] = []

    def walk(comment: Comment, depth: int) -> None:
        ordered.append((comment, min(depth, DISPLAY_DEPTH)))
        for child in sorted(children[comment.pk], key=SORTS["oldest"]):
            walk(child, depth + 1)

    for root in roots:
        walk(root, 0)
    return ordered


def stance_counts(item: Item) -> dict[str, int]:
    counts = Counter(
        item.comments.filter(parent__isnull=True, deleted_at__isnull=True).values_list(
            "stance", flat=True
        )
    )
    return {stance: counts.get(stance, 0) for stance in ("for", "neutral", "against")}


MAX_SEARCH_WORDS = 8
# The combining marks of Latin scripts (accents, cedillas...): almost every mark NFKD
# separates from a French, English or other European letter is in this block.
_COMMON_MARKS = re.compile("[\u0300-\u034e\u0350-\u036f]+")  # not U+034F, a joiner


def fold(text: str) -> str:
    """Lower case without accents, ligatures spelled out: "NUMÉRIQUE", "Numérique" and
    "numerique" all fold to "numerique", "Œuvre" to "oeuvre".

    Every combining mark goes (``unicodedata.combining``). It runs over every comment of
    an item when a debate is searched, so it stays in C: ASCII text is only case-folded,
    the common marks go with one regular expression, and the rare other marks (Greek,
    Hebrew, Devanagari...) are looked for among the distinct characters left."""
    folded = text.casefold()
    if folded.isascii():
        return folded
    # Letters that NFKD leaves whole but a French reader expects to match their spelling out.
    folded = folded.replace("œ", "oe").replace("æ", "ae")
    folded = _COMMON_MARKS.sub("", unicodedata.normalize("NFKD", folded))
    if not folded.isascii():
        marks = {char for char in set(folded) if unicodedata.combining(char)}
        if marks:
            folded = "".join(char for char in folded if char not in marks)
    return folded


def search_items(consultation: Consultation, *, query: str = "", theme: str = "") -> list[Item]:
    """The consultation's items (of ``theme``) that contain every word of ``query``, in
    their title, summary (French or English) or body, ignoring case and accents.

    Folding is done here, in Python, so that both databases agree: SQLite's LIKE folds
    ASCII letters only and neither folds accents. A consultation has tens to a few
    hundred items, so reading them all is cheap, and it needs no index to maintain.
    """
    items = consultation.items.select_related("theme")
    if theme:
        items = items.filter(theme__slug=theme)
    words = [fold(word) for word in query.split()[:MAX_SEARCH_WORDS]]
    if not words:
        return list(items)

    found = []
    for item in items:
        text = fold(" ".join((item.title, item.title_en, item.summary, item.summary_en, item.body)))
        if all(word in text for word in words):
            found.append(item)
    return found


def progress(user: Person, consultation: Consultation) -> dict[str, Any] | None:
    """How far ``user`` has gone through this consultation, for their eyes only: their
    vote on each item (``votes``: item id → choice), how many items they graded, and
    whether their ranking is saved. None for a visitor. Three queries."""
    if not user.is_authenticated:
        return None
    votes = dict(
        Vote.objects.filter(item__consultation=consultation, user=user).values_list(
            "item_id", "choice"
        )
    )
    graded = Grade.objects.filter(item__consultation=consultation, user=user).count()
    ranked = Ballot.objects.filter(consultation=consultation, user=user).exists()
    return {"votes": votes, "voted": len(votes), "graded": graded, "ranked": ranked}


def my_participation(user: User) -> list[dict[str, Any]]:
    """Everything ``user`` did, grouped by consultation: for their eyes only."""
    by_consultation: dict[int, dict[str, Any]] = {}

    def entry(consultation: Consultation) -> dict[str, Any]:
        return by_consultation.setdefault(
            consultation.pk,
            {
                "consultation": consultation,
                "votes": [],
                "grades": [],
                "ballot": None,
                "comments": [],
            },
        )

    for vote in (
        Vote.objects.filter(user=user)
        .select_related("item__consultation")
        .order_by("item__position")
    ):
        entry(vote.item.consultation)["votes"].append(vote)
    for grade in (
        Grade.objects.filter(user=user)
        .select_related("item__consultation")
        .order_by("item__position")
    ):
        entry(grade.item.consultation)["grades"].append(grade)
    for ballot in (
        Ballot.objects.filter(user=user)
        .select_related("consultation")
        .prefetch_related("entries__item")
    ):
        entry(ballot.consultation)["ballot"] = ballot
    for comment in (
        Comment.objects.filter(author=user, deleted_at__isnull=True)
        .select_related("item__consultation")
        .order_by("-created_at")
    ):
        entry(comment.item.consultation)["comments"].append(comment)
    return list(by_consultation.values())


# --- One shape per thing shown (the websocket frames and the API use the same) -----------


def comment_json(comment: Comment) -> dict[str, Any]:
    """A comment as the debate frames and the API show it: plain JSON, a deleted comment
    keeping its place with neither text nor author, a hidden or held one keeping its
    author but not its text, with the moderation state (and a hidden one's rule)."""
    deleted = comment.is_deleted
    return {
        "id": comment.pk,
        "item": comment.item_id,
        "parent": comment.parent_id,
        "stance": comment.stance,
        "author": None if deleted or comment.author is None else comment.author.display_name,
        "body": "" if deleted or comment.is_withheld else comment.body,
        "created_at": comment.created_at.isoformat(),
        "edited_at": comment.edited_at.isoformat() if comment.edited_at else None,
        "deleted": deleted,
        "moderation": {
            "state": comment.moderation,
            "rule": comment.hidden_rule or None,
            "rule_number": comment.hidden_rule_number,
            "locked": comment.locked_at is not None,
        },
    }
