"""The pages of the moderators' space where they act: one comment (its context and every
decision about it) and one appeal, each with its POST forms: hide, restore, dismiss, lock,
unlock, warn, suspend, lift a suspension; grant or reject an appeal.

Thin: ``moderation.decisions`` and ``appeals`` write, and check the acting user themselves.
Every action is a POST form that works without JavaScript: success redirects back to the
page it came from (``back``: the overview, the consultation's queue, the comment's or the
appeal's page) with a message; a refusal renders that page again (``moderation.render_*``)
with its HTTP status (409 when a colleague already decided), the message on top and next
to the field it concerns.
"""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.decorators import mfa_required
from accounts.models import User
from consultation import permissions
from consultation.errors import Invalid, Refused
from consultation.models import Appeal, Comment, Consultation, Decision, Rule, Suspension
from consultation.moderation import appeals, charter, decisions
from consultation.moderation.moderator_forms import (
    AppealAnswerForm,
    DecisionForm,
    LiftForm,
    SuspendForm,
    attach,
)
from consultation.views.moderation import (
    ALL,
    APPEAL,
    COMMENT,
    CONSULTATION,
    moderated,
    render_all,
    render_appeal,
    render_comment,
    render_consultation,
)

Action = Decision.Action
COMMENT_ACTIONS: dict[str, Callable[..., Decision]] = {
    Action.HIDE: decisions.hide,
    Action.RESTORE: decisions.restore,
    Action.DISMISS: decisions.dismiss,
    Action.LOCK: decisions.lock,
    Action.UNLOCK: decisions.unlock,
}


@login_required
@mfa_required
@require_http_methods(["GET", "POST"])
def comment_page(request: HttpRequest, slug: str, comment_id: int) -> HttpResponse:
    """One comment, its context and every decision about it; POST: an action on it."""
    user, consultation = moderated(request, slug)
    comment = get_object_or_404(
        Comment.objects.select_related("author", "item__consultation", "parent__author"),
        pk=comment_id,
        item__consultation=consultation,
    )
    if request.method == "POST":
        return _act(request, user, consultation, comment)
    return render_comment(request, user, consultation, comment)


@login_required
@mfa_required
@require_http_methods(["GET", "POST"])
def appeal_page(request: HttpRequest, appeal_id: int) -> HttpResponse:
    """One appeal, with the decision it contests; POST: grant or reject it."""
    user = request.user
    appeal = get_object_or_404(
        Appeal.objects.select_related(
            "appellant",
            "decision__consultation",
            "decision__comment__item",
            "decision__comment__author",
            "decision__subject",
            "decision__moderator",
        ),
        pk=appeal_id,
    )
    consultation = appeal.decision.consultation
    if not user.is_authenticated:
        raise PermissionDenied
    moderates = (
        permissions.can_moderate(user, consultation)
        if consultation is not None
        else permissions.is_staff(user)
    )
    if not (moderates or permissions.can_decide_appeal(user, appeal)):
        raise PermissionDenied
    if request.method == "POST":
        return _answer(request, user, appeal)
    return render_appeal(request, user, appeal)


# --- Actions ----------------------------------------------------------------------------


def _back(request: HttpRequest, allowed: tuple[str, ...]) -> str:
    back = request.POST.get("back", "")
    return back if back in allowed else allowed[1]


def _act(
    request: HttpRequest, user: User, consultation: Consultation, comment: Comment
) -> HttpResponse:
    back = _back(request, (ALL, CONSULTATION, COMMENT))
    action = request.POST.get("action", "")
    wording = charter.current(consultation)
    form: DecisionForm
    if action == Action.LIFT:
        form = LiftForm(request.POST, charter=wording, prefix=f"l{comment.pk}")
    elif action == Action.SUSPEND:
        form = SuspendForm(
            request.POST,
            charter=wording,
            site_wide=permissions.can_suspend_site_wide(user),
            prefix=f"s{comment.pk}",
        )
    else:
        form = DecisionForm(request.POST, charter=wording, prefix=f"c{comment.pk}")
    try:
        if action not in (*COMMENT_ACTIONS, Action.WARN, Action.SUSPEND, Action.LIFT):
            raise Invalid("unknown_action", _("Choose one of the actions."))
        if not form.is_valid():
            raise Invalid("invalid_form", _("Correct what the form says below."))
        rule, note = form.cleaned_data["rule"], form.cleaned_data["note"]
        if action in COMMENT_ACTIONS:
            decision = COMMENT_ACTIONS[action](user, comment, rule, note)
        elif isinstance(form, LiftForm):
            decision = decisions.lift(user, _suspension(form, comment), rule, note)
        else:
            author = comment.author
            if author is None:
                raise Invalid("no_author", _("The author of this comment deleted their account."))
            if isinstance(form, SuspendForm):
                decision = decisions.suspend(
                    user,
                    author,
                    None if form.everywhere() else consultation,
                    rule,
                    note,
                    days=form.cleaned_data["days"],
                    comment=comment,
                )
            else:
                decision = decisions.warn(user, author, consultation, rule, note, comment=comment)
    except Refused as refusal:
        attach(form, refusal)
        failure = {"refusal": refusal, "comment": comment, "form": form}
        return _render_back(request, user, back, consultation, comment=comment, failure=failure)
    messages.success(request, _done(decision, comment))
    if back == ALL:
        return redirect("moderation:queue")
    if back == COMMENT:
        return redirect("moderation:comment", slug=consultation.slug, comment_id=comment.pk)
    return redirect("moderation:consultation", slug=consultation.slug)


