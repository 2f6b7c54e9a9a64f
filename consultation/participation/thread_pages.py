"""An item's debate a page at a time: threads (a top-level comment with its replies) in
pages of a bounded size, sorted, searchable, in a fixed number of queries per page.

- **Pages of threads.** A page holds at most ``limit`` top-level comments ("roots"), in the
  order of ``sort``: ``newest`` (the default), ``oldest``, ``useful`` (most "useful"
  marks) or ``replies`` (most replies, at every depth). The page after (or before) is
  named by an opaque cursor: the sort key and id of the last (or first) root shown, signed
  with the site's key (``thread_cursors``). Comments posted meanwhile do not shift the
  pages (keyset pagination): a new comment is never shown twice nor makes another one
  skipped.
- **Replies with their root.** Under each root, its replies come in display order (each
  after its parent, siblings oldest first, the depth capped at
  ``queries.DISPLAY_DEPTH``): the first ``REPLY_PREVIEW`` on a page of threads, then
  ``REPLY_PAGE`` at a time when a reader asks for more (a replies cursor: the last reply
  shown). A window that does not start at the first reply is preceded by the replies it
  answers, so that every reply shown has its parent on the page (``thread_trees``).
- **A comment's page.** ``focus`` gives the page that starts with the comment's thread,
  its replies shown from that comment (a link to ``#comment-<id>`` from anywhere, the
  redirect after a post).
- **Search.** ``query`` finds the comments (roots and replies) whose text holds every
  word, ignoring case and accents (``thread_search``). The matches come one by one (no
  replies), in the same sorts and pages. Deleted and withheld (held or hidden) comments
  are never searched.

Queries per page, whatever the number of comments: the roots (with their "useful" counts),
the replies under them (one recursive query, ids only), those shown, and the reader's
own marks. The ``replies`` sort first counts the replies of every root in one recursive
query (its pages are then cut in Python); a comment's page adds at most three (its
thread's root, that root's key, whether a page comes before).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from accounts.types import Person
from consultation.models import Comment, CommentReaction, Item
from consultation.participation import thread_search, thread_trees
from consultation.participation.thread_cursors import (
    ORDERS,
    ReplyPosition,
    bad_cursor,
    beyond,
    ordering,
    page_cursor,
    page_token,
    replies_cursor,
    replies_token,
    sort_key,
)
from consultation.queries import DISPLAY_DEPTH

PAGE_SIZE = 20  # threads per page
MAX_PAGE_SIZE = 50
REPLY_PREVIEW = 5  # replies under each thread of a page
REPLY_PAGE = 50  # replies when a reader asks for more of one thread


# --- What a page holds ----------------------------------------------------------------


@dataclass
class Thread:
    """A root and the window of its replies shown (or, in a search, one match alone)."""

    root: Comment
    # The root first, then the replies shown, in display order, with their display depth.
    comments: list[tuple[Comment, int]]
    reply_count: int = 0  # every reply under the root, at any depth
    earlier: str | None = None  # replies cursor for the replies before the window
    more: str | None = None  # replies cursor for those after it
    more_count: int = 0  # how many come after it
    next_reply_id: int | None = None  # the first of them


@dataclass
class Page:
    sort: str
    threads: list[Thread] = field(default_factory=list)
    next: str | None = None
    previous: str | None = None
    search: bool = False  # a flat list of matches rather than threads

    def pairs(self) -> list[tuple[Comment, int]]:
        """(comment, display depth) in display order, every thread after the other."""
        return [pair for thread in self.threads for pair in thread.comments]


@dataclass
class Replies:
    """A window of one thread's replies, read on their own (the API's replies cursor)."""

    root: Comment
    comments: list[tuple[Comment, int]]
    next: str | None = None
    previous: str | None = None


# --- The queries ------------------------------------------------------------------------


def _useful_count() -> Coalesce:
    marks = (
        CommentReaction.objects.filter(comment=OuterRef("pk"))
        .order_by()
        .values("comment")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    return Coalesce(Subquery(marks), 0, output_field=IntegerField())


def _shown(queryset: QuerySet[Comment]) -> QuerySet[Comment]:
    """What every comment shown needs: its author and its "useful" count."""
    return queryset.select_related("author").annotate(useful_count=_useful_count())


def _load(ids: list[int]) -> dict[int, Comment]:
    if not ids:
        return {}
    return {comment.pk: comment for comment in _shown(Comment.objects.filter(pk__in=ids))}


def _mark(comments: list[Comment], viewer: Person | None) -> None:
    marked: set[int] = set()
    if viewer is not None and viewer.is_authenticated and comments:
        marked = set(
            CommentReaction.objects.filter(
                user=viewer, comment_id__in=[comment.pk for comment in comments]
            ).values_list("comment_id", flat=True)
        )
    for comment in comments:
        comment.marked_useful = comment.pk in marked


def page(
    item: Item,
    *,
    sort: str = "newest",
    stance: str | None = None,
    query: str = "",
    cursor: str | None = None,
    replies: str | None = None,
    focus: int | None = None,
    limit: int = PAGE_SIZE,
    preview: int = REPLY_PREVIEW,
    viewer: Person | None = None,
) -> Page:
    """A page of ``item``'s debate (see the module's docstring).

    ``cursor`` (a page cursor of this sort) and ``replies`` (a replies cursor for one of
    the page's roots) come from an earlier page; ``focus`` (a comment id) gives the page
    of that comment, whatever the search and stance (its thread's replies from that
    comment on, unless ``replies`` names another window of that thread). A cursor that is
    not valid, or a comment not of this item, is ``Invalid``: ``bad_cursor``,
    ``unknown_comment``."""
    sort = sort if sort in ORDERS else "newest"
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    position = page_cursor(cursor, sort) if cursor else None
    windows_asked: dict[int, ReplyPosition] = {}
    if replies:
        asked = replies_cursor(replies)
        windows_asked[asked.root_id] = asked
    focus_ids = thread_trees.focus(item, focus) if focus is not None else None
    words = thread_search.search_words(query) if focus_ids is None else []

    base: QuerySet[Comment] = Comment.objects.filter(item=item)
    # A search lists the matches one by one; otherwise a page lists roots.
    base = thread_search.matching(base, words) if words else base.filter(parent__isnull=True)
    if stance in Comment.Stance.values and focus_ids is None:
        base = base.filter(stance=stance)
    rows = _shown(base)
    if focus_ids is not None:
        windows_asked.setdefault(focus_ids[0], ReplyPosition(focus_ids[0], at=focus_ids[1]))

    has_previous = has_next = False
    if sort == "replies":
        keys, has_previous, has_next = thread_trees.choose_by_replies(
            thread_trees.reply_keys(base), position, focus_ids[0] if focus_ids else None, limit
        )
        loaded_roots = {comment.pk: comment for comment in rows.filter(pk__in=[k[1] for k in keys])}
        roots = []
        for count, pk in keys:
            loaded_roots[pk].reply_count = count  # type: ignore[attr-defined]  # its sort key
            roots.append(loaded_roots[pk])
    elif focus_ids is not None:
        root = rows.get(pk=focus_ids[0])
        key = sort_key(root, sort)
        roots = list(
            rows.filter(beyond(sort, key, forward=True, inclusive=True)).order_by(
                *ordering(sort, forward=True)
            )[: limit + 1]
        )
        has_previous = rows.filter(beyond(sort, key, forward=False)).exists()
        has_next, roots = len(roots) > limit, roots[:limit]
    elif position is not None and not position.forward:
        roots = list(
            rows.filter(beyond(sort, position.key, forward=False)).order_by(
                *ordering(sort, forward=False)
            )[: limit + 1]
        )
        has_previous, has_next = len(roots) > limit, True
        roots = roots[:limit][::-1]
    else:
        if position is not None:
            rows = rows.filter(beyond(sort, position.key, forward=True))
            has_previous = True
        roots = list(rows.order_by(*ordering(sort, forward=True))[: limit + 1])
        has_next, roots = len(roots) > limit, roots[:limit]

    result = Page(sort=sort, search=bool(words))
    if roots:
        result.next = page_token(sort, roots[-1], forward=True) if has_next else None
        result.previous = page_token(sort, roots[0], forward=False) if has_previous else None
    if words:
        result.threads = [Thread(root=comment, comments=[(comment, 0)]) for comment in roots]
        _mark(roots, viewer)
        return result

    under = thread_trees.replies_under([root.pk for root in roots])
    windows = {
        pk: thread_trees.window(under[pk], windows_asked.get(pk), preview, REPLY_PAGE)
        for pk in under
    }
    loaded = _load([light.id for shown, _s, _e in windows.values() for light in shown])
    for root in roots:
        shown, start, end = windows[root.pk]
        replies_of_root = under[root.pk]
        thread = Thread(
            root=root,
            comments=[(root, 0)]
            + [(loaded[light.id], min(light.depth, DISPLAY_DEPTH)) for light in shown],
            reply_count=len(replies_of_root),
            more_count=len(replies_of_root) - end,
        )
        if start > 0:
            thread.earlier = replies_token(root.pk, b=replies_of_root[start].id)
        if end < len(replies_of_root):
            thread.more = replies_token(root.pk, a=replies_of_root[end - 1].id)
            thread.next_reply_id = replies_of_root[end].id
        result.threads.append(thread)
    _mark([comment for comment, _depth in result.pairs()], viewer)
    return result


def replies_page(
    item: Item, token: str, *, limit: int = REPLY_PAGE, viewer: Person | None = None
) -> Replies:
    """A window of one thread's replies (``limit`` of them), from a replies cursor."""
    position = replies_cursor(token)
    root = _shown(Comment.objects.filter(item=item, parent__isnull=True)).filter(
        pk=position.root_id
    )
    found = root.first()
    if found is None:
        raise bad_cursor()
    replies_of_root = thread_trees.replies_under([found.pk])[found.pk]
    size = max(1, min(limit, MAX_PAGE_SIZE))
    shown, start, end = thread_trees.window(replies_of_root, position, size, size)
    window = shown[len(shown) - (end - start) :]  # without the replies they answer
    loaded = _load([light.id for light in window])
    comments = [(loaded[light.id], min(light.depth, DISPLAY_DEPTH)) for light in window]
    _mark([comment for comment, _depth in comments], viewer)
    return Replies(
        root=found,
        comments=comments,
        next=replies_token(found.pk, a=replies_of_root[end - 1].id)
        if end < len(replies_of_root)
        else None,
        previous=replies_token(found.pk, b=replies_of_root[start].id) if start > 0 else None,
    )
