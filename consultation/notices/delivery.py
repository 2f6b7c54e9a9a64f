"""Sending notices' e-mails from the worker: each notice is claimed, sent and marked, one
at a time, so that a worker killed mid-way leaves the rest to the retried task and sends
nothing twice.

A notice waiting to be mailed is ``pending``. A worker claims a batch (``sending``, with the
time it claimed it) under ``SKIP LOCKED``, so two workers never take the same rows, sends
each over one SMTP connection, and marks each ``sent`` as soon as the server accepted it. A
claim older than ``NOTICE_EMAIL_LEASE_SECONDS`` belongs to a worker that died: the notice is
sent again by whoever claims it next. The only message that can go twice is the one whose
server acceptance and ``sent`` mark were split by the kill (one local UPDATE apart). A
refusal for one address (``SMTPRecipientsRefused``, a 5xx) marks that notice ``failed`` and
never stops the others.
"""

import logging
import smtplib
from datetime import timedelta

from django.conf import settings
from django.core.mail import mailers
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from consultation.models import Notice
from consultation.notices import message

logger = logging.getLogger(__name__)


def _claim(notice_ids: list[int]) -> list[Notice]:
    now = timezone.now()
    stale = now - timedelta(seconds=settings.NOTICE_EMAIL_LEASE_SECONDS)
    with transaction.atomic():
        rows = list(
            Notice.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk__in=notice_ids)
            .filter(
                Q(email=Notice.Email.PENDING)
                | Q(email=Notice.Email.SENDING, email_claimed_at__lt=stale)
            )
            .select_related("user", "consultation")
            .order_by("pk")
        )
        Notice.objects.filter(pk__in=[row.pk for row in rows]).update(
            email=Notice.Email.SENDING, email_claimed_at=now
        )
    return rows


def deliver(notice_ids: list[int]) -> dict[str, int]:
    """Send the e-mails of these notices that still wait; return what happened."""
    done = {"sent": 0, "failed": 0, "skipped": 0}
    rows = _claim(notice_ids)
    done["skipped"] = len(notice_ids) - len(rows)
    if not rows:
        return done
    unsent = [row.pk for row in rows]
    try:
        with mailers.default as connection:
            for notice in rows:
                try:
                    connection.send_messages([message.build(notice, notice.user)])
                except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as error:
                    logger.warning("notice %s: address refused: %s", notice.pk, error)
                    Notice.objects.filter(pk=notice.pk).update(email=Notice.Email.FAILED)
                    done["failed"] += 1
                else:
                    Notice.objects.filter(pk=notice.pk, email=Notice.Email.SENDING).update(
                        email=Notice.Email.SENT, emailed_at=timezone.now()
                    )
                    done["sent"] += 1
                unsent.remove(notice.pk)
    except Exception:
        # The server went away: what was not sent waits again, for the retried task.
        Notice.objects.filter(pk__in=unsent, email=Notice.Email.SENDING).update(
            email=Notice.Email.PENDING, email_claimed_at=None
        )
        raise
    return done
