"""Write a notice as its recipient wants it, and queue its e-mail after the commit
(``consultation.notices.delivery`` sends it from the worker)."""

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from accounts.models import User
from consultation import jobs
from consultation.models import Consultation, Notice
from consultation.notices import preferences
from realtime import broadcast


def notify(
    user: User | None,
    kind: str,
    *,
    consultation: Consultation | None,
    data: dict[str, Any],
    url: str = "",
    key: str = "",
) -> Notice | None:
    """Tell ``user`` (nobody when None: an erased account), as their preferences say, in
    the caller's transaction; its e-mail, if any, leaves after the commit. With a ``key``,
    once only: a second call finds the first notice and writes and sends nothing."""
    if user is None or not user.is_active:
        return None
    email = preferences.email_state(user, kind)
    if email is None:
        return None
    if consultation is not None:
        data = {"consultation_title": consultation.title, **data}
    fields = {"kind": kind, "consultation": consultation, "data": data, "url": url, "email": email}
    if key:
        notice, created = Notice.objects.get_or_create(user=user, key=key, defaults=fields)
        if not created:
            return notice
    else:
        notice = Notice.objects.create(user=user, **fields)
    if email == Notice.Email.PENDING:
        jobs.queue_notice_emails([notice.pk])
    transaction.on_commit(lambda: unread_changed(user.pk), robust=True)
    return notice


def unread_frames(user_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Each person's ``notices.unread`` frame (the menu's counter), the one shape the
    stream's snapshot and every change send: their unread count, read in one query, and
    its ``order``, taken just before that read (``broadcast.take_order``). Two frames
    that cross on their way arrive in any order; the client keeps the larger ``order``,
    which holds the newer count (docs/realtime.md)."""
    ids = list(user_ids)
    if not ids:
        return {}
    order = broadcast.take_order()
    counts = dict(
        Notice.objects.filter(user_id__in=ids, read_at__isnull=True)
        .values("user_id")
        .annotate(n=Count("pk"))
        .values_list("user_id", "n")
    )
    frames: dict[int, dict[str, Any]] = {}
    for user_id in ids:
        frame: dict[str, Any] = {
            "type": "notices.unread",
            "stream": "personal",
            "unread": counts.get(user_id, 0),
        }
        if order is not None:
            frame["order"] = order
        frames[user_id] = frame
    return frames


def unread_changed(*user_ids: int) -> None:
    """Tell these people's open pages their unread count, read after the commit."""
    for user_id, frame in unread_frames(user_ids).items():
        broadcast.tell_user(user_id, frame)


def unread_count(user: User) -> int:
    return Notice.objects.filter(user=user, read_at__isnull=True).count()


def mark_read(user: User, notice_ids: list[int] | None = None) -> int:
    """Mark the user's notices read (all of them when ``notice_ids`` is None)."""
    notices = Notice.objects.filter(user=user, read_at__isnull=True)
    if notice_ids is not None:
        notices = notices.filter(pk__in=notice_ids)
    changed = notices.update(read_at=timezone.now())
    if changed:
        transaction.on_commit(lambda: unread_changed(user.pk), robust=True)
    return changed
