"""After-commit hooks the domain calls, and the frames they publish: coalesced tallies,
snapshots, debate and moderation events, status changes.
"""

import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import translation

from config import page_cache
from consultation import permissions, queries
from consultation.live.counters import live_view
from consultation.live.stores import (
    FLUSH_CLAIM_SECONDS,
    REFUSED,
    VOTE,
    Unavailable,
    choice_field,
    comments_field,
    store,
)
from consultation.models import Appeal, Ballot, Comment, Consultation, Decision, Grade, Report, Vote
from consultation.results import small_groups
from realtime import broadcast

logger = logging.getLogger(__name__)

COALESCE_SECONDS = 0.25  # at most 4 tally frames a second per consultation


def topic(consultation_id: int) -> str:
    return f"consultation:{consultation_id}"


def moderation_topic(consultation_id: int) -> str:
    return f"moderation:{consultation_id}"


# --- frames -------------------------------------------------------------------------------


def _tally_body(consultation: Consultation) -> dict:
    """Hidden results: each item's comment count only. Shown: each item's tally as
    ``small_groups.public_tally`` shapes it for the pages and the API (breakdowns of
    small groups are None)."""
    participation, tallies = live_view(consultation)
    visible = permissions.results_are_public(consultation)
    items = {
        str(item_id): (
            small_groups.public_tally(tally, participation["ballots"])
            if visible
            else {"comments": tally["comments"]}
        )
        for item_id, tally in tallies.items()
    }
    return {"results_visible": visible, "participation": participation, "items": items}


def snapshot_frame(consultation: Consultation) -> dict:
    # Read the sequence number first: the counts read after it include every frame up
    # to it, so a client may drop any frame numbered at or below the snapshot's.
    seq = broadcast.current_seq(topic(consultation.pk))
    body = _tally_body(consultation)
    return {
        "type": "snapshot",
        "stream": "public",
        "seq": seq,
        "consultation": {"slug": consultation.slug, "status": consultation.status, **body},
    }


def publish_tally(consultation_id: int) -> int | None:
    consultation = Consultation.objects.filter(pk=consultation_id).first()
    if consultation is None:
        return None
    body = _tally_body(consultation)
    del body["results_visible"]
    return broadcast.publish(topic(consultation_id), {"type": "tally", "stream": "public", **body})


pending_timers: set[threading.Timer] = set()


def request_tally(consultation_id: int) -> None:
    """Coalesce: the first change in a 250 ms window schedules one tally frame."""
    current = store()
    if current.claim_flush(consultation_id):
        timer = threading.Timer(COALESCE_SECONDS, _flush, args=(consultation_id,))
        timer.daemon = True
        pending_timers.add(timer)
        timer.start()
    elif current.shared:
        _recheck_later(consultation_id)


# A change whose claim was refused rides along with the claimant's frame. If the claimant
# never sends it (its process was killed, or Redis went away before it could), the claim
# lingers until it expires and the pages would show stale counts until some later change
# (tests/faults/test_web_process_killed.py, test_redis_outage.py). So a process that was
# refused asks again once the claim has surely expired: at worst one redundant frame (a
# frame carries the whole counts). One pending recheck per consultation and process.
_rechecks: dict[int, threading.Timer] = {}
_rechecks_lock = threading.Lock()


def _recheck_later(consultation_id: int) -> None:
    with _rechecks_lock:
        if consultation_id in _rechecks:
            return
        timer = threading.Timer(
            FLUSH_CLAIM_SECONDS + COALESCE_SECONDS, _recheck, args=(consultation_id,)
        )
        timer.daemon = True
        _rechecks[consultation_id] = timer
    timer.start()


def cancel_rechecks() -> None:
    """Forget the pending rechecks (the end of a test: its consultations are gone)."""
    with _rechecks_lock:
        for timer in _rechecks.values():
            timer.cancel()
        _rechecks.clear()


def _recheck(consultation_id: int) -> None:
    with _rechecks_lock:
        _rechecks.pop(consultation_id, None)
    try:
        request_tally(consultation_id)
    except Unavailable:
        pass  # Redis is away: its return resyncs every socket (realtime.hub)
    except Exception:
        logger.exception("tally recheck for consultation %s failed", consultation_id)


def wait_for_pending_tallies(timeout: float = 2.0) -> None:
    """Let scheduled tally frames go out (process shutdown, end of a test); drop the
    rechecks, a safety net for claims a dead process left."""
    cancel_rechecks()
    for timer in list(pending_timers):
        timer.join(timeout)


def _flush(consultation_id: int) -> None:
    from django.db import connection

    try:
        # Release before reading: a change committed after this point schedules the
        # next frame; one committed before it is in the counts read below.
        store().release_flush(consultation_id)
        publish_tally(consultation_id)
    except Unavailable:
        pass
    except Exception:
        logger.exception("tally flush for consultation %s failed", consultation_id)
    finally:
        connection.close()  # this timer thread ends here: do not leave its connection open
        pending_timers.difference_update(
            {t for t in pending_timers if not t.is_alive() or t is threading.current_thread()}
        )


