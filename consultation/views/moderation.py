"""The moderators' space (/moderation/): the queue across the consultations a person
moderates, each consultation's queue, one comment, one appeal; the actions on them.

Thin: ``moderation.space`` reads, ``moderation.decisions`` and ``appeals`` write (and
check the acting user themselves). The whole namespace needs MFA (accounts.middleware);
each page asks ``can_moderate`` for the consultation it shows. Every action is a POST
form that works without JavaScript: success redirects back to the page it came from with
a message; a refusal renders that page again with its HTTP status (409 when a colleague
already decided), the message on top and next to the field it concerns.
static/js/moderation.js adds live updates and keyboard shortcuts.
"""

import json
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_http_methods

from accounts.decorators import mfa_required
from accounts.models import User
from consultation import permissions
from consultation.errors import Invalid, Refused
from consultation.models import Appeal, Comment, Consultation, Decision, Rule, Suspension
from consultation.moderation import appeals, charter, decisions, space
from consultation.moderation.moderator_forms import (
    AppealAnswerForm,
    DecisionForm,
    LiftForm,
    SuspendForm,
    attach,
)

Action = Decision.Action
QUEUE_LIMIT = space.QUEUE_PAGE  # entries per page (the moderators' snapshot sends as many)
LIVE_STREAMS = 10  # consultations the overview follows live
# The pages a form comes from, and goes back to.
ALL, CONSULTATION, COMMENT, APPEAL = "all", "consultation", "comment", "appeal"
COMMENT_ACTIONS: dict[str, Callable[..., Decision]] = {
    Action.HIDE: decisions.hide,
    Action.RESTORE: decisions.restore,
    Action.DISMISS: decisions.dismiss,
    Action.LOCK: decisions.lock,
    Action.UNLOCK: decisions.unlock,
}
SHORTCUTS: dict[str, str] = {
    Action.HIDE: "h",
    Action.DISMISS: "d",
    Action.RESTORE: "r",
    Action.LOCK: "l",
    Action.UNLOCK: "l",
    Action.WARN: "w",
}


def _user(request: HttpRequest) -> User:
    user = request.user
    if not user.is_authenticated or not permissions.has_moderation_space(user):
        raise PermissionDenied
    return user


def _moderated(request: HttpRequest, slug: str) -> tuple[User, Consultation]:
    """The consultation at ``slug`` if the person moderates it; 404 for one they may not
    see (a draft), as for an unknown address; 403 otherwise."""
    consultation = Consultation.objects.filter(slug=slug).first()
    if consultation is None:
        raise Http404
    user = request.user
    if not user.is_authenticated or not permissions.can_moderate(user, consultation):
        if not permissions.can_view(user, consultation):
            raise Http404
        raise PermissionDenied
    return user, consultation


def _stream(consultation: Consultation) -> str:
    return f"/ws/consultations/{consultation.slug}/moderation/"


# --- The pages ------------------------------------------------------------------------


@login_required
@mfa_required
def queue(request: HttpRequest) -> HttpResponse:
    """Every consultation the person moderates, with what awaits, and one queue for all."""
    return _render_all(request, _user(request))


@login_required
@mfa_required
def consultation_queue(request: HttpRequest, slug: str) -> HttpResponse:
    user, consultation = _moderated(request, slug)
    return _render_consultation(request, user, consultation)


@login_required
@mfa_required
@require_http_methods(["GET", "POST"])
def comment_page(request: HttpRequest, slug: str, comment_id: int) -> HttpResponse:
    """One comment, its context and every decision about it; POST: an action on it."""
    user, consultation = _moderated(request, slug)
    comment = get_object_or_404(
        Comment.objects.select_related("author", "item__consultation", "parent__author"),
        pk=comment_id,
        item__consultation=consultation,
    )
    if request.method == "POST":
        return _act(request, user, consultation, comment)
    return _render_comment(request, user, consultation, comment)


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
    return _render_appeal(request, user, appeal)


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


# --- Rendering --------------------------------------------------------------------------


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
        return _render_comment(request, user, consultation, comment, failure, status)
    if back == APPEAL and appeal is not None:
        return _render_appeal(request, user, appeal, failure, status)
    if back == CONSULTATION and consultation is not None:
        return _render_consultation(request, user, consultation, failure, status)
    return _render_all(request, user, failure, status)


