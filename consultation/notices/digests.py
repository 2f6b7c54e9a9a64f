"""Digests: one e-mail a day (or a week) grouping the notices a person chose to hear of
that way.

A notice for a kind on "daily digest" or "weekly digest" is written ``digest``
(``preferences.email_state``). At the digest time (``NOTICE_DIGEST_HOUR`` in the site's
time zone, every day; on ``NOTICE_DIGEST_WEEKDAY`` for the weekly one), the periodic task
gathers each person's digest notices written before that time, sends them in one
multipart e-mail in the person's language, marks them sent (``emailed_at``) and records
the digest's time (``NoticeSettings.daily_digest_at``/``weekly_digest_at``).

Which digest a notice goes in is the person's choice *now*: a kind moved to the weekly
digest waits for it, a kind moved to "e-mail at once" goes in the next daily digest, a
kind moved to "site" or "never" is not mailed at all.

Running the task twice sends nothing twice: a person whose digest of that period is
recorded is skipped, and sent notices are no longer ``digest``. Two runs at once: the
person's settings row is locked while their notices are claimed (``email_claimed_at``,
the state staying ``digest``); a claim older than ``NOTICE_EMAIL_LEASE_SECONDS`` belongs
to a run that died, and its notices go in the next digest.

A refusal for one person never stops the others' digests: refused for good (5xx, at the
address or at the message), their notices are ``failed``; put off for now (4xx), the
claim is let go and the digest goes at the next run (its period is not recorded as done).
"""

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from consultation.models import Channel, Notice, NoticeSettings
from consultation.notices import delivery, message, preferences, wording

logger = logging.getLogger(__name__)

DAILY = "daily"
WEEKLY = "weekly"
FIELD = {DAILY: "daily_digest_at", WEEKLY: "weekly_digest_at"}
# What the server says of one message: the others still go.
REFUSALS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)


def boundary(period: str, now: datetime | None = None) -> datetime:
    """The latest digest time of ``period`` at or before ``now``: today's (or
    yesterday's) digest hour, for the weekly one on the digest weekday."""
    local = timezone.localtime(now or timezone.now())
    day = local.date()
    if local.hour < settings.NOTICE_DIGEST_HOUR:
        day -= timedelta(days=1)
    if period == WEEKLY:
        day -= timedelta(days=(day.weekday() - settings.NOTICE_DIGEST_WEEKDAY) % 7)
    naive = datetime(day.year, day.month, day.day, settings.NOTICE_DIGEST_HOUR)
    return timezone.make_aware(naive)


def period_of(channel: str) -> str | None:
    """Which digest a waiting notice goes in, by the channel chosen now for its kind."""
    if channel == Channel.WEEKLY:
        return WEEKLY
    if channel in (Channel.DAILY, Channel.EMAIL):
        return DAILY
    return None  # on the site only, or never: not mailed


def _unclaimed(now: datetime) -> Q:
    stale = now - timedelta(seconds=settings.NOTICE_EMAIL_LEASE_SECONDS)
    return Q(email_claimed_at__isnull=True) | Q(email_claimed_at__lt=stale)


@dataclass
class Claimed:
    user: User
    notices: list[Notice]


def _claim(user_id: int, period: str, cutoff: datetime, now: datetime) -> Claimed | None:
    """Lock the person's settings, check their digest of ``period`` is due, and claim
    the notices it groups. None when there is nothing to send."""
    with transaction.atomic():
        user = User.objects.filter(pk=user_id).first()
        if user is None:
            return None
        preferences.settings_of(user)
        row = NoticeSettings.objects.select_for_update().get(user=user)
        last = getattr(row, FIELD[period])
        if last is not None and last >= cutoff:
            return None  # this period's digest went already
        waiting = list(
            Notice.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(user=user, email=Notice.Email.DIGEST, created_at__lt=cutoff)
            .filter(_unclaimed(now))
            .select_related("consultation")
            .order_by("created_at", "pk")
        )
        picked, dropped = [], []
        for notice in waiting:
            goes = period_of(preferences.channel(user, notice.kind, row))
            if goes == period:
                picked.append(notice)
            elif goes is None:
                dropped.append(notice.pk)
        if dropped:
            Notice.objects.filter(pk__in=dropped).update(email=Notice.Email.NONE)
        if not picked or not user.is_active or not user.email:
            return None
        Notice.objects.filter(pk__in=[n.pk for n in picked]).update(email_claimed_at=now)
    return Claimed(user, picked)


