"""What the debate tells people: a reply (to the parent comment's author and to the
thread's followers), a comment marked useful (to its author, batched per day).

Both run in the transaction of the write they follow (``participation.debate``) and go
through ``sending.notify``: a person's preferences decide where each notice goes.
"""

from datetime import datetime, time

from django.utils import timezone

from consultation.models import Comment, CommentReaction, Notice
from consultation.notices import follows, sending


def comment_link(comment: Comment) -> str:
    """The item page at the debate page holding ``comment``, scrolled to it."""
    return f"{comment.item.get_absolute_url()}?comment={comment.pk}#comment-{comment.pk}"


def _about(comment: Comment) -> dict[str, object]:
    item = comment.item
    return {"item": item.pk, "item_title": item.title, "item_title_en": item.title_en}


def reply_posted(comment: Comment) -> int:
    """Tell the parent comment's author and the thread's followers of a reply: each
    person once, never its author; nothing for a reply held for review (its text is not
    shown: ``moderation.decisions.released`` calls this again when it is) or deleted.
    Returns how many people were told."""
    parent = comment.parent
    if parent is None or comment.is_withheld or comment.is_deleted:
        return 0
    consultation = comment.item.consultation
    url = comment_link(comment)
    key = f"reply:{comment.pk}"
    data = {**_about(comment), "comment": comment.pk, "parent": parent.pk}
    told = {comment.author_id} if comment.author_id is not None else set()
    sent = 0
    if parent.author is not None and parent.author.pk not in told:
        told.add(parent.author.pk)
        notice = sending.notify(
            parent.author,
            Notice.Kind.REPLY,
            consultation=consultation,
            data={**data, "to": "author"},
            url=url,
            key=key,
        )
        sent += notice is not None
    for person in follows.thread_followers(comment).exclude(pk__in=told).order_by("pk"):
        notice = sending.notify(
            person,
            Notice.Kind.REPLY,
            consultation=consultation,
            data={**data, "to": "follower"},
            url=url,
            key=key,
        )
        sent += notice is not None
    return sent


def _day_start() -> datetime:
    today = timezone.localdate()
    return timezone.make_aware(datetime.combine(today, time.min))


def marked_useful(comment: Comment) -> None:
    """Tell the comment's author that people found it useful: one notice per comment per
    day, whose count grows while it is unread. Never who marked it."""
    author = comment.author
    if author is None or not author.is_active:
        return
    key = f"useful:{comment.pk}:{timezone.localdate().isoformat()}"
    count = CommentReaction.objects.filter(comment=comment, created_at__gte=_day_start()).count()
    existing = Notice.objects.select_for_update().filter(user=author, key=key).first()
    if existing is not None:
        if existing.read_at is None and existing.data.get("count") != count:
            existing.data = {**existing.data, "count": count}
            existing.save(update_fields=["data"])
        return
    sending.notify(
        author,
        Notice.Kind.USEFUL,
        consultation=comment.item.consultation,
        data={**_about(comment), "comment": comment.pk, "count": count},
        url=comment_link(comment),
        key=key,
    )
