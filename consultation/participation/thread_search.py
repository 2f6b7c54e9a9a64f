"""Searching one item's debate: the comments (roots and replies) whose text holds every
word of a query, ignoring case and accents, as ``queries.fold`` does.

Each comment keeps a folded copy of its text, ``Comment.folded_body``, written with it
(``participation.debate``: posted, edited, erased), so a search folds only its own words
and compares them with that copy, the same way on every database: nothing is folded per
comment at search time. Deleted and withheld (held or hidden) comments are never searched.
"""

from __future__ import annotations

from django.db.models import QuerySet

from consultation.models import Comment
from consultation.queries import MAX_SEARCH_WORDS, fold


def search_words(query: str) -> list[str]:
    """The folded words of ``query`` (at most ``MAX_SEARCH_WORDS``, none repeated)."""
    words: list[str] = []
    for word in query.split()[:MAX_SEARCH_WORDS]:
        folded = fold(word)
        if folded and folded not in words:
            words.append(folded)
    return words


def matching(comments: QuerySet[Comment], words: list[str]) -> QuerySet[Comment]:
    """Those of ``comments`` that may be searched and hold every one of ``words``
    (folded, from ``search_words``)."""
    found = comments.filter(deleted_at__isnull=True, moderation=Comment.Moderation.VISIBLE)
    for word in words:
        # Both sides folded already: a plain substring test (LIKE), no function per row.
        found = found.filter(folded_body__contains=word)
    return found
