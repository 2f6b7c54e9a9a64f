"""Loading and shaping, shared by the operations: what the API may serve (never a draft),
and the JSON shape of each thing it shows."""

from typing import Any

from django.http import Http404
from django.shortcuts import get_object_or_404

from accounts.types import Person
from consultation import grades, queries, reads
from consultation.live import counters
from consultation.models import Comment, Consultation, Item
from consultation.queries import DISPLAY_DEPTH

# --- Loading ---------------------------------------------------------------------------------


def consultation_or_404(slug: str) -> Consultation:
    """A consultation by its slug, never a draft (see the package docstring)."""
    consultation = reads.consultation_by_slug(slug, drafts=False)
    if consultation is None:
        raise Http404("No Consultation matches the given query.")
    return consultation


def item_or_404(item_id: int) -> Item:
    """The item with its consultation and theme, never of a draft."""
    item = reads.item_with_consultation(item_id, drafts=False)
    if item is None:
        raise Http404("No Item matches the given query.")
    return item


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
