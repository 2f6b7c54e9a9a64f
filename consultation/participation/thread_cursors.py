"""The sorts of a debate's pages and the signed cursors naming a page or a window of replies
(``thread_pages`` reads the pages).

- **Sorts.** Each sort is a key of a top-level comment ("root"): ``newest`` (the default),
  ``oldest``, ``useful`` (most "useful" marks) and ``replies`` (most replies, at every
  depth), each with the date and id (or id alone) to break ties, so that every root has
  its own place.
- **Page cursors.** The key and direction of the last (or first) root a page showed, and
  the sort it was made for, signed with the site's key: opaque to a reader, refused when
  altered or given with another sort (keyset pagination: a comment posted meanwhile never
  shifts a page).
- **Replies cursors.** One root and the reply a window of its replies starts after (or
  ends before).

Anything else is ``Invalid("bad_cursor")``, whatever was wrong with it.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from typing import Any

from django.core import signing
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from consultation.errors import Invalid
from consultation.models import Comment

SORTS = ("newest", "oldest", "useful", "replies")
MAX_CURSOR_LENGTH = 500
# The salt of every cursor given out since paged debates began (their module then was
# consultation/thread_pages.py): kept as it was, so that links keep working.
_SALT = "consultation.thread_pages"

# Each sort: the fields of its key, each with whether it goes down (most, newest first).
ORDERS: dict[str, tuple[tuple[str, bool], ...]] = {
    "newest": (("created_at", True), ("id", True)),
    "oldest": (("created_at", False), ("id", False)),
    "useful": (("useful_count", True), ("created_at", True), ("id", True)),
    "replies": (("reply_count", True), ("id", True)),  # see thread_trees.reply_keys
}


def bad_cursor() -> Invalid:
    return Invalid(
        "bad_cursor",
        _("This link to a page of comments is not valid (any more): start from the first page."),
    )


# --- Signing --------------------------------------------------------------------------------


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


# --- Sort keys ------------------------------------------------------------------------------


def sort_key(comment: Comment, sort: str) -> list[Any]:
    """The key of ``comment`` in ``sort`` (its "useful" or reply count annotated on it)."""
    return [getattr(comment, name) for name, _down in ORDERS[sort]]


def _key_of(comment: Comment, sort: str) -> list[Any]:
    """The key as JSON: dates in ISO 8601."""
    return [v.isoformat() if isinstance(v, datetime) else v for v in sort_key(comment, sort)]


def _parse_key(raw: object, sort: str) -> list[Any]:
    fields = ORDERS[sort]
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


def beyond(sort: str, key: list[Any], *, forward: bool, inclusive: bool = False) -> Q:
    """Rows after ``key`` in the order of ``sort`` (before it if not ``forward``)."""
    fields = ORDERS[sort]
    conditions = []
    for i, (name, down) in enumerate(fields):
        lookup = "lt" if down == forward else "gt"
        same = {fields[j][0]: key[j] for j in range(i)}
        conditions.append(Q(**same, **{f"{name}__{lookup}": key[i]}))
    if inclusive:
        conditions.append(Q(**{name: key[i] for i, (name, _down) in enumerate(fields)}))
    return reduce(operator.or_, conditions)


def ordering(sort: str, *, forward: bool) -> list[str]:
    """``order_by`` arguments for ``sort`` (reversed if not ``forward``)."""
    return [("-" if down == forward else "") + name for name, down in ORDERS[sort]]


# --- Cursors ------------------------------------------------------------------------------


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


def page_token(sort: str, comment: Comment, *, forward: bool) -> str:
    """The cursor of the page after ``comment`` (before it if not ``forward``)."""
    return _sign({"t": "p", "s": sort, "d": "a" if forward else "b", "k": _key_of(comment, sort)})


def replies_token(root_id: int, **mark: int) -> str:
    """The cursor of the replies of ``root_id`` after (``a=``) or before (``b=``) a reply."""
    return _sign({"t": "r", "r": root_id, **mark})
