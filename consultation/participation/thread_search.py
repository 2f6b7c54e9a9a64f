"""Searching one item's debate: the comments (roots and replies) whose text holds every
word of a query, ignoring case and accents, as ``queries.fold`` does.

The text is folded in the database (SQLite calls ``fold`` itself; PostgreSQL spells it in
SQL), so a page of matches still reads one page of rows. Deleted and withheld (held or
hidden) comments are never searched.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Func, QuerySet, TextField
from django.db.models.sql.compiler import SQLCompiler

from consultation.models import Comment
from consultation.queries import MAX_SEARCH_WORDS, fold

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


def matching(comments: QuerySet[Comment], words: list[str]) -> QuerySet[Comment]:
    """Those of ``comments`` that may be searched and hold every one of ``words``
    (folded, from ``search_words``)."""
    found = comments.filter(deleted_at__isnull=True, moderation=Comment.Moderation.VISIBLE)
    found = found.alias(folded=Folded("body"))
    for word in words:
        found = found.filter(folded__contains=word)
    return found
