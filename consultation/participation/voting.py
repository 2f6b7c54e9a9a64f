"""Votes, grades and ranking ballots: the one code path every interface uses.

Each function checks permission, validates, writes in one transaction and relies
on a database constraint as the last word against races (double clicks, two
tabs, concurrent API calls): see tests/consultation/test_concurrency.py.
"""

from datetime import datetime
from typing import cast

from django.db import IntegrityError, transaction
from django.db.models import Field
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.types import Person
from config import rows
from consultation import permissions
from consultation.errors import Invalid
from consultation.live import events
from consultation.live.stores import GRADE, VOTE
from consultation.models import Ballot, BallotEntry, Consultation, Grade, Item, Vote
from consultation.notices import follows


def _dated_while_open(user: User, consultation: Consultation) -> datetime:
    """The instant a write is dated, still within the consultation's opening hours.

    The permission check read the clock a moment earlier: at the closing second the two
    readings could straddle ``closes_at``, and a vote let through as "open" would be dated
    after the close (tests/faults/test_closing_second.py). Decide again at the instant the
    row carries."""
    now = timezone.now()
    if not consultation.accepts_participation(now):
        raise permissions.why_not_participate(user, consultation)
    return now


def _upsert[Row: (Vote, Grade)](
    model: type[Row], kind: str, *, item: Item, user: User, field: str, value: object
) -> Row:
    """Insert or update the citizen's row for this item; safe against concurrent calls.

    Two racing inserts both miss in the ``SELECT … FOR UPDATE``; the unique constraint
    makes the second fail, and we then update the row the first one created.
    The live counters learn the change (old → new) once the transaction commits.

    Every vote and grade comes through here, so its statements are written by hand
    (config/rows.py): the same questions the ORM would ask, without its Python.
    """
    now = _dated_while_open(user, item.consultation)
    sql = _UPSERT_SQL[model]
    for _attempt in range(3):
        try:
            with transaction.atomic():
                found = rows.fetch_one(sql.select + rows.for_update(), [item.pk, user.pk])
                if found is None:
                    old = None
                    pk = rows.insert_returning_id(
                        sql.insert, [item.pk, user.pk, value, rows.moment(now), rows.moment(now)]
                    )
                    row = model(pk=pk, item=item, user=user, created_at=now, updated_at=now)
                    setattr(row, field, value)
                    # Taking part follows the consultation: on the first row only, as every
                    # later one would find the follow (or the unfollow) already there.
                    follows.auto_follow(user, item.consultation)
                else:
                    row = cast(Row, sql.columns.instance(found))
                    old = getattr(row, field)
                    rows.execute(sql.update, [value, rows.moment(now), row.pk])
                    setattr(row, field, value)
                    row.updated_at = now
                if old != value:
                    events.after_commit(
                        events.choice_changed,
                        kind,
                        item.consultation_id,
                        item.pk,
                        user.pk,
                        old,
                        value,
                    )
                return row
        except IntegrityError:
            continue  # lost the race to an identical insert: retry as an update
    raise IntegrityError(f"could not record {model.__name__} for item {item.pk}")


class _UpsertSQL:
    """The three statements of ``_upsert`` for one model (its choice column: ``field``)."""

    def __init__(self, model: type[Vote | Grade], field: str) -> None:
        table = model._meta.db_table
        choice = model._meta.get_field(field)
        assert isinstance(choice, Field)
        column = choice.column
        self.columns = rows.Columns(model, "r")
        self.select = (
            f'SELECT {self.columns.select} FROM "{table}" r'  # noqa: S608 (names: the models' own)
            ' WHERE r."item_id" = %s AND r."user_id" = %s'
        )
        self.insert = (
            f'INSERT INTO "{table}" ("item_id", "user_id", "{column}", "created_at", "updated_at")'  # noqa: S608 (names: the models' own)
            " VALUES (%s, %s, %s, %s, %s)"
        )
        self.update = f'UPDATE "{table}" SET "{column}" = %s, "updated_at" = %s WHERE "id" = %s'  # noqa: S608 (names: the models' own)


_UPSERT_SQL = {Vote: _UpsertSQL(Vote, "choice"), Grade: _UpsertSQL(Grade, "grade")}


