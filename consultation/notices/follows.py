"""Who follows what: a consultation, one of its items, or a comment's thread.

Taking part follows: a vote, a grade, a ballot or a comment follows the consultation
(``auto_follow``, called by ``participation.voting`` and ``participation.debate`` in their
own transaction), and a comment follows its thread. Anyone signed in may follow or
unfollow explicitly. Unfollowing keeps the row, inactive: taking part again never follows
again what the person chose to leave.

``followers(consultation)`` is the audience of what happens to a consultation (it opens,
closes, publishes results); ``thread_followers(comment)`` is who hears of a reply.
"""

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.types import Person
from config import rows
from consultation import permissions
from consultation.errors import Invalid, NotAllowed
from consultation.models import Comment, Consultation, Follow, Item

PARTICIPATION = "participation"
EXPLICIT = "explicit"
# Threads deeper than this are not walked further up (none is shown this deep).
MAX_DEPTH = 100


def _target(
    consultation: Consultation, item: Item | None, comment: Comment | None
) -> dict[str, object]:
    """The row's identifying fields; a thread is named by its comment alone."""
    if comment is not None:
        if comment.item.consultation_id != consultation.pk:
            raise Invalid("foreign_comment", _("This comment is not part of this consultation."))
        return {"consultation": consultation, "item": None, "comment": comment}
    if item is not None:
        if item.consultation_id != consultation.pk:
            raise Invalid("foreign_item", _("This item is not part of this consultation."))
        return {"consultation": consultation, "item": item, "comment": None}
    return {"consultation": consultation, "item": None, "comment": None}


def _signed_in(user: Person, consultation: Consultation) -> User:
    if not user.is_authenticated:
        raise NotAllowed("login_required", _("Log in to follow a consultation."))
    if not permissions.can_view(user, consultation):
        raise NotAllowed("not_visible", _("This consultation cannot be followed."))
    return user


def _lookup(target: dict[str, object]) -> Q:
    return Q(
        consultation=target["consultation"],
        item=target["item"],
        comment=target["comment"],
    )


def follow(
    user: Person,
    *,
    consultation: Consultation,
    item: Item | None = None,
    comment: Comment | None = None,
) -> Follow:
    """Follow the consultation, one of its items or a comment's thread (again, after
    unfollowing it: an explicit choice overrides the earlier one)."""
    person = _signed_in(user, consultation)
    target = _target(consultation, item, comment)
    for _attempt in range(3):
        row = Follow.objects.filter(_lookup(target), user=person).first()
        if row is not None:
            if not row.active or row.reason != EXPLICIT:
                row.active, row.reason = True, EXPLICIT
                row.save(update_fields=["active", "reason"])
            return row
        try:
            with transaction.atomic():
                return Follow.objects.create(user=person, reason=EXPLICIT, **target)
        except IntegrityError:
            continue  # a double click created it meanwhile: update that one
    raise IntegrityError("could not record the follow")


def unfollow(
    user: Person,
    *,
    consultation: Consultation,
    item: Item | None = None,
    comment: Comment | None = None,
) -> bool:
    """Stop following (the row stays, inactive, so taking part does not follow again).
    Returns whether something was being followed."""
    person = _signed_in(user, consultation)
    target = _target(consultation, item, comment)
    changed = Follow.objects.filter(_lookup(target), user=person, active=True).update(
        active=False, reason=EXPLICIT
    )
    if changed:
        return True
    # Never followed: record the choice, so that taking part later does not follow.
    try:
        with transaction.atomic():
            Follow.objects.create(user=person, reason=EXPLICIT, active=False, **target)
    except IntegrityError:
        pass  # an inactive row exists already
    return False


def _ensure(user: User, target: dict[str, object]) -> None:
    """Create a participation follow unless any row (active or not) exists: never
    reactivating an explicit unfollow. One statement, on every first vote of a person on
    an item: an insert that each target's unique constraint (one row per person and
    consultation, item or thread, active or not) turns into nothing when a row is there,
    a concurrent call's included. Written by hand (config/rows.py): ``bulk_create(…,
    ignore_conflicts=True)`` asks the same, with 2 ms of the ORM's Python."""
    rows.execute(
        _ENSURE_SQL,
        [
            user.pk,
            _pk(target["consultation"]),
            _pk(target["item"]),
            _pk(target["comment"]),
            True,
            PARTICIPATION,
            rows.moment(timezone.now()),
        ],
    )


def _pk(value: object) -> object:
    return getattr(value, "pk", value)


_ENSURE_SQL = (
    f'INSERT INTO "{Follow._meta.db_table}"'  # noqa: S608 (names: the models' own)
    ' ("user_id", "consultation_id", "item_id", "comment_id", "active", "reason", "created_at")'
    " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
)


def thread_root(comment: Comment) -> int:
    """The id of the first comment of ``comment``'s thread."""
    chain = ancestors(comment)
    return chain[-1]


def ancestors(comment: Comment) -> list[int]:
    """``comment``'s id, then its parent's, up to its thread's first comment."""
    chain = [comment.pk]
    parent_id = comment.parent_id
    for _depth in range(MAX_DEPTH):
        if parent_id is None:
            break
        chain.append(parent_id)
        parent_id = Comment.objects.filter(pk=parent_id).values_list("parent_id", flat=True).first()
    return chain


def auto_follow(user: User, consultation: Consultation, *, comment: Comment | None = None) -> None:
    """Taking part follows the consultation (and, for a comment, its thread), in the
    caller's transaction. Nothing happens to what the person unfollowed."""
    _ensure(user, {"consultation": consultation, "item": None, "comment": None})
    if comment is not None:
        root_id = thread_root(comment)
        root = comment if root_id == comment.pk else Comment(pk=root_id)
        _ensure(user, {"consultation": consultation, "item": None, "comment": root})


def followers(consultation: Consultation) -> QuerySet[User]:
    """Active accounts following the consultation itself or any of its items."""
    following = Follow.objects.filter(
        consultation=consultation, active=True, comment__isnull=True
    ).values("user_id")
    return User.objects.filter(pk__in=following, is_active=True)


def thread_followers(comment: Comment) -> QuerySet[User]:
    """Active accounts following this comment's thread: the comment or an ancestor."""
    following = Follow.objects.filter(comment_id__in=ancestors(comment), active=True).values(
        "user_id"
    )
    return User.objects.filter(pk__in=following, is_active=True)


def followed_by(user: User) -> list[Follow]:
    """What ``user`` follows, actively: consultations first, then items, then threads."""
    rows = (
        Follow.objects.filter(user=user, active=True)
        .select_related("consultation", "item", "comment__item")
        .order_by("consultation__title", "item_id", "comment_id", "pk")
    )
    return list(rows)


def states(user: Person, consultation: Consultation) -> dict[tuple[str, int | None], bool]:
    """Whether ``user`` follows each thing of ``consultation`` they have a row for:
    ``("consultation", None)``, ``("item", id)``, ``("comment", id)``; one query."""
    if not user.is_authenticated:
        return {}
    found: dict[tuple[str, int | None], bool] = {}
    rows = Follow.objects.filter(user=user, consultation=consultation).values_list(
        "item_id", "comment_id", "active"
    )
    for item_id, comment_id, active in rows:
        if comment_id is not None:
            found[("comment", comment_id)] = active
        elif item_id is not None:
            found[("item", item_id)] = active
        else:
            found[("consultation", None)] = active
    return found
