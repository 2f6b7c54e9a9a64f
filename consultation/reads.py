"""A consultation by its slug and an item with its consultation, read with hand-written SQL
(config/rows.py): asked by every page of a consultation and every write, where the ORM's
Python cost more than the statement (docs/performance.md, "Write path").

Each answers what ``Consultation.objects.get(slug=…)`` and
``Item.objects.select_related("consultation", "theme").get(…)`` would, drafts included or
not (``drafts``); who may see a draft is the caller's question (``permissions.can_view``).
tests/consultation/test_hand_written_reads.py holds them to the ORM's answers.
"""

from config import rows
from consultation.models import Consultation, Item, Theme

_ITEM = rows.Columns(Item, "i")
_CONSULTATION = rows.Columns(Consultation, "c")
_THEME = rows.Columns(Theme, "th")
_CONSULTATION_SQL = (
    f'SELECT {_CONSULTATION.select} FROM "{Consultation._meta.db_table}" c'  # noqa: S608 (names: the models' own)
    ' WHERE c."slug" = %s'
)
_ITEM_SQL = (
    f"SELECT {_ITEM.select}, {_CONSULTATION.select}, {_THEME.select}"  # noqa: S608 (names: the models' own)
    f' FROM "{Item._meta.db_table}" i'
    f' INNER JOIN "{Consultation._meta.db_table}" c ON c."id" = i."consultation_id"'
    f' LEFT OUTER JOIN "{Theme._meta.db_table}" th ON th."id" = i."theme_id"'
    ' WHERE i."id" = %s'
)
_NOT_A_DRAFT = ' AND c."status" <> %s'


def consultation_by_slug(slug: str, *, drafts: bool) -> Consultation | None:
    sql, params = _CONSULTATION_SQL, list[object]([slug])
    if not drafts:
        sql, params = sql + _NOT_A_DRAFT, [*params, Consultation.Status.DRAFT.value]
    row = rows.fetch_one(sql, params)
    return None if row is None else _CONSULTATION.instance(row)


def item_with_consultation(item_id: int, *, slug: str | None = None, drafts: bool) -> Item | None:
    """The item (of the consultation named ``slug``, if given), its consultation and its
    theme in one statement."""
    if not rows.is_id(item_id):
        return None
    sql, params = _ITEM_SQL, list[object]([item_id])
    if slug is not None:
        sql, params = sql + ' AND c."slug" = %s', [*params, slug]
    if not drafts:
        sql, params = sql + _NOT_A_DRAFT, [*params, Consultation.Status.DRAFT.value]
    row = rows.fetch_one(sql, params)
    if row is None:
        return None
    item = _ITEM.instance(row)
    item.consultation = _CONSULTATION.instance(row, len(_ITEM))
    if item.theme_id is not None:
        item.theme = _THEME.instance(row, len(_ITEM) + len(_CONSULTATION))
    return item
