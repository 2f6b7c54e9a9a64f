"""An item's debate a page at a time: threads (a top-level comment with its replies) in
pages of a bounded size, sorted, searchable, in a fixed number of queries per page.

- **Pages of threads.** A page holds at most ``limit`` top-level comments ("roots"), in the
  order of ``sort``: ``newest`` (the default), ``oldest``, ``useful`` (most "useful"
  marks) or ``replies`` (most replies, at every depth). The page after (or before) is
  named by an opaque cursor: the sort key and id of the last (or first) root shown, signed
  with the site's key. Comments posted meanwhile do not shift the pages (keyset
  pagination): a new comment is never shown twice nor makes another one skipped.
- **Replies with their root.** Under each root, its replies come in display order (each
  after its parent, siblings oldest first, the depth capped at
  ``queries.DISPLAY_DEPTH``): the first ``REPLY_PREVIEW`` on a page of threads, then
  ``REPLY_PAGE`` at a time when a reader asks for more (a replies cursor: the last reply
  shown). A window that does not start at the first reply is preceded by the replies it
  answers, so that every reply shown has its parent on the page.
- **A comment's page.** ``focus`` gives the page that starts with the comment's thread,
  its replies shown from that comment (a link to ``#comment-<id>`` from anywhere, the
  redirect after a post).
- **Search.** ``query`` finds the comments (roots and replies) whose text holds every
  word, ignoring case and accents, as ``queries.fold`` does: folded in the database
  (SQLite calls ``fold`` itself; PostgreSQL spells it in SQL), so a page still reads one
  page of rows. The matches come one by one (no replies), in the same sorts and pages.
  Deleted and withheld (held or hidden) comments are never searched.

Queries per page, whatever the number of comments: the roots (with their "useful" counts),
the replies under them (one recursive query, ids only), those shown, and the reader's
own marks. The ``replies`` sort first counts the replies of every root in one recursive
query (its pages are then cut in Python); a comment's page adds at most three (its
thread's root, that root's key, whether a page comes before).
"""

from __future__ import annotations

import operator
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from functools import reduce
from typing import Any

from django.core import signing
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Count, Func, IntegerField, OuterRef, Q, QuerySet, Subquery, TextField
from django.db.models.functions import Coalesce
from django.db.models.sql.compiler import SQLCompiler
from django.utils.translation import gettext_lazy as _

from accounts.types import Person
from consultation.errors import Invalid
from consultation.models import Comment, CommentReaction, Item
from consultation.queries import DISPLAY_DEPTH, MAX_SEARCH_WORDS, fold

PAGE_SIZE = 20  # threads per page
MAX_PAGE_SIZE = 50
REPLY_PREVIEW = 5  # replies under each thread of a page
REPLY_PAGE = 50  # replies when a reader asks for more of one thread
MAX_DEPTH = 1000  # a guard for the recursive queries: no thread is this deep
SORTS = ("newest", "oldest", "useful", "replies")
MAX_CURSOR_LENGTH = 500
_SALT = "consultation.thread_pages"

# Each sort: the fields of its key, each with whether it goes down (most, newest first).
_ORDERS: dict[str, tuple[tuple[str, bool], ...]] = {
    "newest": (("created_at", True), ("id", True)),
    "oldest": (("created_at", False), ("id", False)),
    "useful": (("useful_count", True), ("created_at", True), ("id", True)),
    "replies": (("reply_count", True), ("id", True)),  # see _reply_keys
}


def bad_cursor() -> Invalid:
    return Invalid(
        "bad_cursor",
        _("This link to a page of comments is not valid (any more): start from the first page."),
    )


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


# --- Cursors ------------------------------------------------------------------------------


def _sign(payload: dict[str, Any]) -> str:
    return signing.dumps({"v": 1, **payload}, salt=_SALT, compress=False)


def _unsign(token: str) -> dict[str, Any]:
    if not token or len(token) > MAX_CURSOR_LENGTH:
        raise bad_cursor()
    try:
        payload = signing.loads(token, salt=_SALT)
    except (signing.BadSignature, ValueError, TypeError, UnicodeError):
        raise bad_cursor() from None
    if not isinstance(payload, dict) or payload.get("v") != 1:
        raise bad_cursor()
    return payload