# --- the anonymous page cache (config/page_cache.py, decision 0039) ----------------------
# Each hook below that changes what a consultation's pages show bumps its page version
# after the commit, after the counters it updates: the next anonymous visitor gets a page
# rendered from the committed data. A rolled-back write runs no hook, and bumps nothing.

# Consultation id → slug, for the hooks that know only the id (a vote). A slug is frozen
# once the consultation opens (organising/consultations.py); a slug changed while
# preparing is bumped by name by ``pages_changed``'s caller.
_slugs: dict[int, str] = {}


def pages_changed(consultation_id: int, listed: bool = False, slug: str = "") -> None:
    """What the consultation's pages show changed; with ``listed``, what the home page and
    the lists show of it too. Called after the commit."""
    if slug:
        _slugs[consultation_id] = slug
    else:
        slug = _slugs.get(consultation_id, "")
        if not slug:
            found = Consultation.objects.filter(pk=consultation_id).values_list("slug", flat=True)
            slug = _slugs[consultation_id] = found.first() or ""
    if slug:
        page_cache.bump_consultation(slug)
    if listed:
        page_cache.bump_site()


def forget_page_slugs() -> None:
    """Forget which slug each id had (tests: ids come back after a rollback)."""
    _slugs.clear()


def changed(consultation: Consultation, *, listed: bool = False) -> None:
    """Queue ``pages_changed`` for after the commit (organising and results writes)."""
    after_commit(pages_changed, consultation.pk, listed, consultation.slug)


# --- after-commit hooks called by the domain -------------------------------------------


def after_commit(function: Callable[..., object], *args: object) -> None:
    """Queue ``function(*args)`` for after the commit; never let it fail the write."""
    transaction.on_commit(partial(_guarded, function, *args), robust=True)


def _guarded(function: Callable[..., object], *args: object) -> None:
    try:
        function(*args)
    except Unavailable:
        pass  # counted in the database; the counters are rebuilt when Redis returns
    except Exception:
        logger.exception("live update %s failed (the write itself stands)", function.__name__)


def still_takes_part(consultation_id: int, user_id: int) -> bool:
    return (
        Vote.objects.filter(item__consultation_id=consultation_id, user_id=user_id).exists()
        or Grade.objects.filter(item__consultation_id=consultation_id, user_id=user_id).exists()
        or Ballot.objects.filter(consultation_id=consultation_id, user_id=user_id).exists()
        or Comment.objects.filter(item__consultation_id=consultation_id, author_id=user_id).exists()
    )


def _changed(cid: int, user_id: int, deltas: dict[str, int], *, removed: bool) -> None:
    remove = user_id if removed and not still_takes_part(cid, user_id) else None
    store().apply(cid, deltas, add=None if removed else user_id, remove=remove)
    pages_changed(cid)
    request_tally(cid)


def choice_changed(
    kind: str, cid: int, item_id: int, user_id: int, old: str | int | None, new: str | int | None
) -> None:
    """A vote (``VOTE``) or grade (``GRADE``) went from ``old`` to ``new`` (None: absent)."""
    total = "votes" if kind == VOTE else "grades"
    deltas: defaultdict[str, int] = defaultdict(int)
    if old is not None:
        deltas[choice_field(kind, item_id, old)] -= 1
        deltas[total] -= 1
    if new is not None:
        deltas[choice_field(kind, item_id, new)] += 1
        deltas[total] += 1
    _changed(cid, user_id, deltas, removed=new is None)


def ballot_changed(
    cid: int, user_id: int, ballot_id: int, old: list[int] | None, new: list[int] | None
) -> None:
    """A ranking ballot went from ``old`` to ``new`` (item ids, best first; None: absent):
    one atomic transition of the ledger, the counters and the live matrix, refused when
    the ledger does not hold ``old`` (a repair got there first, or an earlier change was
    lost: ``repair.reconcile`` sets the ballot right from the database)."""
    remove = user_id if new is None and not still_takes_part(cid, user_id) else None
    moved = store().ballot_transition(
        cid,
        ballot_id,
        None if old is None else tuple(old),
        None if new is None else tuple(new),
        add=None if new is None else user_id,
        remove=remove,
    )
    if moved == REFUSED:
        logger.info("ballot %s of %s: the ledger did not hold its old ranking", ballot_id, cid)
    request_tally(cid)


def moderation_frame(comment: Comment, event: str) -> dict[str, Any]:
    """A comment as moderators see it: its text even when withheld from the public."""
    payload = {
        **queries.comment_json(comment),
        "body": "" if comment.is_deleted else comment.body,
        "event": event,
        "url": comment.item.get_absolute_url(),
    }
    return {"type": "moderation.comment", "stream": "moderation", "comment": payload}


# --- moderation (consultation.moderation) -------------------------------------------------
# Moderators' stream: a new report, a colleague's decision, a new appeal, so that two
# moderators do not act on the same thing. Public stream: a comment's moderation state
# changed (its text withheld or shown again), never who reported or decided.


