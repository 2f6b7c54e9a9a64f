"""Template helpers for following: whether the visitor follows a consultation, an item or
a comment's thread, read once per page (one query per consultation shown)."""

from dataclasses import dataclass, field

from django import template
from django.http import HttpRequest

from consultation.models import Comment, Consultation, Item
from consultation.notices import follows

register = template.Library()


@dataclass
class _Page:
    """The visitor's follows in one consultation, and the comments already shown as
    followed (directly or through an earlier comment of their thread)."""

    rows: dict[tuple[str, int | None], bool]
    threads: dict[int, bool] = field(default_factory=dict)


def _page(context: template.Context, consultation: Consultation) -> _Page | None:
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return None
    request: HttpRequest | None = context.get("request")
    cache: dict[int, _Page] = {}
    if request is not None:
        cache = request.__dict__.setdefault("_agora_follow_states", {})
    if consultation.pk not in cache:
        cache[consultation.pk] = _Page(follows.states(user, consultation))
    return cache[consultation.pk]


@register.simple_tag(takes_context=True)
def follow_state(
    context: template.Context,
    consultation: Consultation,
    item: Item | None = None,
    comment: Comment | None = None,
) -> dict[str, bool]:
    """``{"following": …, "in_thread": …}``: whether the visitor follows this thing
    itself, and (for a comment) whether they follow an earlier comment of its thread
    shown above it on the page, which covers it already."""
    page = _page(context, consultation)
    if page is None:
        return {"following": False, "in_thread": False}
    if comment is not None:
        own = page.rows.get(("comment", comment.pk), False)
        inherited = bool(comment.parent_id and page.threads.get(comment.parent_id))
        page.threads[comment.pk] = own or inherited
        return {"following": own, "in_thread": inherited and not own}
    if item is not None:
        return {"following": page.rows.get(("item", item.pk), False), "in_thread": False}
    return {"following": page.rows.get(("consultation", None), False), "in_thread": False}