def _is_id(value: object) -> bool:
    return type(value) is int and 1 <= value < 2**63


def _key(comment: Comment, sort: str) -> list[Any]:
    return [getattr(comment, name) for name, _down in _ORDERS[sort]]


def _key_of(comment: Comment, sort: str) -> list[Any]:
    """The key as JSON: dates in ISO 8601."""
    return [v.isoformat() if isinstance(v, datetime) else v for v in _key(comment, sort)]


def _parse_key(raw: object, sort: str) -> list[Any]:
    fields = _ORDERS[sort]
    if not isinstance(raw, list) or len(raw) != len(fields):
        raise bad_cursor()
    key: list[Any] = []
    for (name, _down), value in zip(fields, raw, strict=True):
        if name == "created_at":
            try:
                moment = datetime.fromisoformat(value) if isinstance(value, str) else None
            except ValueError:
                moment = None
            if moment is None or moment.tzinfo is None:
                raise bad_cursor()
            key.append(moment)
        elif name == "id":
            if not _is_id(value):
                raise bad_cursor()
            key.append(value)
        elif type(value) is int and 0 <= value < 2**63:
            key.append(value)
        else:
            raise bad_cursor()
    return key


@dataclass
class Position:
    """Where a page starts: after (or before) a root's key, in one sort."""

    sort: str
    key: list[Any]
    forward: bool


def page_cursor(token: str, sort: str) -> Position:
    """The position a page cursor names; ``Invalid("bad_cursor")`` if it names none, or
    was made for another sort."""
    payload = _unsign(token)
    if payload.get("t") != "p" or payload.get("s") != sort or payload.get("d") not in ("a", "b"):
        raise bad_cursor()
    return Position(sort, _parse_key(payload.get("k"), sort), forward=payload["d"] == "a")


@dataclass
class ReplyPosition:
    """A window of one root's replies: after or before a reply, or from one reply on."""

    root_id: int
    after: int | None = None
    before: int | None = None
    at: int | None = None


def replies_cursor(token: str) -> ReplyPosition:
    payload = _unsign(token)
    if payload.get("t") != "r" or not _is_id(payload.get("r")):
        raise bad_cursor()
    marks = {name: payload.get(name) for name in ("a", "b") if name in payload}
    if len(marks) != 1 or not all(_is_id(value) for value in marks.values()):
        raise bad_cursor()
    return ReplyPosition(payload["r"], after=marks.get("a"), before=marks.get("b"))


def is_replies_cursor(token: str) -> bool:
    """Whether ``token`` (a valid cursor) names a window of replies rather than a page."""
    return _unsign(token).get("t") == "r"


def _page_token(sort: str, comment: Comment, *, forward: bool) -> str:
    return _sign({"t": "p", "s": sort, "d": "a" if forward else "b", "k": _key_of(comment, sort)})


def _replies_token(root_id: int, **mark: int) -> str:
    return _sign({"t": "r", "r": root_id, **mark})


# --- Folding text in the database ---------------------------------------------------------

_SQLITE_FOLD = "agora_fold"
# queries.fold in PostgreSQL's words: NFKD, combining marks (their main blocks) dropped,
# lower case, ligatures spelled out.
_POSTGRES_FOLD = (
    "replace(replace(replace(lower(regexp_replace(normalize(%(expressions)s, NFKD), "
    r"'[\u0300-\u034e\u0350-\u036f\u0483-\u0489\u0591-\u05bd\u1ab0-\u1aff\u1dc0-\u1dff"
    r"\u20d0-\u20f0\ufe20-\ufe2f]', '', 'g')), 'œ', 'oe'), 'æ', 'ae'), 'ß', 'ss')"
)


# SQLite calls ``fold`` (Python) on every comment a search reads: the folded texts are
# kept, up to this many characters of text (about 30 MB at most), then forgotten all at
# once, so that paging through a search, or searching the same debate again, folds no
# text twice. Keyed by the text itself: an edited comment is simply another text.
FOLD_CACHE_CHARS = 8_000_000
_folded: dict[str, str] = {}
_folded_chars = 0


