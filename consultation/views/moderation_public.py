"""Moderation as citizens meet it: the charter, reporting a comment, the public log, a
decision about them (with the appeal form)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from consultation import permissions
from consultation.errors import Refused
from consultation.models import Comment, Decision, Report, Rule
from consultation.moderation import appeals, charter, reports
from consultation.moderation import log as moderation_log
from consultation.views import public


def charter_page(request, slug):
    consultation = public.get_consultation(request, slug)
    context = {
        "consultation": consultation,
        "charter": charter.current(consultation),
        "versions": charter.versions(consultation),
    }
    return render(request, "consultation/moderation/charter.html", context)


def log_page(request, slug):
    consultation = public.get_consultation(request, slug)
    rows = moderation_log.entries(consultation)
    context = {
        "consultation": consultation,
        "rows": rows,
        "summary": moderation_log.summary(consultation, rows),
        "charter": charter.current(consultation),
    }
    return render(request, "consultation/moderation/log.html", context)


@require_POST
@login_required
def report(request, slug, item_id, comment_id):
    _consultation, item = public.get_item(request, slug, item_id)
    comment = get_object_or_404(Comment, pk=comment_id, item=item)
    try:
        reports.report_comment(
            request.user, comment, request.POST.get("rule", ""), request.POST.get("text", "")
        )
    except Refused as refusal:
        messages.error(request, refusal.message)
        response = redirect(f"{item.get_absolute_url()}#comment-{comment.pk}")
        response.status_code = 303
        return response
    messages.success(
        request,
        _(
            "Thank you: your report was received. A moderator will look at it; you will be told "
            "what they decide."
        ),
    )
    return redirect(f"{item.get_absolute_url()}#comment-{comment.pk}")


def _visible_decision(request: HttpRequest, decision_id: int) -> Decision:
    """A decision page is for the person it is about and for those who moderate there."""
    decision = get_object_or_404(
        Decision.objects.select_related("consultation", "comment__item", "subject"),
        pk=decision_id,
    )
    user = request.user
    if not user.is_authenticated:
        raise Http404
    concerned = decision.subject_id == user.pk
    reporter = Report.objects.filter(comment_id=decision.comment_id, reporter=user).exists()
    moderates = (
        permissions.can_moderate(user, decision.consultation)
        if decision.consultation is not None
        else permissions.is_staff(user)
    )
    if not (concerned or reporter or moderates):
        raise Http404
    return decision


@login_required
def decision_page(request, decision_id):
    decision = _visible_decision(request, decision_id)
    appeal = getattr(decision, "appeal", None)
    error = None
    if request.method == "POST":
        try:
            appeals.appeal(request.user, decision, request.POST.get("text", ""))
        except Refused as refusal:
            error = refusal
        else:
            messages.success(
                request,
                _(
                    "Your appeal was received. Someone other than the moderator who decided "
                    "will answer it; you will be told the outcome."
                ),
            )
            return redirect("moderation_public:decision", decision_id=decision.pk)
    context = {
        "decision": decision,
        "appeal": appeal,
        "outcome": getattr(appeal, "outcome", None) if appeal is not None else None,
        "can_appeal": permissions.can_appeal(request.user, decision),
        "is_subject": decision.subject_id == request.user.pk,
        "rule_label": Rule(decision.rule).label,
        "error": error,
        "text": request.POST.get("text", "") if error else "",
    }
    return render(
        request,
        "consultation/moderation/decision.html",
        context,
        status=error.status if error else 200,
    )
