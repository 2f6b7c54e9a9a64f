"""A notice as an e-mail: text and HTML, in the recipient's language, no tracking (no
pixel, no redirecting link), with a footer saying why the person gets it."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import User
from consultation.models import Notice
from consultation.notices import wording

WHY = {
    Notice.Kind.MODERATION: "a moderation decision concerns you",
    Notice.Kind.APPEAL: "a moderation decision concerns you",
}


def _reason(notice: Notice) -> str:
    if notice.kind in (Notice.Kind.MODERATION, Notice.Kind.APPEAL):
        return _("You receive this e-mail because a moderation decision concerns you.")
    return _(
        "You receive this e-mail because you chose to hear of “%(kind)s” by e-mail; you can "
        "change that in your notification settings."
    ) % {"kind": Notice.Kind(notice.kind).label}


def build(notice: Notice, user: User) -> EmailMultiAlternatives:
    """The e-mail of one notice, for ``user`` (its recipient)."""
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
            "reason": _reason(notice),
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