def _sqlite_fold(text: str | None) -> str | None:
    global _folded_chars
    if text is None:
        return None
    folded = _folded.get(text)
    if folded is None:
        folded = fold(text)
        if _folded_chars + len(text) > FOLD_CACHE_CHARS:
            _folded.clear()
            _folded_chars = 0
        _folded[text] = folded
        _folded_chars += len(text)
    return folded


def forget_folded_texts() -> None:
    """Empty the SQLite search's cache of folded texts (for benchmarks and tests)."""
    global _folded_chars
    _folded.clear()
    _folded_chars = 0


class Folded(Func):
    """``queries.fold`` of a text column, computed by the database."""

    function = "LOWER"  # elsewhere: case only
    arity = 1
    output_field = TextField()

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> Any:
        # Registered on the connection that is about to run the query (cheap, idempotent).
        connection.ensure_connection()
        connection.connection.create_function(_SQLITE_FOLD, 1, _sqlite_fold, deterministic=True)
        return self.as_sql(compiler, connection, function=_SQLITE_FOLD, **extra)

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> Any:
        return self.as_sql(compiler, connection, template=_POSTGRES_FOLD, **extra)


def search_words(query: str) -> list[str]:
    """The folded words of ``query`` (at most ``MAX_SEARCH_WORDS``, none repeated)."""
    words: list[str] = []
    for word in query.split()[:MAX_SEARCH_WORDS]:
        folded = fold(word)
        if folded and folded not in words:
            words.append(folded)
    return words


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


def _table() -> str:
    return connections[Comment.objects.db].ops.quote_name(Comment._meta.db_table)


def _reply_keys(base: QuerySet[Comment]) -> list[tuple[int, int]]:
    """(replies at every depth, id) of each comment ``base`` selects, in one recursive
    query over their threads (a correlated count per comment would run it once per
    comment). Ids, not dates, break the ties: they grow with time as dates do, and this
    reads no column but ids."""
    anchors, params = base.order_by().values("pk").query.sql_with_params()
    t = _table()
    with connections[Comment.objects.db].cursor() as cursor:
        cursor.execute(
            f"WITH RECURSIVE below(top, id, depth) AS ("  # noqa: S608 (the ORM's own SQL)
            f"SELECT c.id, c.id, 0 FROM {t} c WHERE c.id IN ({anchors}) "
            f"UNION ALL SELECT below.top, r.id, below.depth + 1 FROM {t} r "
            f"JOIN below ON r.parent_id = below.id WHERE below.depth < %s"
            f") SELECT COUNT(*) - 1, top FROM below GROUP BY top",
            [*params, MAX_DEPTH],
        )
        return [(count, top) for count, top in cursor.fetchall()]


def _choose_by_replies(
    keys: list[tuple[int, int]], position: Position | None, focus_root: int | None, limit: int
) -> tuple[list[tuple[int, int]], bool, bool]:
    """The page's keys in the "replies" order, and whether pages come before and after:
    the keyset rule of the other sorts, applied in Python to the counted keys."""
    keys = sorted(keys, reverse=True)  # most replies first, then the newest
    if focus_root is not None:
        start = next((i for i, key in enumerate(keys) if key[1] == focus_root), 0)
        chosen = keys[start : start + limit + 1]
        return chosen[:limit], start > 0, len(chosen) > limit
    if position is not None and not position.forward:
        mark = tuple(position.key)
        chosen = [key for key in keys if key > mark][-(limit + 1) :]
        return chosen[-limit:], len(chosen) > limit, True
    if position is not None:
        mark = tuple(position.key)
        keys = [key for key in keys if key < mark]
    chosen = keys[: limit + 1]
    return chosen[:limit], position is not None, len(chosen) > limit


def _shown(queryset: QuerySet[Comment]) -> QuerySet[Comment]:
    """What every comment shown needs: its author and its "useful" count."""
    return queryset.select_related("author").annotate(useful_count=_useful_count())


def _beyond(sort: str, key: list[Any], *, forward: bool, inclusive: bool = False) -> Q:
    """Rows after ``key`` in the order of ``sort`` (before it if not ``forward``)."""
    fields = _ORDERS[sort]
    conditions = []
    for i, (name, down) in enumerate(fields):
        lookup = "lt" if down == forward else "gt"
        same = {fields[j][0]: key[j] for j in range(i)}
        conditions.append(Q(**same, **{f"{name}__{lookup}": key[i]}))
    if inclusive:
        conditions.append(Q(**{name: key[i] for i, (name, _down) in enumerate(fields)}))
    return reduce(operator.or_, conditions)