def _withdraw(model: type[Vote | Grade], kind: str, *, item: Item, user: User, field: str) -> bool:
    with transaction.atomic():
        row = model.objects.select_for_update().filter(item=item, user=user).first()
        if row is None:
            return False
        old = getattr(row, field)
        row.delete()
        events.after_commit(
            events.choice_changed, kind, item.consultation_id, item.pk, user.pk, old, None
        )
    return True


def cast_vote(user: Person, item: Item, choice: str) -> Vote:
    consultation = item.consultation
    user = permissions.require_participation(
        permissions.can_vote(user, consultation), user, consultation
    )
    if choice not in Vote.Choice.values:
        raise Invalid("invalid_choice", _("Choose for, against or abstain."))
    return _upsert(Vote, VOTE, item=item, user=user, field="choice", value=choice)


def withdraw_vote(user: Person, item: Item) -> bool:
    consultation = item.consultation
    user = permissions.require_participation(
        permissions.can_vote(user, consultation), user, consultation
    )
    return _withdraw(Vote, VOTE, item=item, user=user, field="choice")


def grade_item(user: Person, item: Item, grade: object) -> Grade:
    consultation = item.consultation
    user = permissions.require_participation(
        permissions.can_grade(user, consultation), user, consultation
    )
    # Whole numbers only, as int or as digits from a form: not 2.5, not True.
    if isinstance(grade, str) and grade.strip().isdigit():
        grade = int(grade)
    if isinstance(grade, bool) or not isinstance(grade, int):
        raise Invalid("invalid_grade", _("Choose one of the grades."))
    if not 0 <= grade < consultation.grade_scale:
        raise Invalid("invalid_grade", _("Choose one of the grades."))
    return _upsert(Grade, GRADE, item=item, user=user, field="grade", value=grade)


def withdraw_grade(user: Person, item: Item) -> bool:
    consultation = item.consultation
    user = permissions.require_participation(
        permissions.can_grade(user, consultation), user, consultation
    )
    return _withdraw(Grade, GRADE, item=item, user=user, field="grade")


