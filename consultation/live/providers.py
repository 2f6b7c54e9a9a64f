"""The websocket streams of a consultation, plugged into ``realtime.topics``: who may follow
which topic (a draft is answered like an unknown slug), snapshots, and the resync after a
Redis outage.
"""

import logging
import threading
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from accounts.types import Person
from consultation import permissions
from consultation.live.counters import rebuild
from consultation.live.events import (
    moderation_frame,
    moderation_topic,
    pending_timers,
    snapshot_frame,
    topic,
)
from consultation.live.repair import reconcile
from consultation.models import Comment, Consultation, Rule
from consultation.moderation import reports, space
from consultation.notices import sending
from realtime import broadcast
from realtime.topics import NOT_ALLOWED, NOT_FOUND, Access, Provider, register

logger = logging.getLogger(__name__)

# --- websocket providers ----------------------------------------------------------------


def _consultation_from_topic(name: str) -> Consultation:
    return Consultation.objects.get(pk=int(name.split(":", 1)[1]))


# A consultation its visitor may not see (a draft) is answered as one that does not
# exist, as the pages answer 404 for both: a different close code would tell that a
# draft of that address exists.


def _resolve_public(user: Person, slug: str) -> Access:
    consultation = Consultation.objects.filter(slug=slug).first()
    if consultation is None or not permissions.can_view(user, consultation):
        return Access(None, NOT_FOUND)
    # Open to everyone once it is no draft: the answer holds for the storm's next
    # visitors, until the topic's next frame (a status change publishes one).
    shared = permissions.can_view(AnonymousUser(), consultation)
    return Access(topic(consultation.pk), shared=shared)


def _resolve_moderation(user: Person, slug: str) -> Access:
    consultation = Consultation.objects.filter(slug=slug).first()
    if consultation is None:
        return Access(None, NOT_FOUND)
    if permissions.can_moderate(user, consultation):
        return Access(moderation_topic(consultation.pk))
    if not permissions.can_view(user, consultation):
        return Access(None, NOT_FOUND)
    return Access(None, NOT_ALLOWED)


def _moderation_snapshot(name: str) -> dict:
    """The consultation's queue as its moderators' pages show it: the most urgent
    entries (``moderation.space.QUEUE_PAGE`` of them), each with the comment as
    moderators see it (its text even when withheld), its open reports and urgency."""
    consultation = _consultation_from_topic(name)
    seq = broadcast.current_seq(name)  # first: a frame after it applies on top
    rows = reports.queue(Consultation.objects.filter(pk=consultation.pk), limit=space.QUEUE_PAGE)
    return {
        "type": "moderation.snapshot",
        "stream": "moderation",
        "seq": seq,
        "queue": [_queued(row) for row in rows],
        "limit": space.QUEUE_PAGE,
        "at": timezone.now().isoformat(),
    }


def _queued(row: dict[str, Any]) -> dict[str, Any]:
    comment: Comment = row["comment"]
    return {
        "comment": moderation_frame(comment, "queued")["comment"],
        "reporters": row["reporters"],
        "weight": row["weight"],
        "urgency": row["urgency"],
        "rules": [
            {"rule": code, "rule_number": Rule.number(code), "count": count}
            for code, count in row["rules"]
        ],
        "waiting_since": row["waiting_since"].isoformat(),
    }


# --- the personal stream (ws/me/) ------------------------------------------------------
# One topic per account, "personal:<user id>". What reaches it are personal frames
# (``realtime.broadcast.tell_user``), ordered rather than numbered per topic (their
# ``order``: ``notices.sending.unread_frames``); its snapshot is read for each socket
# (``realtime.consumers.PersonalConsumer``), never shared.


def _resolve_personal(user: Person) -> Access:
    """The signed-in person's own stream; anyone else is refused (4403)."""
    if not user.is_authenticated:
        return Access(None, NOT_ALLOWED)
    return Access(personal_topic(user.pk))


def personal_topic(user_id: int) -> str:
    return f"personal:{user_id}"


def _personal_snapshot(name: str) -> dict:
    """The menu's unread count, numbered like every change of it (``notices.sending``)."""
    user_id = int(name.split(":", 1)[1])
    return sending.unread_frames([user_id])[user_id]


RESYNC_SETTLE_SECONDS = 2.0


def _resync(name: str) -> None:
    """After an outage: rebuild from the database now, and check again shortly.

    Changes committed while the rebuild reads the database can be overwritten by
    it; the second look, a moment later, repairs them (and says so in the log).
    """
    consultation = _consultation_from_topic(name)
    rebuild(consultation)
    timer = threading.Timer(RESYNC_SETTLE_SECONDS, _settle, args=(consultation.pk,))
    timer.daemon = True
    pending_timers.add(timer)
    timer.start()


def _settle(consultation_id: int) -> None:
    from django.db import connection

    try:
        consultation = Consultation.objects.filter(pk=consultation_id).first()
        if consultation is not None:
            reconcile(consultation)
    except Exception:
        logger.exception("settling the counters of consultation %s failed", consultation_id)
    finally:
        connection.close()
        pending_timers.discard(threading.current_thread())


def register_providers() -> None:
    register(
        "consultation",
        Provider(
            resolve=_resolve_public,
            snapshot=lambda name: snapshot_frame(_consultation_from_topic(name)),
            resync=_resync,
        ),
    )
    register("moderation", Provider(resolve=_resolve_moderation, snapshot=_moderation_snapshot))
    register("personal", Provider(resolve=_resolve_personal, snapshot=_personal_snapshot))
