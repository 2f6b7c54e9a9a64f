"""The debate: threaded comments with a stance, edits with history, "useful" reactions."""

import re
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.types import Person
from consultation import permissions, queries
from consultation.errors import Conflict, Invalid, NotAllowed, TooMany
from consultation.live import events
from consultation.models import Comment, CommentReaction, CommentRevision, Item
from consultation.notices import follows, replies

MAX_LENGTH = 5000


def _clean(body: str | None, stance: str) -> tuple[str, str]:
    body = (body or "").strip()
    if not body:
        raise Invalid("empty_comment", _("Write something before posting."))
    if len(body) > MAX_LENGTH:
        raise Invalid(
            "comment_too_long",
            _("A comment may have at most %(max)d characters.") % {"max": MAX_LENGTH},
        )
    if stance not in Comment.Stance.values:
        raise Invalid("invalid_stance", _("Choose for, neutral or against."))
    return body, stance


def refuse_reply_unless_allowed(user: Person, parent: Comment) -> None:
    """Replies go to a visible comment of a consultation the person may comment on."""
    consultation = parent.item.consultation
    permissions.require_participation(
        permissions.can_comment(user, consultation), user, consultation
    )
    _refuse_deleted_parent(parent)


def _refuse_deleted_parent(parent: Comment) -> None:
    if parent.is_deleted:
        raise Conflict(
            "deleted_parent", _("This comment was deleted: you can no longer reply to it.")
        )
    if is_locked(parent):
        raise Conflict("locked_thread", _("A moderator locked this thread: no more replies."))


def is_locked(comment: Comment) -> bool:
    """A moderator locked this comment's thread (on it or on one of its ancestors), as
    the database says now: a lock set a moment ago holds."""
    node_id: int | None = comment.pk
    for _depth in range(100):
        if node_id is None:
            return False
        row = Comment.objects.filter(pk=node_id).values_list("locked_at", "parent_id").first()
        if row is None:
            return False
        locked_at, node_id = row
        if locked_at is not None:
            return True
    return True  # deeper than any thread we show: treat as locked rather than loop


# --- Spam: new accounts and repeated text (settings.MODERATION_*) -------------------------
LINK = re.compile(r"(https?://|www\.|\b[\w-]+\.(?:com|net|org|fr|io|info|biz|xyz|ru|cn)\b)", re.I)


def _new_account_limits(user: User, body: str) -> None:
    """An account younger than the configured age posts no links and few comments."""
    young_since = timezone.now() - timedelta(hours=settings.MODERATION_NEW_ACCOUNT_HOURS)
    if user.date_joined <= young_since:
        return
    if LINK.search(body):
        raise Invalid(
            "no_links_yet",
            _(
                "New accounts cannot post links yet: remove the address, or post it once "
                "your account is %(hours)d hours old."
            )
            % {"hours": settings.MODERATION_NEW_ACCOUNT_HOURS},
        )
    last_hour = Comment.objects.filter(
        author=user, created_at__gte=timezone.now() - timedelta(hours=1)
    ).count()
    if last_hour >= settings.MODERATION_NEW_ACCOUNT_COMMENTS_PER_HOUR:
        raise TooMany(
            "new_account_limit",
            _("New accounts may post %(count)d comments an hour: try again later.")
            % {"count": settings.MODERATION_NEW_ACCOUNT_COMMENTS_PER_HOUR},
        )


def _normalised(body: str) -> str:
    return " ".join(queries.fold(body).split())


def _is_repeated(user: User, body: str) -> bool:
    """The same text (case, accents and spacing aside) posted by ``user`` recently."""
    since = timezone.now() - timedelta(hours=settings.MODERATION_REPEAT_HOURS)
    text = _normalised(body)
    recent = Comment.objects.filter(author=user, created_at__gte=since, deleted_at__isnull=True)
    return any(_normalised(other) == text for other in recent.values_list("body", flat=True)[:200])