def _cards(
    user: User, entries: list[space.Entry], failure: dict[str, Any] | None, *, back: str
) -> list[dict[str, Any]]:
    """An entry with its forms (the refused one bound, as posted) and buttons."""
    site_wide = permissions.can_suspend_site_wide(user)
    refused = failure.get("comment") if failure else None
    cards = []
    for entry in entries:
        comment = entry.comment
        form: DecisionForm | None = None
        suspend_form: SuspendForm | None = None
        lift_form: LiftForm | None = None
        if failure is not None and refused is not None and refused.pk == comment.pk:
            posted = failure["form"]
            if isinstance(posted, SuspendForm):
                suspend_form = posted
            elif isinstance(posted, LiftForm):
                lift_form = posted
            else:
                form = posted
        if form is None:
            form = DecisionForm(
                charter=entry.charter,
                prefix=f"c{comment.pk}",
                initial={"rule": entry.suggested_rule},
            )
        if suspend_form is None:
            suspend_form = SuspendForm(
                charter=entry.charter,
                site_wide=site_wide,
                prefix=f"s{comment.pk}",
                initial={"rule": entry.suggested_rule},
            )
        author = comment.author
        suspension = entry.author_suspension
        # The moderators of a consultation lift its suspensions; staff, site-wide ones too
        # (the entry's consultation is one ``user`` moderates). Never their own.
        may_lift = (
            suspension is not None
            and (suspension.consultation_id is not None or site_wide)
            and suspension.user_id != user.pk
        )
        if suspension is not None and may_lift and lift_form is None:
            lift_form = LiftForm(
                charter=entry.charter,
                prefix=f"l{comment.pk}",
                initial={"rule": suspension.decision.rule, "suspension": suspension.pk},
            )
        cards.append(
            {
                "entry": entry,
                "comment": comment,
                "form": form,
                "suspend_form": suspend_form,
                "suspend_open": suspend_form.is_bound,
                "lift_form": lift_form if may_lift else None,
                "lift_open": may_lift and lift_form is not None and lift_form.is_bound,
                "url": reverse(
                    "moderation:comment",
                    kwargs={"slug": entry.consultation.slug, "comment_id": comment.pk},
                ),
                "item_url": f"{comment.item.get_absolute_url()}#comment-{comment.pk}",
                "back": back,
                "actions": _actions(comment, entry),
                "may_warn": author is not None and author.pk != user.pk and not comment.is_deleted,
                "refused": failure["refusal"] if failure and refused == comment else None,
            }
        )
    return cards


def _actions(comment: Comment, entry: space.Entry) -> list[dict[str, str]]:
    """The buttons of an entry, in the order the page shows them."""
    buttons = []
    if not comment.is_hidden and not comment.is_deleted:
        buttons.append(_button(Action.HIDE, pgettext("moderators", "Hide"), "danger"))
    if comment.is_withheld:
        buttons.append(_button(Action.RESTORE, pgettext("moderators", "Restore"), ""))
    if entry.awaiting:
        buttons.append(_button(Action.DISMISS, _("Dismiss the reports"), "secondary"))
    if comment.locked_at is None:
        buttons.append(_button(Action.LOCK, _("Lock the thread"), "secondary"))
    else:
        buttons.append(_button(Action.UNLOCK, _("Unlock the thread"), "secondary"))
    return buttons


def _button(action: str, label: str, style: str) -> dict[str, str]:
    return {"action": action, "label": label, "style": style, "key": SHORTCUTS.get(action, "")}


