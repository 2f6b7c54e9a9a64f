"""Telling a large audience: chunked Celery work, idempotent per recipient and notice.

An event (a consultation opens, closes in 48 hours, closes early, has results published)
is told to its audience in three steps, each a task of its own:

1. ``start`` (task ``notify_audience``) checks the event still holds, words its facts
   once (``audience.notice_for``) and cuts the audience into ranges of ``CHUNK`` people
   by primary key (keyset paging: each range is bounded by ids, not by an offset, so a
   person joining meanwhile neither shifts nor repeats anyone), queueing one chunk task
   per range.
2. ``run_chunk`` (task ``notify_audience_chunk``) reads the range's people and their
   notice settings in one query each, writes their notices with one ``bulk_create(...,
   ignore_conflicts=True)`` on the unique (user, key) — so a retried or repeated chunk
   writes nothing twice — as each person's preference says (``preferences.email_state``:
   no notice, on the site, in a digest, or an e-mail to send), then queues the chunk's
   pending e-mails in batches of ``NOTICE_EMAIL_BATCH``.
3. ``send_notice_emails`` (``notices.delivery``) claims, sends and marks each e-mail, so a
   worker killed mid-way leaves the rest, and nothing sent, to the retried task.

Followers (``follows.followers``: of the consultation or of one of its items) hear of
the consultation's life. At a publication, the people who voted, graded or ranked get the
personal results notice instead of the general one (one e-mail each, not two); the
followers who did not take part get the general one.
"""

from __future__ import annotations

import itertools
import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from config.cache import degradable
from consultation import jobs
from consultation.models import (
    Ballot,
    Consultation,
    Grade,
    Notice,
    NoticeSettings,
    Publication,
    Vote,
)
from consultation.notices import audience, follows, personal_results, preferences, sending

logger = logging.getLogger(__name__)
Status = Consultation.Status

CHUNK = 1000  # people per chunk task: one query for them, one for their settings, one insert
FOLLOWERS, PARTICIPANTS = "followers", "participants"
# "Closes in 48 hours" is queued once per consultation: the periodic check remembers it
# this long (the notices' unique key is what guarantees once; this only saves the work).
CLOSING_MEMORY_SECONDS = 4 * 24 * 3600


# --- who hears of it ---------------------------------------------------------------------


def followers(consultation_id: int) -> QuerySet[User]:
    """Active accounts following the consultation itself or one of its items."""
    return follows.followers(Consultation(pk=consultation_id))


def participants(consultation_id: int) -> QuerySet[User]:
    """Active accounts that voted, graded or ranked in the consultation."""
    person = OuterRef("pk")
    return User.objects.filter(is_active=True).filter(
        Exists(Vote.objects.filter(user=person, item__consultation_id=consultation_id))
        | Exists(Grade.objects.filter(user=person, item__consultation_id=consultation_id))
        | Exists(Ballot.objects.filter(user=person, consultation_id=consultation_id))
    )


def audience_of(spec: dict[str, Any]) -> QuerySet[User]:
    if spec["audience"] == PARTICIPANTS:
        return participants(spec["consultation"])
    return followers(spec["consultation"])


# --- step 1: the event, cut into chunks ---------------------------------------------------


def _still_holds(kind: str, consultation: Consultation, now: Any) -> bool:
    """The event is still true when the job runs (a late job tells nothing stale)."""
    if kind == audience.OPENED:
        return consultation.status == Status.OPEN
    if kind == audience.CLOSING:
        return (
            consultation.status == Status.OPEN
            and consultation.closes_at is not None
            and now < consultation.closes_at
        )
    if kind == audience.CLOSED_EARLY:
        return consultation.is_finished
    return kind == audience.RESULTS


def specs_for(
    kind: str, consultation: Consultation, publication: Publication | None = None
) -> list[dict[str, Any]]:
    """What to write, for whom: plain data, passed to the chunk tasks as it is."""
    base = {"consultation": consultation.pk, "publication": publication.pk if publication else None}
    if kind != audience.RESULTS:
        return [{**audience.notice_for(kind, consultation), **base, "audience": FOLLOWERS}]
    general = audience.notice_for(audience.RESULTS, consultation, publication)
    personal = audience.notice_for(audience.PERSONAL_RESULTS, consultation, publication)
    return [
        {**general, **base, "audience": FOLLOWERS},
        {**personal, **base, "audience": PARTICIPANTS},
    ]


def ranges(people: QuerySet[User], size: int = CHUNK) -> list[tuple[int, int | None]]:
    """``(after, upto)`` id ranges of ``size`` people each; the last one is open-ended."""
    out: list[tuple[int, int | None]] = []
    after = 0
    while True:
        bound = list(
            people.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[size - 1 : size]
        )
        if not bound:
            out.append((after, None))
            return out
        out.append((after, bound[0]))
        after = bound[0]