def post_comment(
    user: Person,
    item: Item,
    body: str | None,
    stance: str = Comment.Stance.NEUTRAL,
    parent: Comment | None = None,
) -> Comment:
    consultation = item.consultation
    user = permissions.require_participation(
        permissions.can_comment(user, consultation), user, consultation
    )
    if parent is not None:
        if parent.item_id != item.pk:
            raise Invalid("foreign_parent", _("You can only reply to a comment on the same item."))
        _refuse_deleted_parent(parent)  # the same item: commenting was just allowed above
    body, stance = _clean(body, stance)
    _new_account_limits(user, body)
    held = _is_repeated(user, body)
    with transaction.atomic():
        comment = Comment.objects.create(
            item=item,
            author=user,
            body=body,
            folded_body=queries.fold(body),  # what a search of the debate reads
            stance=stance,
            parent=parent,
            moderation=Comment.Moderation.HELD if held else Comment.Moderation.VISIBLE,
            held_because=Comment.Held.REPEATED if held else "",
        )
        # Commenting follows the consultation and the comment's thread; a reply is told
        # to the parent's author and the thread's followers.
        follows.auto_follow(user, consultation, comment=comment)
        replies.reply_posted(comment)
        events.after_commit(events.comment_posted, comment.pk)
    return comment


def _refuse_suspended_author(user: Person, comment: Comment) -> None:
    """A suspended author is told so, not that the comment is not theirs."""
    if user.is_authenticated and comment.author_id == user.pk:
        suspension = permissions.suspension_of(user, comment.item.consultation)
        if suspension is not None:
            raise permissions.suspended(suspension)


def refuse_edit_unless_allowed(user: Person, comment: Comment) -> None:
    if not permissions.can_change_comment(user, comment):
        _refuse_suspended_author(user, comment)
        raise NotAllowed(
            "not_yours", _("You can only edit your own comments while the vote is open.")
        )


def edit_comment(
    user: Person, comment: Comment, body: str | None, stance: str | None = None
) -> Comment:
    refuse_edit_unless_allowed(user, comment)
    body, stance = _clean(body, stance or comment.stance)
    if body == comment.body and stance == comment.stance:
        return comment
    with transaction.atomic():
        comment = Comment.objects.select_for_update().get(pk=comment.pk)
        CommentRevision.objects.create(
            comment=comment, body=comment.body, stance=comment.stance, created_at=timezone.now()
        )
        comment.body, comment.stance, comment.edited_at = body, stance, timezone.now()
        comment.folded_body = queries.fold(body)
        comment.save(update_fields=["body", "folded_body", "stance", "edited_at"])
        events.after_commit(events.comment_edited, comment.pk)
    return comment


def delete_comment(user: Person, comment: Comment) -> Comment:
    if not permissions.can_change_comment(user, comment):
        _refuse_suspended_author(user, comment)
        raise NotAllowed(
            "not_yours", _("You can only delete your own comments while the vote is open.")
        )
    return erase_comment(comment, reason="deleted_by_author")


def erase_comment(comment: Comment, *, reason: str) -> Comment:
    """Leave a placeholder: the text and its history go, the thread keeps its shape."""
    with transaction.atomic():
        comment.revisions.all().delete()
        comment.body = comment.folded_body = ""
        was_visible = comment.deleted_at is None
        comment.deleted_at = timezone.now()
        comment.save(update_fields=["body", "folded_body", "deleted_at"])
        if was_visible:
            events.after_commit(events.comment_hidden, comment.pk, reason)
    return comment


def toggle_useful(user: Person, comment: Comment) -> bool:
    """Mark (or unmark) a comment as useful; return whether it is now marked."""
    consultation = comment.item.consultation
    user = permissions.require_participation(
        permissions.can_react(user, consultation), user, consultation
    )
    if comment.is_deleted:
        raise Invalid("deleted_comment", _("This comment was deleted."))
    if comment.author_id == user.pk:
        raise Invalid("own_comment", _("You cannot mark your own comment as useful."))
    deleted, _rows = CommentReaction.objects.filter(comment=comment, user=user).delete()
    if deleted:
        events.changed(consultation)  # the count on the page (the anonymous page cache)
        return False
    try:
        with transaction.atomic():
            CommentReaction.objects.create(comment=comment, user=user)
            replies.marked_useful(comment)  # batched: one notice a day, never who
            events.changed(consultation)
    except IntegrityError:
        pass  # a double click created it already
    return True