def build(user: User, period: str, notices: list[Notice]) -> EmailMultiAlternatives:
    """One e-mail grouping ``notices``, in the person's language."""
    what = f"digest:{period}"
    with translation.override(message.language_of(user)):
        count = len(notices)
        if period == WEEKLY:
            subject = ngettext(
                "Your weekly digest: %(count)d notification",
                "Your weekly digest: %(count)d notifications",
                count,
            ) % {"count": count}
            reason = _(
                "You receive this e-mail because you chose to hear of some notifications "
                "in a weekly digest."
            )
        else:
            subject = ngettext(
                "Your daily digest: %(count)d notification",
                "Your daily digest: %(count)d notifications",
                count,
            ) % {"count": count}
            reason = _(
                "You receive this e-mail because you chose to hear of some notifications "
                "in a daily digest."
            )
        entries = [
            {
                "notice": notice,
                "title": wording.title(notice),
                "lines": wording.lines(notice),
                "link": settings.SITE_URL + notice.url if notice.url else "",
                "link_label": wording.link_label(notice),
            }
            for notice in notices
        ]
        context = {
            "user": user,
            "title": subject,
            "entries": entries,
            "notices_link": settings.SITE_URL + reverse("notices:list"),
            "reason": reason,
            **message.footer(user, what),
        }
        text = render_to_string("consultation/emails/digest.txt", context)
        html = render_to_string("consultation/emails/digest.html", context)
    return message.assemble(user, subject, text, html, context["unsubscribe_link"])


def _done(claimed: Claimed, period: str, state: str, now: datetime) -> None:
    ids = [n.pk for n in claimed.notices]
    with transaction.atomic():
        Notice.objects.filter(pk__in=ids, email=Notice.Email.DIGEST).update(
            email=state,
            emailed_at=now if state == Notice.Email.SENT else None,
            email_claimed_at=None,
        )
        NoticeSettings.objects.filter(user=claimed.user).update(**{FIELD[period]: now})


def _release(claimed: Claimed) -> None:
    Notice.objects.filter(pk__in=[n.pk for n in claimed.notices], email=Notice.Email.DIGEST).update(
        email_claimed_at=None
    )


def due_users(period: str, cutoff: datetime, now: datetime) -> list[int]:
    """People with notices waiting for a digest, written before ``cutoff``."""
    rows = (
        Notice.objects.filter(email=Notice.Email.DIGEST, created_at__lt=cutoff)
        .filter(_unclaimed(now))
        .values_list("user_id", flat=True)
        .distinct()
        .order_by("user_id")
    )
    return list(rows)


def send_due(now: datetime | None = None) -> dict[str, int]:
    """Send every digest that is due at ``now``; return what happened."""
    now = now or timezone.now()
    done = {"sent": 0, "failed": 0, "put_off": 0, "notices": 0}
    for period in (DAILY, WEEKLY):
        cutoff = boundary(period, now)
        users = due_users(period, cutoff, now)
        if not users:
            continue
        with mailers.default as connection:
            for user_id in users:
                claimed = _claim(user_id, period, cutoff, now)
                if claimed is None:
                    continue
                try:
                    mail = build(claimed.user, period, claimed.notices)
                    connection.send_messages([mail])
                except REFUSALS as error:
                    if delivery.refusal_is_permanent(error):
                        logger.warning("digest for %s: refused for good: %s", user_id, error)
                        _done(claimed, period, Notice.Email.FAILED, now)
                        done["failed"] += 1
                    else:
                        logger.info("digest for %s: put off by the server: %s", user_id, error)
                        _release(claimed)
                        done["put_off"] += 1
                except Exception:
                    _release(claimed)  # sent in the retried task, or the next run
                    raise
                else:
                    _done(claimed, period, Notice.Email.SENT, now)
                    done["sent"] += 1
                    done["notices"] += len(claimed.notices)
    return done
