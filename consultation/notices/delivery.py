"""Sending notices' e-mails from the worker: each notice is claimed, sent and marked, one
at a time, so that a worker killed mid-way leaves the rest to the retried task and sends
nothing twice.

A notice waiting to be mailed is ``pending``. A worker claims a batch (``sending``, with the
time it claimed it: its claim's token) under ``SKIP LOCKED``, so two workers never take the
same rows, sends the batch over one SMTP connection, and marks each ``sent`` as soon as the
server accepted it. A claim older than ``NOTICE_EMAIL_LEASE_SECONDS`` belongs to a worker
that died: the notice is sent again by whoever claims it next. A worker still sending
renews its claim every third of the lease (a batch slowed by the rate below never loses
its notices to another worker), and marks a notice only under its own claim.

The only message that can go twice is the one whose server acceptance and ``sent`` mark
were split by the kill (one local UPDATE apart); each notice's e-mail carries a
``Message-ID`` of its own, the same at every attempt, by which mail systems recognise a
repeat.

A refusal for one address never stops the others: a permanent one (5xx: unknown
mailbox, refused sender or message) marks that notice ``failed``; a temporary one (4xx:
mailbox full, greylisting) puts it back to ``pending`` and, once the rest of the batch is
sent, raises ``PutOff`` so the task is retried later for those alone. A notice whose
message cannot even be built is ``failed`` and logged. A server that goes away puts the
unsent back to ``pending`` and re-raises (the task retries).

The pace: at most ``NOTICE_EMAILS_PER_SECOND`` e-mails a second (0: as fast as the server
takes them), for the whole site, counted in slots of a tenth of a second in the shared
cache, so that every worker together keeps to the operator's rate.
"""

import logging
import math
import smtplib
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage, mailers
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from config.cache import degradable
from consultation import jobs
from consultation.models import Notice
from consultation.notices import message, personal_results

logger = logging.getLogger(__name__)
# A pending notice this old, or a claim this old, has lost its task: the periodic sweep
# queues it again (a retried task that finds it sent sends nothing).
SWEEP_AFTER_SECONDS = 3600
SWEEP_AT_MOST = 10_000


class PutOff(smtplib.SMTPException):
    """The server put some addresses off for now (4xx): they wait again, the task retries."""


def _claim(notice_ids: list[int]) -> tuple[list[Notice], datetime]:
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
    return rows, now


def _ours(pks: Iterable[int], token: datetime) -> QuerySet[Notice]:
    return Notice.objects.filter(pk__in=pks, email=Notice.Email.SENDING, email_claimed_at=token)


def _renew(unsent: set[int], token: datetime) -> tuple[set[int], datetime]:
    """Extend our claim on what is left; return what is still ours and the new token."""
    renewed = timezone.now()
    _ours(unsent, token).update(email_claimed_at=renewed)
    kept = set(_ours(unsent, renewed).values_list("pk", flat=True))
    if kept != unsent:
        logger.warning("notices %s were claimed by another worker", sorted(unsent - kept))
    return kept, renewed


class Pace:
    """At most ``rate`` e-mails a second across every worker (0: no limit): slots of
    ``per_slot`` e-mails every ``per_slot / rate`` seconds (about a tenth of a second),
    counted in the shared cache."""

    def __init__(self, rate: float):
        self.rate = rate
        self.per_slot = max(1, math.ceil(rate / 10)) if rate > 0 else 0
        self.slot_seconds = self.per_slot / rate if rate > 0 else 0.0

    def wait(self) -> None:
        if self.rate <= 0:
            return
        cache = degradable()
        ttl = max(2, math.ceil(self.slot_seconds * 2))
        while True:
            slot = int(time.time() / self.slot_seconds)
            key = f"notices:mail-pace:{self.rate}:{slot}"
            cache.add(key, 0, timeout=ttl)
            try:
                taken = cache.incr(key)
            except ValueError:  # expired between add and incr: take the next slot
                continue
            if taken <= self.per_slot:
                return
            time.sleep(max(0.0, (slot + 1) * self.slot_seconds - time.time()))


