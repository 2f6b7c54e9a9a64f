"""Rows read by hand-written SQL, turned into model instances as the ORM would.

For the few statements on the write path that run on every vote (a personal token, the
item and its consultation, a suspension, the citizen's own row): building a query with the
ORM costs 2 to 3 ms of Python each time (filters, joins, compiling to SQL) where running
it costs a tenth of that (docs/performance.md, "Write path"; decision 0031). Here the SQL
is written once, in portable SQL (PostgreSQL and SQLite), with the tables' and columns'
names taken from the models, and each row is turned into an instance by the backend's
own converters and ``Model.from_db``: what the ORM would have returned.

Keep such statements few, next to the ORM version of the same question they replace,
and covered by the tests of that question on both backends.
"""

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from django.db import connections
from django.db.models import Field, Model

Converter = Callable[[Any, Any, Any], Any]


class Columns[M: Model]:
    """A model's concrete columns under a table alias, and how to read them back.

    ``select`` is the column list for the SQL (``alias."column", …``); ``instance(row,
    start)`` builds the model from ``len(self)`` values of ``row`` from ``start`` on."""

    def __init__(self, model: type[M], alias: str, using: str = "default") -> None:
        self.model = model
        self.alias = alias
        self.using = using
        self.fields: list[Field] = list(model._meta.concrete_fields)
        self.attnames = [field.attname for field in self.fields]
        self.select = ", ".join(f'{alias}."{field.column}"' for field in self.fields)
        self._expressions = [field.get_col(alias) for field in self.fields]
        self._converters: dict[str, list[list[Converter]]] = {}

    def __len__(self) -> int:
        return len(self.fields)

    def _converters_for(self) -> list[list[Converter]]:
        connection = connections[self.using]
        vendor = connection.vendor
        if vendor not in self._converters:
            found = []
            for field, expression in zip(self.fields, self._expressions, strict=True):
                found.append(
                    connection.ops.get_db_converters(expression)
                    + field.get_db_converters(connection)
                )
            self._converters[vendor] = found
        return self._converters[vendor]

    def instance(self, row: Sequence[Any], start: int = 0) -> M:
        connection = connections[self.using]
        values = []
        expressions = self._expressions
        for offset, converters in enumerate(self._converters_for()):
            value = row[start + offset]
            for converter in converters:
                value = converter(value, expressions[offset], connection)
            values.append(value)
        return self.model.from_db(self.using, self.attnames, values)


def moment(value: datetime, using: str = "default") -> Any:
    """A datetime as a parameter of hand-written SQL, as the ORM would pass it (SQLite
    stores text in its own format; PostgreSQL takes the datetime)."""
    return connections[using].ops.adapt_datetimefield_value(value)


def fetch_one(sql: str, params: Sequence[Any], using: str = "default") -> tuple | None:
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def execute(sql: str, params: Sequence[Any], using: str = "default") -> int:
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def for_update(using: str = "default") -> str:
    """``FOR UPDATE`` where the database locks rows (PostgreSQL); SQLite locks the whole
    database for a write transaction, so nothing is needed there."""
    return " FOR UPDATE" if connections[using].features.has_select_for_update else ""


def insert_returning_id(sql: str, params: Sequence[Any], using: str = "default") -> int:
    """Run an ``INSERT`` of one row and answer the new row's ``id``."""
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.features.can_return_columns_from_insert:
            cursor.execute(sql + ' RETURNING "id"', params)
            return cursor.fetchone()[0]
        cursor.execute(sql, params)
        return cursor.lastrowid


def fetch_all(sql: str, params: Sequence[Any], using: str = "default") -> list[tuple]:
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


BIGGEST_ID = 2**63 - 1


def is_id(value: object) -> bool:
    """A whole number a key column can hold: anything else names no row (SQLite refuses
    a larger int outright; the ORM answers "none" for it, and so must we)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= BIGGEST_ID
