"""The moderators' space (/moderation/): the queue across the consultations a person
moderates and each consultation's queue, and how every page of the space is rendered (the
queue's cards with their forms, the appeals', what the live script needs).

Thin: ``moderation.space`` reads. The whole namespace needs MFA (accounts.middleware);
each page asks ``can_moderate`` for the consultation it shows. The pages of one comment and
one appeal, where the actions are posted, are ``moderation_actions``: a refusal renders
the page it came from again with ``render_*`` here, its status, the message on top and
next to the field it concerns. static/js/moderation.js adds live updates and keyboard
shortcuts.
"""

import json
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from accounts.decorators import mfa_required
from accounts.models import User
from consultation import permissions
from consultation.models import Appeal, Comment, Consultation, Decision
from consultation.moderation import space
from consultation.moderation.moderator_forms import (
    AppealAnswerForm,
    DecisionForm,
    LiftForm,
    SuspendForm,
)

Action = Decision.Action
QUEUE_LIMIT = space.QUEUE_PAGE  # entries per page (the moderators' snapshot sends as many)
LIVE_STREAMS = 10  # consultations the overview follows live
# The pages a form comes from, and goes back to.
ALL, CONSULTATION, COMMENT, APPEAL = "all", "consultation", "comment", "appeal"
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


def moderated(request: HttpRequest, slug: str) -> tuple[User, Consultation]:
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
    return render_all(request, _user(request))


@login_required
@mfa_required
def consultation_queue(request: HttpRequest, slug: str) -> HttpResponse:
    user, consultation = moderated(request, slug)
    return render_consultation(request, user, consultation)


# --- Rendering --------------------------------------------------------------------------


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
        may_lift = suspension is not None and permissions.can_lift(user, suspension)
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


def render_all(
    request: HttpRequest, user: User, failure: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    """The overview; with ``failure`` (a refused action: its refusal, form and comment or
    appeal), that refusal shown on top and in its entry, answered with ``status``. So
    are the other ``render_*``."""
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


def render_consultation(
    request: HttpRequest,
    user: User,
    consultation: Consultation,
    failure: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    """One consultation's queue, appeals and latest decisions."""
    scope = Consultation.objects.filter(pk=consultation.pk)
    context = {
        **_common(request, user, scope, back=CONSULTATION, failure=failure, site_wide=False),
        "consultation": consultation,
        "live": _live(user, [consultation], CONSULTATION),
    }
    return render(
        request, "consultation/moderation/queue_consultation.html", context, status=status
    )


def render_comment(
    request: HttpRequest,
    user: User,
    consultation: Consultation,
    comment: Comment,
    failure: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    """One comment as the queue shows it, with every decision about it."""
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


def render_appeal(
    request: HttpRequest,
    user: User,
    appeal: Appeal,
    failure: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    """One appeal, with the decision it contests and its answer once given."""
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