def message_id(notice: Notice) -> str:
    """The same at every attempt: a repeat after a kill is recognisably the same e-mail."""
    host = urlsplit(settings.SITE_URL).hostname or "agora.invalid"
    return f"<notice.{notice.pk}.{notice.created_at:%Y%m%d%H%M%S}@{host}>"


def _build(notice: Notice, batch: personal_results.Batch) -> EmailMessage:
    if notice.kind == Notice.Kind.PERSONAL_RESULTS:
        email: EmailMessage = personal_results.build(notice, notice.user, batch)
    else:
        email = message.build(notice, notice.user)
    email.extra_headers["Message-ID"] = message_id(notice)
    return email


def refusal_is_permanent(error: smtplib.SMTPException) -> bool:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _text in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code >= 500
    return True


def deliver(notice_ids: list[int]) -> dict[str, int]:
    """Send the e-mails of these notices that still wait; return what happened."""
    done = {"sent": 0, "failed": 0, "put_off": 0, "skipped": 0}
    rows, token = _claim(notice_ids)
    done["skipped"] = len(notice_ids) - len(rows)
    if not rows:
        return done
    unsent = {row.pk for row in rows}
    put_off: list[int] = []
    batch = personal_results.prepare(rows)
    pace = Pace(settings.NOTICE_EMAILS_PER_SECOND)
    renew_every = settings.NOTICE_EMAIL_LEASE_SECONDS / 3
    renewed_at = time.monotonic()
    try:
        with mailers.default as connection:
            for notice in rows:
                if time.monotonic() - renewed_at > renew_every:
                    unsent, token = _renew(unsent, token)
                    renewed_at = time.monotonic()
                if notice.pk not in unsent:
                    continue  # another worker took it over
                try:
                    email = _build(notice, batch)
                except Exception:
                    logger.exception("notice %s: its e-mail could not be built", notice.pk)
                    _ours([notice.pk], token).update(email=Notice.Email.FAILED)
                    done["failed"] += 1
                    unsent.discard(notice.pk)
                    continue
                pace.wait()
                try:
                    connection.send_messages([email])
                except (
                    smtplib.SMTPRecipientsRefused,
                    smtplib.SMTPSenderRefused,
                    smtplib.SMTPDataError,
                ) as error:
                    if refusal_is_permanent(error):
                        logger.warning("notice %s: refused for good: %s", notice.pk, error)
                        _ours([notice.pk], token).update(email=Notice.Email.FAILED)
                        done["failed"] += 1
                    else:
                        logger.info("notice %s: put off by the server: %s", notice.pk, error)
                        put_off.append(notice.pk)
                        done["put_off"] += 1
                else:
                    _ours([notice.pk], token).update(
                        email=Notice.Email.SENT, emailed_at=timezone.now()
                    )
                    done["sent"] += 1
                unsent.discard(notice.pk)
    except Exception:
        # The server went away: what was not sent waits again, for the retried task.
        _ours(unsent | set(put_off), token).update(
            email=Notice.Email.PENDING, email_claimed_at=None
        )
        raise
    if put_off:
        _ours(put_off, token).update(email=Notice.Email.PENDING, email_claimed_at=None)
        raise PutOff(f"{len(put_off)} addresses put off for now: notices {put_off}")
    return done


def sweep(now: datetime | None = None) -> int:
    """Periodic: queue again the e-mails whose task was lost (pending, or claimed by a
    worker that died, for more than ``SWEEP_AFTER_SECONDS``). Returns how many."""
    now = now or timezone.now()
    old = now - timedelta(seconds=SWEEP_AFTER_SECONDS)
    stale = now - timedelta(seconds=max(SWEEP_AFTER_SECONDS, settings.NOTICE_EMAIL_LEASE_SECONDS))
    lost = list(
        Notice.objects.filter(
            Q(email=Notice.Email.PENDING, created_at__lt=old)
            | Q(email=Notice.Email.SENDING, email_claimed_at__lt=stale)
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:SWEEP_AT_MOST]
    )
    for start in range(0, len(lost), settings.NOTICE_EMAIL_BATCH):
        jobs.queue_notice_emails(lost[start : start + settings.NOTICE_EMAIL_BATCH])
    return len(lost)