def start(kind: str, consultation_id: int, publication_id: int | None = None) -> dict[str, Any]:
    """Queue the chunks telling ``kind`` to its audience (results: followers and people
    who took part). Safe to run twice: the chunks write each notice once."""
    consultation = Consultation.objects.filter(pk=consultation_id).first()
    if consultation is None:
        return {"skipped": "gone"}
    publication = None
    if kind == audience.RESULTS:
        publication = (
            Publication.objects.filter(pk=publication_id or 0, consultation=consultation)
            .defer("results_json", "manifest_json")
            .first()
        )
        if publication is None:
            return {"skipped": "no_publication"}
    if not _still_holds(kind, consultation, timezone.now()):
        return {"skipped": "stale"}
    chunks = 0
    for spec in specs_for(kind, consultation, publication):
        for after, upto in ranges(audience_of(spec)):
            jobs.queue_audience_chunk(spec, after, upto)
            chunks += 1
    return {"kind": kind, "consultation": consultation_id, "chunks": chunks}


# --- step 2: one chunk --------------------------------------------------------------------


def _no_settings(user_id: int) -> NoticeSettings:
    return NoticeSettings(user_id=user_id)  # unsaved: every kind takes its default


def run_chunk(spec: dict[str, Any], after: int, upto: int | None) -> dict[str, int]:
    """Write the notices of the people of this range, as each prefers, and queue their
    e-mails. Idempotent: a second run writes nothing and re-queues only what still waits
    (``delivery`` sends each e-mail once, whoever asks)."""
    kind, key, consultation_id = spec["kind"], spec["key"], spec["consultation"]
    people = audience_of(spec).filter(pk__gt=after)
    if upto is not None:
        people = people.filter(pk__lte=upto)
    users = list(people.order_by("pk").only("pk", "email", "is_active"))
    if not users:
        return {"people": 0, "written": 0, "queued": 0}
    ids = [user.pk for user in users]
    rows = {row.user_id: row for row in NoticeSettings.objects.filter(user_id__in=ids)}

    def state(user: User, of_kind: str) -> str | None:
        return preferences.email_state(user, of_kind, rows.get(user.pk) or _no_settings(user.pk))

    personal_items: dict[int, list[int]] = {}
    told_personally: set[int] = set()
    if kind == audience.PERSONAL_RESULTS:
        personal_items = personal_results.items_of(consultation_id, ids)
    elif kind == audience.RESULTS:
        # The people who took part hear of the publication in their personal notice.
        took_part = set(
            participants(consultation_id).filter(pk__in=ids).values_list("pk", flat=True)
        )
        told_personally = {
            user.pk
            for user in users
            if user.pk in took_part and state(user, audience.PERSONAL_RESULTS) is not None
        }
    notices = []
    for user in users:
        if user.pk in told_personally:
            continue
        email = state(user, kind)
        if email is None:
            continue  # "never"
        data = spec["data"]
        if kind == audience.PERSONAL_RESULTS:
            if not personal_items.get(user.pk):
                continue
            data = {**data, "items": personal_items[user.pk]}
        notices.append(
            Notice(
                user_id=user.pk,
                kind=kind,
                consultation_id=consultation_id,
                data=data,
                url=spec["url"],
                key=key,
                email=email,
            )
        )
    told = [notice.user_id for notice in notices]
    with transaction.atomic():
        # A retried chunk finds its notices written: it writes only the missing ones, and
        # the unique (user, key) has the last word should two runs overlap.
        written = set(
            Notice.objects.filter(user_id__in=told, key=key).values_list("user_id", flat=True)
        )
        notices = [notice for notice in notices if notice.user_id not in written]
        Notice.objects.bulk_create(notices, ignore_conflicts=True, batch_size=CHUNK)
        pending = list(
            Notice.objects.filter(user_id__in=told, key=key, email=Notice.Email.PENDING)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        for batch in itertools.batched(pending, settings.NOTICE_EMAIL_BATCH):
            jobs.queue_notice_emails(list(batch))
        transaction.on_commit(lambda: sending.unread_changed(*told), robust=True)
    return {"people": len(users), "written": len(notices), "queued": len(pending)}


# --- the periodic "closes in 48 hours" ----------------------------------------------------


def queue_closing_soon(now: Any = None) -> list[int]:
    """Periodic: queue "closes in 48 hours" for open consultations closing within that
    time, once each. Returns the consultations queued now."""
    now = now or timezone.now()
    due = Consultation.objects.open().filter(
        Q(closes_at__gt=now)
        & Q(closes_at__lte=now + timedelta(hours=audience.CLOSING_NOTICE_HOURS))
    )
    queued = []
    for pk in due.order_by("pk").values_list("pk", flat=True):
        # Remembered in the cache: a second run does not walk the audience again. Should
        # Redis forget it, the job runs again and writes nothing new (the notices' key).
        if degradable().add(f"notices:closing-queued:{pk}", 1, timeout=CLOSING_MEMORY_SECONDS):
            jobs.queue_audience_notices(audience.CLOSING, pk)
            queued.append(pk)
    return queued