def _appeal_cards(
    appeals_: list[Appeal], failure: dict[str, Any] | None, *, back: str, decidable: bool = True
) -> list[dict[str, Any]]:
    refused = failure.get("appeal") if failure else None
    cards = []
    for appeal in appeals_:
        mine = failure is not None and refused is not None and refused.pk == appeal.pk
        decision = appeal.decision
        cards.append(
            {
                "appeal": appeal,
                "decision": decision,
                "form": failure["form"]
                if mine and failure is not None
                else AppealAnswerForm(prefix=f"a{appeal.pk}"),
                "url": reverse("moderation:appeal", kwargs={"appeal_id": appeal.pk}),
                "comment_url": (
                    reverse(
                        "moderation:comment",
                        kwargs={
                            "slug": decision.consultation.slug,
                            "comment_id": decision.comment_id,
                        },
                    )
                    if decision.comment_id is not None and decision.consultation is not None
                    else ""
                ),
                "back": back,
                "decidable": decidable and appeal.status == Appeal.Status.PENDING,
                "refused": failure["refusal"] if mine and failure is not None else None,
            }
        )
    return cards


def _live(user: User, consultations: list[Consultation], back: str) -> dict[str, Any]:
    """What static/js/moderation.js needs, every text translated here."""
    return {
        "streams": " ".join(_stream(c) for c in consultations),
        "user_id": user.pk,
        "back": back,
        "rendered_at": timezone.now().isoformat(),
        "labels": json.dumps(
            {
                "actions": {code: str(label) for code, label in Action.choices},
                "roles": {code: str(label) for code, label in Decision.Role.choices},
            },
            ensure_ascii=False,
        ),
    }


def _common(
    request: HttpRequest,
    user: User,
    scope: QuerySet[Consultation],
    *,
    back: str,
    failure: dict[str, Any] | None,
    site_wide: bool,
) -> dict[str, Any]:
    entries = space.queue(scope, limit=QUEUE_LIMIT)
    return {
        "cards": _cards(user, entries, failure, back=back),
        "more": space.awaiting_count(scope) if len(entries) >= QUEUE_LIMIT else 0,
        "appeal_cards": _appeal_cards(
            space.appeals_to_decide(user, scope, site_wide=site_wide), failure, back=back
        ),
        "appeals_of_mine": space.appeals_awaiting_a_colleague(user, scope),
        "decisions": space.recent_decisions(scope, site_wide=site_wide),
        "failure": failure,
        "back": back,
        "moderator": user,
    }


def _render_all(
    request: HttpRequest, user: User, failure: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    scope = permissions.moderated_consultations(user)
    places = space.places(user, scope)
    followed = [
        place.consultation
        for place in places
        if place.consultation.status != Consultation.Status.DRAFT
    ][:LIVE_STREAMS]
    context = {
        **_common(
            request,
            user,
            scope,
            back=ALL,
            failure=failure,
            site_wide=permissions.is_staff(user),
        ),
        "places": places,
        "live": _live(user, followed, ALL),
        "overview": True,
    }
    return render(request, "consultation/moderation/queue.html", context, status=status)


def _render_consultation(
    request: HttpRequest,
    user: User,
    consultation: Consultation,
    failure: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    scope = Consultation.objects.filter(pk=consultation.pk)
    context = {
        **_common(request, user, scope, back=CONSULTATION, failure=failure, site_wide=False),
        "consultation": consultation,
        "live": _live(user, [consultation], CONSULTATION),
    }
    return render(
        request, "consultation/moderation/queue_consultation.html", context, status=status
    )


def _render_comment(
    request: HttpRequest,
    user: User,
    consultation: Consultation,
    comment: Comment,
    failure: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    entry = space.entry(comment)
    context = {
        "consultation": consultation,
        "card": _cards(user, [entry], failure, back=COMMENT)[0],
        "history": space.decisions_on(comment),
        "failure": failure,
        "moderator": user,
        "live": _live(user, [consultation], COMMENT),
    }
    return render(request, "consultation/moderation/queue_comment.html", context, status=status)


def _render_appeal(
    request: HttpRequest,
    user: User,
    appeal: Appeal,
    failure: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    appeal.refresh_from_db(fields=["status", "decided_at"])
    decidable = permissions.can_decide_appeal(user, appeal)
    context = {
        "consultation": appeal.decision.consultation,
        "card": _appeal_cards([appeal], failure, back=APPEAL, decidable=decidable)[0],
        "own_decision": appeal.decision.moderator_id == user.pk,
        "outcome": Decision.objects.filter(answers=appeal).first(),
        "failure": failure,
        "moderator": user,
    }
    return render(request, "consultation/moderation/queue_appeal.html", context, status=status)
