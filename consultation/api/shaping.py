"""Loading and shaping, shared by the operations: what the API may serve (never a draft),
and the JSON shape of each thing it shows."""

from typing import Any

from django.http import Http404
from django.shortcuts import get_object_or_404

from accounts.types import Person
from config import rows
from consultation import grades, queries
from consultation.live import counters
from consultation.models import Comment, Consultation, Item, Theme
from consultation.queries import DISPLAY_DEPTH

# --- Loading ---------------------------------------------------------------------------------


def consultation_or_404(slug: str) -> Consultation:
    """A consultation by its slug, never a draft (see the package docstring): asked by
    every ballot, so in SQL written by hand (config/rows.py), as
    ``Consultation.objects.visible().get(slug=slug)``."""
    row = rows.fetch_one(_CONSULTATION_BY_SLUG_SQL, [slug, Consultation.Status.DRAFT.value])
    if row is None:
        raise Http404("No Consultation matches the given query.")
    return _CONSULTATION.instance(row)


def item_or_404(item_id: int) -> Item:
    """The item with its consultation and theme, never of a draft: asked by every vote and
    grade, so in SQL written by hand (config/rows.py), as
    ``Item.objects.select_related("consultation", "theme")`` of a visible consultation."""
    row = rows.fetch_one(_ITEM_SQL, [item_id, Consultation.Status.DRAFT.value])
    if row is None:
        raise Http404("No Item matches the given query.")
    item = _ITEM.instance(row)
    item.consultation = _CONSULTATION.instance(row, len(_ITEM))
    if item.theme_id is not None:
        item.theme = _THEME.instance(row, len(_ITEM) + len(_CONSULTATION))
    return item


_ITEM = rows.Columns(Item, "i")
_CONSULTATION = rows.Columns(Consultation, "c")
_THEME = rows.Columns(Theme, "th")
_CONSULTATION_BY_SLUG_SQL = (
    f'SELECT {_CONSULTATION.select} FROM "{Consultation._meta.db_table}" c'  # noqa: S608 (names: the models' own)
    ' WHERE c."slug" = %s AND c."status" <> %s'
)
_ITEM_SQL = (
    f"SELECT {_ITEM.select}, {_CONSULTATION.select}, {_THEME.select}"  # noqa: S608 (names: the models' own)
    f' FROM "{Item._meta.db_table}" i'
    f' INNER JOIN "{Consultation._meta.db_table}" c ON c."id" = i."consultation_id"'
    f' LEFT OUTER JOIN "{Theme._meta.db_table}" th ON th."id" = i."theme_id"'
    ' WHERE i."id" = %s AND c."status" <> %s'
)


def comment_or_404(comment_id: int) -> Comment:
    return get_object_or_404(
        Comment.objects.select_related("item__consultation", "author").filter(
            item__consultation__in=Consultation.objects.visible()
        ),
        pk=comment_id,
    )


# --- Shaping ---------------------------------------------------------------------------------


def summary_out(c: Consultation) -> dict[str, Any]:
    return {
        "slug": c.slug,
        "title": c.display_title,
        "summary": c.display_summary,
        "status": c.status,
        "opens_at": c.opens_at,
        "closes_at": c.closes_at,
        "url": c.get_absolute_url(),
    }


PARTICIPATION_KEYS = ("participants", "votes", "grades", "ballots", "comments")


def participation_out(c: Consultation) -> dict[str, Any]:
    counts, _tallies = counters.shown_counts(c, tallies=False)
    return {key: counts[key] for key in PARTICIPATION_KEYS}


def item_out(item: Item) -> dict[str, Any]:
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


def grade_out(item_id: int, grade: int | None, scale: int) -> dict[str, Any]:
    label = str(grades.labels(scale)[grade]) if grade is not None and grade < scale else None
    return {"item": item_id, "grade": grade, "label": label}


def comment_out(comment: Comment, depth: int, viewer: Person) -> dict[str, Any]:
    """``queries.comment_json`` (the frames' shape), plus what the API reader may ask."""
    return {
        **queries.comment_json(comment),
        "depth": depth,
        "useful_count": getattr(comment, "useful_count", 0),
        "marked_useful": getattr(comment, "marked_useful", False),
        "mine": bool(viewer.is_authenticated and comment.author_id == viewer.pk),
    }


def comment_with_counts(comment: Comment, viewer: Person) -> dict[str, Any]:
    """One comment outside its thread: the same shape, with its display depth."""
    depth, parent_id = 0, comment.parent_id
    while parent_id is not None and depth < DISPLAY_DEPTH:
        depth += 1
        parent_id = Comment.objects.filter(pk=parent_id).values_list("parent", flat=True).first()
    return {
        **comment_out(comment, depth, viewer),
        "useful_count": comment.reactions.count(),
        "marked_useful": bool(
            viewer.is_authenticated and comment.reactions.filter(user=viewer).exists()
        ),
    }
