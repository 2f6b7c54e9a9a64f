"""A notice as an e-mail: text and HTML, in the recipient's language, no tracking (no
pixel, no redirecting link: every link goes straight to its page), with a footer saying
why the person gets it, where to change that, and a one-click unsubscribe (RFC 8058:
``List-Unsubscribe`` with an https address and ``List-Unsubscribe-Post``)."""

import email.policy
from email.message import EmailMessage as StdlibMessage
from email.policy import Policy
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import User
from consultation.models import Notice
from consultation.notices import unsubscribe, wording

# Headers holding one long address each: folded, Python's e-mail package would cut them
# into RFC 2047 encoded words (``=?utf-8?q?=3Chttps…?=``), which mail providers do not
# read as an address, and the one-click unsubscribe would not show. RFC 5322 allows lines
# up to 998 characters: these are written whole.
WHOLE_HEADERS = {"list-unsubscribe"}


class _KeepAddressesWhole(email.policy.EmailPolicy):
    def fold(self, name: str, value: str) -> str:
        if name.lower() in WHOLE_HEADERS:
            return super(_KeepAddressesWhole, self.clone(max_line_length=998)).fold(name, value)
        return super().fold(name, value)

    def fold_binary(self, name: str, value: str) -> bytes:
        if name.lower() in WHOLE_HEADERS:
            wide = self.clone(max_line_length=998)
            return super(_KeepAddressesWhole, wide).fold_binary(name, value)
        return super().fold_binary(name, value)


class NoticeEmail(EmailMultiAlternatives):
    """A notice's e-mail: whatever policy the backend asks for (``SMTP`` for the SMTP
    backend), with ``List-Unsubscribe`` written whole."""

    def message(self, *, policy: Policy | None = email.policy.default) -> StdlibMessage:
        if isinstance(policy, email.policy.EmailPolicy):
            policy = _KeepAddressesWhole(**policy.__dict__)
        return super().message(policy=policy)


def _reason(notice: Notice) -> str:
    if notice.kind in (Notice.Kind.MODERATION, Notice.Kind.APPEAL):
        return _("You receive this e-mail because a moderation decision concerns you.")
    return _(
        "You receive this e-mail because you chose to hear of “%(kind)s” by e-mail; you can "
        "change that in your notification settings."
    ) % {"kind": Notice.Kind(notice.kind).label}


def footer(user: User, what: str) -> dict[str, Any]:
    """What every notice e-mail ends with: the settings page and the unsubscribe link
    for ``what`` (a kind of notice, or a digest)."""
    return {
        "settings_link": settings.SITE_URL + reverse("notices:settings"),
        "unsubscribe_link": unsubscribe.link(user, what),
        "SITE_NAME": settings.SITE_NAME,
    }


def language_of(user: User) -> str:
    return user.preferred_language or settings.LANGUAGE_CODE


def assemble(
    user: User, subject: str, text: str, html: str, unsubscribe_link: str
) -> EmailMultiAlternatives:
    """The message itself: multipart, marked automatic, with the RFC 8058 headers."""
    message = NoticeEmail(
        f"[{settings.SITE_NAME}] {subject}",
        text,
        settings.DEFAULT_FROM_EMAIL,
        [user.email],
        headers={
            "Auto-Submitted": "auto-generated",
            "List-Unsubscribe": f"<{unsubscribe_link}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach_alternative(html, "text/html")
    return message


def build(notice: Notice, user: User) -> EmailMultiAlternatives:
    """The e-mail of one notice, for ``user`` (its recipient)."""
    with translation.override(language_of(user)):
        subject = wording.title(notice)
        context = {
            "notice": notice,
            "user": user,
            "title": subject,
            "lines": wording.lines(notice),
            "link": settings.SITE_URL + (notice.url or reverse("notices:list")),
            "link_label": wording.link_label(notice),
            "notices_link": settings.SITE_URL + reverse("notices:list"),
            "reason": _reason(notice),
            **footer(user, notice.kind),
        }
        text = render_to_string("consultation/emails/notice.txt", context)
        html = render_to_string("consultation/emails/notice.html", context)
    return assemble(user, subject, text, html, context["unsubscribe_link"])