def _ordering(sort: str, *, forward: bool) -> list[str]:
    return [("-" if down == forward else "") + name for name, down in _ORDERS[sort]]


@dataclass
class _Light:
    """A reply under one of the page's roots: just enough to lay out its thread."""

    id: int
    parent_id: int
    # As the database gives it (SQLite: its text, which sorts as the dates do): it only
    # orders siblings, and reading thousands of replies need not convert each.
    created_at: Any
    root_id: int
    depth: int


def _replies_under(root_ids: list[int]) -> dict[int, list[_Light]]:
    """Every reply under each root, in display order: one recursive query, no text, no
    model instance (a busy page of the "replies" sort reads thousands of them)."""
    if not root_ids:
        return {}
    t = _table()
    marks = ", ".join(["%s"] * len(root_ids))
    with connections[Comment.objects.db].cursor() as cursor:
        cursor.execute(
            f"WITH RECURSIVE tree(id, parent_id, created_at, root_id, depth) AS ("  # noqa: S608
            f"SELECT c.id, c.parent_id, c.created_at, c.id, 0 FROM {t} c WHERE c.id IN ({marks}) "
            f"UNION ALL SELECT c.id, c.parent_id, c.created_at, tree.root_id, tree.depth + 1 "
            f"FROM {t} c JOIN tree ON c.parent_id = tree.id WHERE tree.depth < %s"
            f") SELECT id, parent_id, created_at, root_id, depth FROM tree WHERE depth > 0",
            [*root_ids, MAX_DEPTH],
        )
        rows = cursor.fetchall()
    children: defaultdict[int, list[_Light]] = defaultdict(list)
    for row in rows:
        light = _Light(*row)
        children[light.parent_id].append(light)
    for siblings in children.values():
        siblings.sort(key=lambda light: (light.created_at, light.id))
    ordered: dict[int, list[_Light]] = {}
    for root_id in root_ids:
        out: list[_Light] = []
        stack = list(reversed(children[root_id]))
        while stack:  # ends: each reply is pushed once, by its one parent
            light = stack.pop()
            out.append(light)
            stack.extend(reversed(children[light.id]))
        ordered[root_id] = out
    return ordered


def _window(
    replies: list[_Light], position: ReplyPosition | None, preview: int, size: int
) -> tuple[list[_Light], int, int]:
    """The replies shown (with the ones they answer, before them) and the window's bounds."""
    index = {light.id: i for i, light in enumerate(replies)}
    start, end = 0, min(preview, len(replies))
    if position is not None:
        if position.after in index:
            start = index[position.after] + 1
            end = min(start + size, len(replies))
        elif position.before in index:
            end = index[position.before]
            start = max(0, end - size)
        elif position.at in index and index[position.at] >= preview:
            start = index[position.at]
            end = min(start + size, len(replies))
    shown = replies[start:end]
    if start > 0 and shown:
        by_id = {light.id: light for light in replies}
        context: list[_Light] = []
        parent = by_id.get(shown[0].parent_id)
        while parent is not None:  # up the ancestors: at most the thread's depth
            context.append(parent)
            parent = by_id.get(parent.parent_id)
        shown = context[::-1] + shown
    return shown, start, end


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