def _as_item_id(value: object) -> int | None:
    """An item id as a whole number, or None: ints and ASCII digit strings (from a form)
    only. ``1.9`` is not item 1, ``True`` is not item 1, ``"١"`` is not item 1."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return None


def validate_ranking(consultation: Consultation, item_ids: object) -> list[int]:
    """Return the ranking as a list of item ids, or refuse it with a clear reason.

    The database enforces what it can on its own rows (one ballot per citizen, each rank
    and item once per ballot, ranks 1..20); "items of this consultation" and "at most K"
    span tables and are checked here (docs/decisions/0013-ballot-rules-in-the-domain.md).
    """
    if not isinstance(item_ids, (list, tuple)):
        raise Invalid("not_a_list", _("A ranking is a list of item ids, your first choice first."))
    if not item_ids:
        raise Invalid("empty_ballot", _("Rank at least one item."))
    read = [_as_item_id(value) for value in item_ids]
    ids = [item_id for item_id in read if item_id is not None]
    if len(ids) != len(read):
        raise Invalid(
            "not_an_item_id", _("Each entry of a ranking must be an item id (a whole number).")
        )
    if len(ids) > consultation.ranking_size:
        raise Invalid(
            "too_many_items",
            _("Rank at most %(k)d items.") % {"k": consultation.ranking_size},
        )
    if len(set(ids)) != len(ids):
        raise Invalid("duplicate_item", _("Each item may appear only once in your ranking."))
    if not all(rows.is_id(item_id) for item_id in ids):
        raise Invalid(
            "unknown_item", _("The ranking names an item that is not part of this consultation.")
        )
    # Asked on every ballot: written by hand (config/rows.py).
    placeholders = ", ".join(["%s"] * len(ids))
    known = {
        row[0]
        for row in rows.fetch_all(
            f'SELECT "id" FROM "{Item._meta.db_table}"'  # noqa: S608 (only placeholders)
            f' WHERE "consultation_id" = %s AND "id" IN ({placeholders})',
            [consultation.pk, *ids],
        )
    }
    if known != set(ids):
        raise Invalid(
            "unknown_item", _("The ranking names an item that is not part of this consultation.")
        )
    return ids


def submit_ballot(user: Person, consultation: Consultation, item_ids: object) -> Ballot:
    """Record (or replace) the citizen's ranking: ``item_ids[0]`` is their first choice."""
    user = permissions.require_participation(
        permissions.can_rank(user, consultation), user, consultation
    )
    now = _dated_while_open(user, consultation)
    for _attempt in range(3):
        try:
            with transaction.atomic():
                # Locking the ballot row serialises two tabs replacing the same ballot;
                # the unique constraint settles two tabs creating it. Every statement
                # here is written by hand (config/rows.py): a ballot is the heaviest write.
                found = rows.fetch_one(
                    _BALLOT.select + rows.for_update(), [consultation.pk, user.pk]
                )
                # Checked in the transaction that writes, under that lock. The rules it
                # reads cannot move meanwhile: items and K are frozen from opening on
                # (organising.refuse_unless_preparing; an open consultation never goes
                # back to draft), and ranking needs it open.
                ids = validate_ranking(consultation, item_ids)
                if found is None:
                    old = None
                    pk = rows.insert_returning_id(
                        _BALLOT.insert,
                        [consultation.pk, user.pk, rows.moment(now), rows.moment(now)],
                    )
                    ballot = Ballot(
                        pk=pk, consultation=consultation, user=user, created_at=now, updated_at=now
                    )
                    follows.auto_follow(user, consultation)  # taking part follows it
                else:
                    ballot = _BALLOT.columns.instance(found)
                    ballot.consultation = consultation
                    old = [row[0] for row in rows.fetch_all(_BALLOT.entries, [ballot.pk])]
                    rows.execute(_BALLOT.clear, [ballot.pk])
                    rows.execute(_BALLOT.touch, [rows.moment(now), ballot.pk])
                    ballot.updated_at = now
                values = ", ".join(["(%s, %s, %s)"] * len(ids))
                rows.execute(
                    f"{_BALLOT.add} {values}",
                    [
                        value
                        for rank, item_id in enumerate(ids, 1)
                        for value in (ballot.pk, item_id, rank)
                    ],
                )
                ballot.ranked = ids
                if old != ids:
                    events.after_commit(
                        events.ballot_changed, consultation.pk, user.pk, ballot.pk, old, ids
                    )
                return ballot
        except IntegrityError:
            continue
    raise IntegrityError(f"could not record the ballot of user {user.pk}")


class _BallotSQL:
    """The statements of ``submit_ballot``."""

    def __init__(self) -> None:
        ballots = Ballot._meta.db_table
        entries = BallotEntry._meta.db_table
        self.columns = rows.Columns(Ballot, "b")
        self.select = (
            f'SELECT {self.columns.select} FROM "{ballots}" b'  # noqa: S608 (names: the models' own)
            ' WHERE b."consultation_id" = %s AND b."user_id" = %s'
        )
        self.insert = (
            f'INSERT INTO "{ballots}" ("consultation_id", "user_id", "created_at", "updated_at")'  # noqa: S608
            " VALUES (%s, %s, %s, %s)"
        )
        self.entries = f'SELECT "item_id" FROM "{entries}" WHERE "ballot_id" = %s ORDER BY "rank"'  # noqa: S608
        self.clear = f'DELETE FROM "{entries}" WHERE "ballot_id" = %s'  # noqa: S608
        self.touch = f'UPDATE "{ballots}" SET "updated_at" = %s WHERE "id" = %s'  # noqa: S608
        self.add = f'INSERT INTO "{entries}" ("ballot_id", "item_id", "rank") VALUES'


_BALLOT = _BallotSQL()


def withdraw_ballot(user: Person, consultation: Consultation) -> bool:
    user = permissions.require_participation(
        permissions.can_rank(user, consultation), user, consultation
    )
    with transaction.atomic():
        ballot = (
            Ballot.objects.select_for_update().filter(consultation=consultation, user=user).first()
        )
        if ballot is None:
            return False
        old, ballot_id = ballot.ranked_item_ids(), ballot.pk
        ballot.delete()
        events.after_commit(events.ballot_changed, consultation.pk, user.pk, ballot_id, old, None)
    return True
