"""Write a notice, and send its e-mail after the commit (``accounts.emails``)."""

from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts import emails
from accounts.models import User
from consultation.models import Consultation, Notice
from consultation.notices import wording


def notify(
    user: User | None,
    kind: str,
    *,
    consultation: Consultation | None,
    data: dict[str, Any],
    url: str = "",
    email: bool = False,
) -> Notice | None:
    """Tell ``user`` (nobody when None: an erased account); in the caller's transaction."""
    if user is None or not user.is_active:
        return None
    if consultation is not None:
        data = {"consultation_title": consultation.title, **data}
    notice = Notice.objects.create(
        user=user, kind=kind, consultation=consultation, data=data, url=url
    )
    if email and user.email:
        emails.send_later(_message(notice, user))
    return notice


def _message(notice: Notice, user: User) -> EmailMultiAlternatives:
    with translation.override(user.preferred_language or settings.LANGUAGE_CODE):
        subject = wording.title(notice)
        context = {
            "notice": notice,
            "user": user,
            "title": subject,
            "lines": wording.lines(notice),
            "link": settings.SITE_URL + (notice.url or reverse("notices:list")),
            "notices_link": settings.SITE_URL + reverse("notices:list"),
            "SITE_NAME": settings.SITE_NAME,
            "reason": _("You receive this e-mail because a moderation decision concerns you."),
        }
        text = render_to_string("consultation/emails/notice.txt", context)
        html = render_to_string("consultation/emails/notice.html", context)
    message = EmailMultiAlternatives(
        f"[{settings.SITE_NAME}] {subject}",
        text,
        settings.DEFAULT_FROM_EMAIL,
        [user.email],
        headers={"Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(html, "text/html")
    return message


def unread_count(user: User) -> int:
    return Notice.objects.filter(user=user, read_at__isnull=True).count()


def mark_read(user: User, notice_ids: list[int] | None = None) -> int:
    """Mark the user's notices read (all of them when ``notice_ids`` is None)."""
    notices = Notice.objects.filter(user=user, read_at__isnull=True)
    if notice_ids is not None:
        notices = notices.filter(pk__in=notice_ids)
    return notices.update(read_at=timezone.now())