def _focus(item: Item, comment_id: int) -> tuple[int, int]:
    """(root id, comment id) of a comment of ``item``: one recursive query up its thread."""
    t = _table()
    with connections[Comment.objects.db].cursor() as cursor:
        cursor.execute(
            f"WITH RECURSIVE up(id, parent_id, n) AS ("  # noqa: S608
            f"SELECT c.id, c.parent_id, 0 FROM {t} c WHERE c.id = %s AND c.item_id = %s "
            f"UNION ALL SELECT c.id, c.parent_id, up.n + 1 FROM {t} c "
            f"JOIN up ON c.id = up.parent_id WHERE up.n < %s"
            f") SELECT id FROM up WHERE parent_id IS NULL",
            [comment_id, item.pk, MAX_DEPTH],
        )
        row = cursor.fetchone()
    if row is None:
        raise Invalid("unknown_comment", _("This comment is not in this debate."))
    return row[0], comment_id


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
    sort = sort if sort in _ORDERS else "newest"
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    position = page_cursor(cursor, sort) if cursor else None
    windows_asked: dict[int, ReplyPosition] = {}
    if replies:
        asked = replies_cursor(replies)
        windows_asked[asked.root_id] = asked
    focus_ids = _focus(item, focus) if focus is not None else None
    words = search_words(query) if focus_ids is None else []

    base: QuerySet[Comment] = Comment.objects.filter(item=item)
    if words:
        base = base.filter(deleted_at__isnull=True, moderation=Comment.Moderation.VISIBLE)
        base = base.alias(folded=Folded("body"))
        for word in words:
            base = base.filter(folded__contains=word)
    else:
        base = base.filter(parent__isnull=True)
    if stance in Comment.Stance.values and focus_ids is None:
        base = base.filter(stance=stance)
    rows = _shown(base)
    if focus_ids is not None:
        windows_asked.setdefault(focus_ids[0], ReplyPosition(focus_ids[0], at=focus_ids[1]))

    has_previous = has_next = False
    if sort == "replies":
        keys, has_previous, has_next = _choose_by_replies(
            _reply_keys(base), position, focus_ids[0] if focus_ids else None, limit
        )
        loaded_roots = {comment.pk: comment for comment in rows.filter(pk__in=[k[1] for k in keys])}
        roots = []
        for count, pk in keys:
            loaded_roots[pk].reply_count = count  # type: ignore[attr-defined]  # its sort key
            roots.append(loaded_roots[pk])
    elif focus_ids is not None:
        root = rows.get(pk=focus_ids[0])
        key = _key(root, sort)
        roots = list(
            rows.filter(_beyond(sort, key, forward=True, inclusive=True)).order_by(
                *_ordering(sort, forward=True)
            )[: limit + 1]
        )
        has_previous = rows.filter(_beyond(sort, key, forward=False)).exists()
        has_next, roots = len(roots) > limit, roots[:limit]
    elif position is not None and not position.forward:
        roots = list(
            rows.filter(_beyond(sort, position.key, forward=False)).order_by(
                *_ordering(sort, forward=False)
            )[: limit + 1]
        )
        has_previous, has_next = len(roots) > limit, True
        roots = roots[:limit][::-1]
    else:
        if position is not None:
            rows = rows.filter(_beyond(sort, position.key, forward=True))
            has_previous = True
        roots = list(rows.order_by(*_ordering(sort, forward=True))[: limit + 1])
        has_next, roots = len(roots) > limit, roots[:limit]

    result = Page(sort=sort, search=bool(words))
    if roots:
        result.next = _page_token(sort, roots[-1], forward=True) if has_next else None
        result.previous = _page_token(sort, roots[0], forward=False) if has_previous else None
    if words:
        result.threads = [Thread(root=comment, comments=[(comment, 0)]) for comment in roots]
        _mark(roots, viewer)
        return result

    under = _replies_under([root.pk for root in roots])
    windows = {}
    for root in roots:
        windows[root.pk] = _window(under[root.pk], windows_asked.get(root.pk), preview, REPLY_PAGE)
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
            thread.earlier = _replies_token(root.pk, b=replies_of_root[start].id)
        if end < len(replies_of_root):
            thread.more = _replies_token(root.pk, a=replies_of_root[end - 1].id)
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
    replies_of_root = _replies_under([found.pk])[found.pk]
    size = max(1, min(limit, MAX_PAGE_SIZE))
    shown, start, end = _window(replies_of_root, position, size, size)
    window = shown[len(shown) - (end - start) :]  # without the replies they answer
    loaded = _load([light.id for light in window])
    comments = [(loaded[light.id], min(light.depth, DISPLAY_DEPTH)) for light in window]
    _mark([comment for comment, _depth in comments], viewer)
    return Replies(
        root=found,
        comments=comments,
        next=_replies_token(found.pk, a=replies_of_root[end - 1].id)
        if end < len(replies_of_root)
        else None,
        previous=_replies_token(found.pk, b=replies_of_root[start].id) if start > 0 else None,
    )
