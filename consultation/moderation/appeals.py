"""Appeals: the person a decision is about contests it once, with a text; a moderator or
an organiser other than the one who decided answers, with a reason. The answer is a line of
the log of its own (``appeal_granted`` / ``appeal_rejected``); granting undoes the decision
(the comment shown again, the thread unlocked, the suspension lifted)."""

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.types import Person
from consultation import permissions
from consultation.errors import Conflict, Invalid, NotAllowed
from consultation.live import events
from consultation.models import Appeal, Comment, Decision, Notice, Report, Suspension
from consultation.moderation import decisions
from consultation.notices import sending

MAX_TEXT = 2000
Action = Decision.Action


def appeal(user: Person, decision: Decision, text: str) -> Appeal:
    if not permissions.can_appeal(user, decision) or not user.is_authenticated:
        if user.is_authenticated and decision.subject_id == user.pk:
            if Appeal.objects.filter(decision=decision).exists():
                raise Conflict("already_appealed", _("You have already appealed this decision."))
            raise NotAllowed("not_appealable", _("This decision cannot be appealed."))
        raise NotAllowed("not_yours", _("Only the person a decision is about may appeal it."))
    text = (text or "").strip()
    if not text:
        raise Invalid("text_required", _("Say why you think this decision is wrong."))
    if len(text) > MAX_TEXT:
        raise Invalid(
            "appeal_too_long",
            _("An appeal may have at most %(max)d characters.") % {"max": MAX_TEXT},
        )
    try:
        with transaction.atomic():
            row = Appeal.objects.create(decision=decision, appellant=user, text=text)
            events.after_commit(events.appeal_filed, row.pk)
    except IntegrityError:
        raise Conflict("already_appealed", _("You have already appealed this decision.")) from None
    return row


def decide(user: Person, appeal: Appeal, *, grant: bool, reason: str) -> Decision:
    """Answer ``appeal``; ``reason`` is required and told to the appellant."""
    if not permissions.can_decide_appeal(user, appeal) or not user.is_authenticated:
        if user.is_authenticated and user.pk == appeal.decision.moderator_id:
            raise NotAllowed(
                "own_decision", _("Someone other than the moderator who decided must answer.")
            )
        raise NotAllowed(
            "not_moderator",
            _("Only the moderators or organisers of this consultation may do this."),
        )
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("reason_required", _("Give the reason for your answer."))
    if len(reason) > decisions.MAX_NOTE:
        raise Invalid(
            "note_too_long",
            _("A note may have at most %(max)d characters.") % {"max": decisions.MAX_NOTE},
        )
    with transaction.atomic():
        appeal = Appeal.objects.select_for_update().select_related("decision").get(pk=appeal.pk)
        if appeal.status != Appeal.Status.PENDING:
            raise Conflict("already_decided", _("A colleague already answered this appeal."))
        original = appeal.decision
        outcome = decisions.record(
            user,
            original.consultation,
            Action.APPEAL_GRANTED if grant else Action.APPEAL_REJECTED,
            original.rule,
            reason,
            comment=original.comment,
            subject=original.subject,
            answers=appeal,
        )
        appeal.status = Appeal.Status.GRANTED if grant else Appeal.Status.REJECTED
        appeal.decided_at = timezone.now()
        appeal.save(update_fields=["status", "decided_at"])
        if grant:
            _undo(original)
        _tell(outcome, original, appeal)
    return outcome


def _undo(original: Decision) -> None:
    comment = (
        Comment.objects.select_for_update().get(pk=original.comment_id)
        if original.comment_id
        else None
    )
    if original.action == Action.HIDE and comment is not None and comment.is_hidden:
        comment.moderation = Comment.Moderation.VISIBLE
        comment.hidden_rule, comment.hidden_rule_number = "", None
        comment.save(update_fields=["moderation", "hidden_rule", "hidden_rule_number"])
        decisions.released(comment)
        # The reports were not upheld after all: they weigh so in their authors' reliability.
        Report.objects.filter(comment=comment, status=Report.Status.UPHELD).update(
            status=Report.Status.DISMISSED
        )
        events.after_commit(events.comment_moderated, comment.pk)
    elif original.action == Action.LOCK and comment is not None and comment.locked_at:
        comment.locked_at = None
        comment.save(update_fields=["locked_at"])
        events.after_commit(events.comment_moderated, comment.pk)
    elif original.action == Action.SUSPEND:
        Suspension.objects.filter(decision=original, lifted_at__isnull=True).update(
            lifted_at=timezone.now()
        )


def _tell(outcome: Decision, original: Decision, appeal: Appeal) -> None:
    url = reverse("moderation_public:decision", args=[original.pk])
    data = {**decisions.notice_data(outcome), "appealable": False, "original": original.pk}
    sending.notify(
        appeal.appellant,
        Notice.Kind.APPEAL,
        consultation=original.consultation,
        data={**data, "role": "appellant"},
        url=url,
    )
    if original.comment_id is None:
        return
    reporters = (
        Report.objects.filter(comment_id=original.comment_id, reporter__isnull=False)
        .select_related("reporter")
        .order_by("pk")
    )
    for report in reporters:
        sending.notify(
            report.reporter,
            Notice.Kind.APPEAL,
            consultation=original.consultation,
            data={**data, "role": "reporter", "note": ""},
            url=url,
        )