def comment_reported(report_id: int) -> None:
    report = Report.objects.select_related("comment__author", "comment__item").get(pk=report_id)
    comment = report.comment
    cid = comment.item.consultation_id
    open_reports = comment.reports.filter(status=Report.Status.OPEN).count()
    frame = {
        "type": "moderation.report",
        "stream": "moderation",
        "comment": moderation_frame(comment, "reported")["comment"],
        "report": {
            "id": report.pk,
            "rule": report.rule,
            "created_at": report.created_at.isoformat(),
        },
        "open_reports": open_reports,
    }
    broadcast.publish(moderation_topic(cid), frame)


def moderation_decided(decision_id: int) -> None:
    decision = Decision.objects.get(pk=decision_id)
    if decision.consultation_id is None:
        return
    pages_changed(decision.consultation_id)  # the public log
    frame = {
        "type": "moderation.decision",
        "stream": "moderation",
        "decision": {
            "id": decision.pk,
            "action": decision.action,
            "rule": decision.rule,
            "rule_number": decision.rule_number,
            "role": decision.role,
            "comment": decision.comment_id,
            "subject": decision.subject_id,
            "moderator": decision.moderator_id,
            "created_at": decision.created_at.isoformat(),
        },
    }
    broadcast.publish(moderation_topic(decision.consultation_id), frame)


def appeal_filed(appeal_id: int) -> None:
    appeal = Appeal.objects.select_related("decision").get(pk=appeal_id)
    if appeal.decision.consultation_id is None:
        return
    frame = {
        "type": "moderation.appeal",
        "stream": "moderation",
        "appeal": {
            "id": appeal.pk,
            "decision": appeal.decision_id,
            "action": appeal.decision.action,
            "created_at": appeal.created_at.isoformat(),
        },
    }
    broadcast.publish(moderation_topic(appeal.decision.consultation_id), frame)


def comment_moderated(comment_id: int) -> None:
    comment = Comment.objects.select_related("author", "item").get(pk=comment_id)
    pages_changed(comment.item.consultation_id)
    frame = {
        "type": "comment.moderated",
        "stream": "public",
        "comment": queries.comment_json(comment),
    }
    broadcast.publish(topic(comment.item.consultation_id), frame)


def participant_suspended(decision_id: int) -> None:
    """Tell the suspended person's open pages at once (they disable their forms); every
    write door refuses them from the next request on anyway."""
    decision = Decision.objects.select_related("consultation", "subject").get(pk=decision_id)
    if decision.subject is None:
        return
    with translation.override(decision.subject.preferred_language or settings.LANGUAGE_CODE):
        suspension = permissions.suspension_of(decision.subject, decision.consultation)
        detail = str(permissions.suspended(suspension).message) if suspension else ""
    frame = {
        "type": "participation.suspended",
        "stream": "personal",
        "consultation": decision.consultation.slug if decision.consultation else None,
        "until": decision.suspended_until.isoformat() if decision.suspended_until else None,
        "detail": detail,
    }
    broadcast.tell_user(decision.subject.pk, frame)


def comment_posted(comment_id: int) -> None:
    comment = Comment.objects.select_related("author", "item__consultation").get(pk=comment_id)
    cid = comment.item.consultation_id
    store().apply(cid, {comments_field(comment.item_id): 1, "comments": 1}, add=comment.author_id)
    pages_changed(cid, slug=comment.item.consultation.slug)
    frame = {"type": "comment.posted", "stream": "public", "comment": queries.comment_json(comment)}
    broadcast.publish(topic(cid), frame)
    broadcast.publish(moderation_topic(cid), moderation_frame(comment, "posted"))
    request_tally(cid)


def comment_edited(comment_id: int) -> None:
    comment = Comment.objects.select_related("author", "item__consultation").get(pk=comment_id)
    cid = comment.item.consultation_id
    pages_changed(cid, slug=comment.item.consultation.slug)
    frame = {"type": "comment.edited", "stream": "public", "comment": queries.comment_json(comment)}
    broadcast.publish(topic(cid), frame)
    broadcast.publish(moderation_topic(cid), moderation_frame(comment, "edited"))


def comment_hidden(comment_id: int, reason: str) -> None:
    comment = Comment.objects.select_related("item").get(pk=comment_id)
    cid = comment.item.consultation_id
    store().apply(cid, {comments_field(comment.item_id): -1, "comments": -1})
    pages_changed(cid)
    frame = {
        "type": "comment.hidden",
        "stream": "public",
        "comment": {"id": comment.pk, "item": comment.item_id, "reason": reason},
    }
    broadcast.publish(topic(cid), frame)
    request_tally(cid)


def status_changed(consultation_id: int) -> None:
    consultation = Consultation.objects.get(pk=consultation_id)
    pages_changed(consultation_id, listed=True, slug=consultation.slug)
    frame = {
        "type": "consultation.status",
        "stream": "public",
        "status": consultation.status,
        "closes_at": consultation.closes_at.isoformat() if consultation.closes_at else None,
        "results_visible": permissions.results_are_public(consultation),
    }
    broadcast.publish(topic(consultation_id), frame)
    # Closing may reveal results that were hidden during the vote.
    publish_tally(consultation_id)
