"""The shape of a debate's threads, read with recursive queries (``thread_pages`` reads
the pages): how many replies each root has, the replies under a page's roots in display
order, the window of them a page shows, and the thread a comment belongs to.

Each is one query whatever the size of the debate, reads ids (and dates) rather than
text, and builds no model instance: a busy page of the "replies" sort reads thousands of
replies.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from consultation.errors import Invalid
from consultation.models import Comment, Item
from consultation.participation.thread_cursors import Position, ReplyPosition

MAX_DEPTH = 1000  # a guard for the recursive queries: no thread is this deep


def _table() -> str:
    return connections[Comment.objects.db].ops.quote_name(Comment._meta.db_table)


def reply_keys(base: QuerySet[Comment]) -> list[tuple[int, int]]:
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


def choose_by_replies(
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


@dataclass
class Light:
    """A reply under one of the page's roots: just enough to lay out its thread."""

    id: int
    parent_id: int
    # As the database gives it (SQLite: its text, which sorts as the dates do): it only
    # orders siblings, and reading thousands of replies need not convert each.
    created_at: Any
    root_id: int
    depth: int


def replies_under(root_ids: list[int]) -> dict[int, list[Light]]:
    """Every reply under each root, in display order: one recursive query, no text, no
    model instance."""
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
    children: defaultdict[int, list[Light]] = defaultdict(list)
    for row in rows:
        light = Light(*row)
        children[light.parent_id].append(light)
    for siblings in children.values():
        siblings.sort(key=lambda light: (light.created_at, light.id))
    ordered: dict[int, list[Light]] = {}
    for root_id in root_ids:
        out: list[Light] = []
        stack = list(reversed(children[root_id]))
        while stack:  # ends: each reply is pushed once, by its one parent
            light = stack.pop()
            out.append(light)
            stack.extend(reversed(children[light.id]))
        ordered[root_id] = out
    return ordered


def window(
    replies: list[Light], position: ReplyPosition | None, preview: int, size: int
) -> tuple[list[Light], int, int]:
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
        context: list[Light] = []
        parent = by_id.get(shown[0].parent_id)
        while parent is not None:  # up the ancestors: at most the thread's depth
            context.append(parent)
            parent = by_id.get(parent.parent_id)
        shown = context[::-1] + shown
    return shown, start, end


def focus(item: Item, comment_id: int) -> tuple[int, int]:
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
