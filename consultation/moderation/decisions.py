"""Moderators' decisions, each cited under a charter rule with an optional note, each one
line of the append-only log (``Decision``), each told to the person it concerns: hide,
restore, dismiss, lock, unlock, warn, suspend, and lift a suspension.

Every function takes the acting moderator and checks their predicate; two moderators
acting on the same comment at once are serialised by a row lock, and the second is told a
colleague already decided (409), never applied twice.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.types import Person
from consultation import permissions
from consultation.errors import Conflict, Invalid, NotAllowed
from consultation.live import events
from consultation.models import (
    Appeal,
    Comment,
    Consultation,
    Decision,
    Notice,
    Report,
    Rule,
    Suspension,
)
from consultation.moderation import charter
from consultation.notices import replies, sending

Action = Decision.Action
MAX_NOTE = 2000
MAX_SUSPENSION_DAYS = 365
MODERATION_FIELDS = ["moderation", "held_because", "hidden_rule", "hidden_rule_number"]


def _moderator(user: Person, consultation: Consultation) -> User:
    permissions.require(
        permissions.can_moderate(user, consultation) and user.is_authenticated,
        "not_moderator",
        _("Only the moderators of this consultation may do this."),
    )
    assert user.is_authenticated
    return user


def _clean(rule: str, note: str) -> str:
    if rule not in Rule.values:
        raise Invalid("unknown_rule", _("Choose the rule of the charter this decision applies."))
    note = (note or "").strip()
    if rule == Rule.OTHER and not note:
        raise Invalid("note_required", _("Rule “other” needs a note saying what the problem is."))
    if len(note) > MAX_NOTE:
        raise Invalid(
            "note_too_long", _("A note may have at most %(max)d characters.") % {"max": MAX_NOTE}
        )
    return note


def record(
    moderator: User,
    consultation: Consultation | None,
    action: str,
    rule: str,
    note: str,
    *,
    comment: Comment | None = None,
    subject: User | None = None,
    suspended_until: datetime | None = None,
    answers: Appeal | None = None,
) -> Decision:
    """Append one line to the log (inside the caller's transaction)."""
    version = charter.current(consultation).version if consultation is not None else 0
    decision = Decision.objects.create(
        consultation=consultation,
        comment=comment,
        subject=subject,
        moderator=moderator,
        role=permissions.moderator_role(moderator, consultation),
        action=action,
        rule=rule,
        rule_number=Rule.number(rule),
        charter_version=version,
        note=note,
        suspended_until=suspended_until,
        answers=answers,
    )
    events.after_commit(events.moderation_decided, decision.pk)
    return decision


def notice_data(decision: Decision) -> dict:
    data = {
        "decision": decision.pk,
        "action": decision.action,
        "rule": decision.rule,
        "rule_number": decision.rule_number,
        "charter_version": decision.charter_version,
        "note": decision.note,
        "comment": decision.comment_id,
        "appealable": decision.action in permissions.APPEALABLE,
    }
    if decision.suspended_until is not None:
        data["suspended_until"] = decision.suspended_until.isoformat()
        data["suspended_until_display"] = formats.date_format(
            timezone.localtime(decision.suspended_until), "DATETIME_FORMAT"
        )
    return data


def _tell_subject(decision: Decision) -> None:
    if decision.subject is None:
        return
    sending.notify(
        decision.subject,
        Notice.Kind.MODERATION,
        consultation=decision.consultation,
        data=notice_data(decision),
        url=reverse("moderation_public:decision", args=[decision.pk]),
    )


def _resolve_reports(decision: Decision, status: str) -> None:
    """Close the comment's open reports as ``status`` and tell each reporter."""
    assert decision.comment is not None
    reports = list(
        Report.objects.filter(comment=decision.comment, status=Report.Status.OPEN).select_related(
            "reporter"
        )
    )
    Report.objects.filter(pk__in=[r.pk for r in reports]).update(
        status=status, resolved_at=timezone.now()
    )
    for report in reports:
        sending.notify(
            report.reporter,
            Notice.Kind.REPORT,
            consultation=decision.consultation,
            data={
                "status": status,
                "comment": decision.comment_id,
                "rule": decision.rule,
                "rule_number": decision.rule_number,
                "decision": decision.pk,
            },
            url=reverse("moderation_public:decision", args=[decision.pk]),
        )


def _locked(comment: Comment) -> Comment:
    return (
        Comment.objects.select_for_update(of=("self",)).select_related("author").get(pk=comment.pk)
    )


def hide(user: Person, comment: Comment, rule: str, note: str = "") -> Decision:
    """Replace the comment's text, for everyone but its author, by the rule it broke."""
    consultation = comment.item.consultation
    moderator = _moderator(user, consultation)
    note = _clean(rule, note)
    with transaction.atomic():
        comment = _locked(comment)
        if comment.is_deleted:
            raise Conflict("comment_removed", _("Its author deleted this comment."))
        if comment.is_hidden:
            raise Conflict("already_decided", _("A colleague already hid this comment."))
        comment.moderation = Comment.Moderation.HIDDEN
        comment.held_because = ""
        comment.hidden_rule, comment.hidden_rule_number = rule, Rule.number(rule)
        comment.save(
            update_fields=["moderation", "held_because", "hidden_rule", "hidden_rule_number"]
        )
        decision = record(
            moderator,
            consultation,
            Action.HIDE,
            rule,
            note,
            comment=comment,
            subject=comment.author,
        )
        _resolve_reports(decision, Report.Status.UPHELD)
        _tell_subject(decision)
        events.after_commit(events.comment_moderated, comment.pk)
    return decision


def restore(user: Person, comment: Comment, rule: str, note: str = "") -> Decision:
    """Show a hidden or held comment again (``rule``: the rule it was hidden under)."""
    consultation = comment.item.consultation
    moderator = _moderator(user, consultation)
    note = _clean(rule, note)
    with transaction.atomic():
        comment = _locked(comment)
        if comment.moderation == Comment.Moderation.VISIBLE:
            raise Conflict("already_decided", _("This comment is already visible."))
        _show(comment)
        decision = record(
            moderator,
            consultation,
            Action.RESTORE,
            rule,
            note,
            comment=comment,
            subject=comment.author,
        )
        _resolve_reports(decision, Report.Status.DISMISSED)
        _tell_subject(decision)
        events.after_commit(events.comment_moderated, comment.pk)
    return decision


def _show(comment: Comment) -> None:
    comment.moderation = Comment.Moderation.VISIBLE
    comment.held_because = ""
    comment.hidden_rule, comment.hidden_rule_number = "", None
    comment.save(update_fields=MODERATION_FIELDS)
    released(comment)


def released(comment: Comment) -> None:
    """A reply shown again may never have been told: held since it was posted, it told
    nobody then. It does now; one that was told already tells nobody twice (each
    notice's key names the reply)."""
    replies.reply_posted(comment)


def dismiss(user: Person, comment: Comment, rule: str, note: str = "") -> Decision:
    """The reports do not hold: close them, and show the comment if it was held."""
    consultation = comment.item.consultation
    moderator = _moderator(user, consultation)
    note = _clean(rule, note)
    with transaction.atomic():
        comment = _locked(comment)
        has_open = Report.objects.filter(comment=comment, status=Report.Status.OPEN).exists()
        if not has_open and not comment.is_held:
            raise Conflict("already_decided", _("A colleague already dealt with these reports."))
        was_held = comment.is_held
        if was_held:
            _show(comment)
        decision = record(
            moderator,
            consultation,
            Action.DISMISS,
            rule,
            note,
            comment=comment,
            subject=comment.author,
        )
        _resolve_reports(decision, Report.Status.DISMISSED)
        if was_held:
            _tell_subject(decision)
            events.after_commit(events.comment_moderated, comment.pk)
    return decision


def lock(user: Person, comment: Comment, rule: str, note: str = "") -> Decision:
    """No more replies in this comment's thread."""
    return _set_lock(user, comment, rule, note, locked=True)


def unlock(user: Person, comment: Comment, rule: str, note: str = "") -> Decision:
    return _set_lock(user, comment, rule, note, locked=False)


def _set_lock(user: Person, comment: Comment, rule: str, note: str, *, locked: bool) -> Decision:
    consultation = comment.item.consultation
    moderator = _moderator(user, consultation)
    note = _clean(rule, note)
    with transaction.atomic():
        comment = _locked(comment)
        if (comment.locked_at is not None) == locked:
            raise Conflict(
                "already_decided",
                _("This thread is already locked.") if locked else _("This thread is not locked."),
            )
        comment.locked_at = timezone.now() if locked else None
        comment.save(update_fields=["locked_at"])
        decision = record(
            moderator,
            consultation,
            Action.LOCK if locked else Action.UNLOCK,
            rule,
            note,
            comment=comment,
            subject=comment.author,
        )
        _tell_subject(decision)
        events.after_commit(events.comment_moderated, comment.pk)
    return decision


def warn(
    user: Person,
    subject: User,
    consultation: Consultation,
    rule: str,
    note: str = "",
    *,
    comment: Comment | None = None,
) -> Decision:
    """A written warning: nothing changes but the person is told, and the log says so."""
    moderator = _moderator(user, consultation)
    note = _clean(rule, note)
    if subject.pk == moderator.pk:
        raise Invalid("own_account", _("You cannot take a decision about yourself."))
    with transaction.atomic():
        decision = record(
            moderator, consultation, Action.WARN, rule, note, comment=comment, subject=subject
        )
        _tell_subject(decision)
    return decision


def suspend(
    user: Person,
    subject: User,
    consultation: Consultation | None,
    rule: str,
    note: str = "",
    *,
    days: int | None,
    comment: Comment | None = None,
) -> Decision:
    """The person may read but not write: in ``consultation``, or everywhere (``None``,
    staff only), for ``days`` (``None``: until lifted). Holds at once on every door:
    ``permissions.can_participate`` reads it on each request."""
    if consultation is None:
        permissions.require(
            permissions.can_suspend_site_wide(user) and user.is_authenticated,
            "not_staff",
            _("Only site staff may suspend an account everywhere."),
        )
        assert user.is_authenticated
        moderator = user
    else:
        moderator = _moderator(user, consultation)
    note = _clean(rule, note)
    if subject.pk == moderator.pk:
        raise Invalid("own_account", _("You cannot take a decision about yourself."))
    if days is not None and not 1 <= days <= MAX_SUSPENSION_DAYS:
        raise Invalid(
            "bad_duration",
            _("A suspension lasts from 1 to %(max)d days, or until lifted.")
            % {"max": MAX_SUSPENSION_DAYS},
        )
    now = timezone.now()
    ends_at = now + timedelta(days=days) if days is not None else None
    with transaction.atomic():
        decision = record(
            moderator,
            consultation,
            Action.SUSPEND,
            rule,
            note,
            comment=comment,
            subject=subject,
            suspended_until=ends_at,
        )
        Suspension.objects.create(
            user=subject,
            consultation=consultation,
            decision=decision,
            starts_at=now,
            ends_at=ends_at,
        )
        _tell_subject(decision)
        events.after_commit(events.participant_suspended, decision.pk)
    return decision


def lift(user: Person, suspension: Suspension, rule: str, note: str = "") -> Decision:
    """End ``suspension`` before its time (or one "until lifted"): the person writes again
    from the next request on. By the moderators of its consultation, staff for a site-wide
    one; ``rule``: the rule it was decided under, as a rule is cited on every line of the
    log. Lifting a measure is not contested: no appeal (``permissions.APPEALABLE``)."""
    consultation = suspension.consultation
    if user.is_authenticated and suspension.user_id == user.pk:
        raise NotAllowed("own_account", _("You cannot take a decision about yourself."))
    if consultation is None:
        permissions.require(
            permissions.can_lift(user, suspension),
            "not_staff",
            _("Only site staff may lift a suspension from every consultation."),
        )
    else:
        permissions.require(
            permissions.can_lift(user, suspension),
            "not_moderator",
            _("Only the moderators of this consultation may do this."),
        )
    assert user.is_authenticated
    moderator = user
    note = _clean(rule, note)
    with transaction.atomic():
        suspension = (
            Suspension.objects.select_for_update(of=("self",))
            .select_related("user", "decision__comment")
            .get(pk=suspension.pk)
        )
        now = timezone.now()
        if suspension.lifted_at is not None:
            raise Conflict("already_decided", _("This suspension was already lifted."))
        if suspension.ends_at is not None and suspension.ends_at <= now:
            raise Conflict("already_ended", _("This suspension has already ended."))
        suspension.lifted_at = now
        suspension.save(update_fields=["lifted_at"])
        # The line names the comment the suspension was decided about, if any: the
        # comment's history, and the moderators' pages following it, show both.
        decision = record(
            moderator,
            consultation,
            Action.LIFT,
            rule,
            note,
            comment=suspension.decision.comment,
            subject=suspension.user,
        )
        _tell_subject(decision)
    return decision
