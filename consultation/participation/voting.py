"""Votes, grades and ranking ballots: the one code path every interface uses.

Each function checks permission, validates, writes in one transaction and relies
on a database constraint as the last word against races (double clicks, two
tabs, concurrent API calls): see tests/consultation/test_concurrency.py.
"""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.types import Person
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

    Two racing inserts both miss in ``select_for_update``; the unique constraint
    makes the second fail, and we then update the row the first one created.
    The live counters learn the change (old → new) once the transaction commits.
    """
    now = _dated_while_open(user, item.consultation)
    for _attempt in range(3):
        try:
            with transaction.atomic():
                row = model.objects.select_for_update().filter(item=item, user=user).first()
                old = None if row is None else getattr(row, field)
                if row is None:
                    row = model.objects.create(
                        item=item, user=user, created_at=now, updated_at=now, **{field: value}
                    )
                else:
                    setattr(row, field, value)
                    row.updated_at = now
                    row.save(update_fields=[field, "updated_at"])
                follows.auto_follow(user, item.consultation)  # taking part follows it
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
    known = set(
        Item.objects.filter(consultation=consultation, pk__in=ids).values_list("pk", flat=True)
    )
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
                # the unique constraint settles two tabs creating it.
                ballot = (
                    Ballot.objects.select_for_update()
                    .filter(consultation=consultation, user=user)
                    .first()
                )
                # Checked in the transaction that writes, under that lock. The rules it
                # reads cannot move meanwhile: items and K are frozen from opening on
                # (organising.refuse_unless_preparing; an open consultation never goes
                # back to draft), and ranking needs it open.
                ids = validate_ranking(consultation, item_ids)
                old = None if ballot is None else ballot.ranked_item_ids()
                if ballot is None:
                    ballot = Ballot.objects.create(
                        consultation=consultation, user=user, created_at=now, updated_at=now
                    )
                else:
                    ballot.entries.all().delete()
                    ballot.updated_at = now
                    ballot.save(update_fields=["updated_at"])
                BallotEntry.objects.bulk_create(
                    BallotEntry(ballot=ballot, item_id=item_id, rank=rank)
                    for rank, item_id in enumerate(ids, start=1)
                )
                follows.auto_follow(user, consultation)  # taking part follows it
                if old != ids:
                    events.after_commit(
                        events.ballot_changed, consultation.pk, user.pk, ballot.pk, old, ids
                    )
                return ballot
        except IntegrityError:
            continue
    raise IntegrityError(f"could not record the ballot of user {user.pk}")


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