def _answer(request: HttpRequest, user: User, appeal: Appeal) -> HttpResponse:
    consultation = appeal.decision.consultation
    back = _back(request, (ALL, CONSULTATION, APPEAL))
    if back == CONSULTATION and consultation is None:
        back = ALL
    action = request.POST.get("action", "")
    form = AppealAnswerForm(request.POST, prefix=f"a{appeal.pk}")
    try:
        if action not in ("grant", "reject"):
            raise Invalid("unknown_action", _("Choose to grant or to reject the appeal."))
        if not form.is_valid():
            raise Invalid("invalid_form", _("Correct what the form says below."))
        appeals.decide(user, appeal, grant=action == "grant", reason=form.cleaned_data["reason"])
    except Refused as refusal:
        attach(form, refusal)
        failure = {"refusal": refusal, "appeal": appeal, "form": form}
        return _render_back(request, user, back, consultation, appeal=appeal, failure=failure)
    if action == "grant":
        messages.success(
            request,
            _("Appeal granted: the decision is undone, and the person who appealed is told."),
        )
    else:
        messages.success(request, _("Appeal rejected: the person who appealed is told why."))
    if back == ALL or consultation is None:
        return redirect("moderation:queue")
    if back == APPEAL:
        return redirect("moderation:appeal", appeal_id=appeal.pk)
    return redirect("moderation:consultation", slug=consultation.slug)


def _suspension(form: LiftForm, comment: Comment) -> Suspension:
    """The suspension the lift form names: one of the comment's author's, here or
    everywhere (``decisions.lift`` says whether it still holds, and who may lift it)."""
    author = comment.author_id
    suspension = (
        Suspension.objects.filter(pk=form.cleaned_data["suspension"], user_id=author)
        .filter(Q(consultation__isnull=True) | Q(consultation_id=comment.item.consultation_id))
        .select_related("consultation")
        .first()
        if author is not None
        else None
    )
    if suspension is None:
        raise Invalid("unknown_suspension", _("This is not a suspension of the comment's author."))
    return suspension


def _done(decision: Decision, comment: Comment) -> str:
    """What the moderator is told once their decision is written."""
    values = {
        "number": decision.rule_number,
        "rule": Rule(decision.rule).label,
        "name": comment.author.display_name if comment.author else "",
    }
    if decision.action == Action.HIDE:
        return _("Comment hidden under rule %(number)s (%(rule)s); its author is told.") % values
    if decision.action == Action.RESTORE:
        return _("Comment shown again; its author and the reporters are told.")
    if decision.action == Action.DISMISS:
        return _("Reports dismissed; the reporters are told.")
    if decision.action == Action.LOCK:
        return _("Thread locked: it takes no more replies.")
    if decision.action == Action.UNLOCK:
        return _("Thread unlocked.")
    if decision.action == Action.WARN:
        return _("%(name)s is warned under rule %(number)s (%(rule)s).") % values
    if decision.action == Action.LIFT:
        return _("The suspension of %(name)s is lifted; they are told.") % values
    if decision.suspended_until is not None:
        values["date"] = formats.date_format(
            timezone.localtime(decision.suspended_until), "DATETIME_FORMAT"
        )
        if decision.consultation_id is None:
            return _("%(name)s is suspended from every consultation until %(date)s.") % values
        return _("%(name)s is suspended from this consultation until %(date)s.") % values
    if decision.consultation_id is None:
        return _("%(name)s is suspended from every consultation until lifted.") % values
    return _("%(name)s is suspended from this consultation until lifted.") % values


def _render_back(
    request: HttpRequest,
    user: User,
    back: str,
    consultation: Consultation | None,
    *,
    failure: dict[str, Any],
    comment: Comment | None = None,
    appeal: Appeal | None = None,
) -> HttpResponse:
    status = failure["refusal"].status
    if back == COMMENT and comment is not None and consultation is not None:
        return render_comment(request, user, consultation, comment, failure, status)
    if back == APPEAL and appeal is not None:
        return render_appeal(request, user, appeal, failure, status)
    if back == CONSULTATION and consultation is not None:
        return render_consultation(request, user, consultation, failure, status)
    return render_all(request, user, failure, status)
