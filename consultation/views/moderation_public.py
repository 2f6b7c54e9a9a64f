"""Moderation as citizens meet it: the charter, reporting a comment, the public log, a
decision about them (with the appeal form).

A refused report re-renders the item page with the refusal next to the comment (403 when
the person may not report, 409 for a second report, 422 for a wrong input, 429 past the
hourly allowance), as the participation pages do for their forms.
"""

from datetime import datetime
from itertools import pairwise

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import User
from consultation import permissions
from consultation.errors import Invalid, Refused
from consultation.models import Appeal, Comment, Consultation, Decision, Item, Notice, Rule
from consultation.moderation import appeals, charter, reports, threads
from consultation.moderation import log as moderation_log
from consultation.moderation.charter import RuleText
from consultation.moderation.forms import AppealForm, ReportForm, attach
from consultation.notices import sending
from consultation.views import public

LOG_PAGE_SIZE = 50


def charter_page(request, slug):
    """The charter in force (or the earlier version asked for), and the list of versions."""
    consultation = public.get_consultation(request, slug)
    in_force = charter.current(consultation)
    shown = in_force
    asked = request.GET.get("version", "")
    if asked:
        if not asked.isdigit() or len(asked) > 6:
            raise Http404
        found = charter.version(consultation, int(asked))
        if found is None or found.version > in_force.version:
            raise Http404
        shown = found
    versions = charter.versions(consultation)
    opened = consultation.opens_at
    if versions and opened is not None and (versions[-1].created_at or opened) > opened:
        # It opened under the default wording, which stayed in force until the first save.
        default = charter.version(consultation, 0)
        assert default is not None
        versions.append(default)
    # A version stayed in force until the next one was saved.
    until = {older.version: newer.created_at for newer, older in pairwise(versions)}
    context = {
        "consultation": consultation,
        "charter": shown,
        "in_force": in_force,
        "is_current": shown.version == in_force.version,
        "replaced_at": until.get(shown.version),
        "versions": [
            {"text": version, "until": until.get(version.version)} for version in versions
        ],
    }
    return render(request, "consultation/moderation/charter.html", context)


def log_page(request, slug):
    """The public moderation log: what was decided, under which rule, by which role (never
    who), the appeals' outcomes; counts per rule and the median time to a decision."""
    consultation = public.get_consultation(request, slug)
    rows = moderation_log.entries(consultation)
    summary = moderation_log.summary(consultation, rows)
    in_force = charter.current(consultation)
    titles = {rule.code: rule.title for rule in in_force.rules}
    items = Item.objects.filter(
        consultation=consultation, pk__in={row["item"] for row in rows if row["item"]}
    ).in_bulk()
    newest_first = list(reversed(rows))
    page = Paginator(newest_first, LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    shown = [
        {
            **row,
            "date": datetime.fromisoformat(row["date"]),
            "action_label": Decision.Action(row["action"]).label,
            "rule_title": titles.get(row["rule"], row["rule"]),
            "role_label": Decision.Role(row["role"]).label,
            "appeal_label": _appeal_label(row["appeal"]),
            "item_title": items[row["item"]].display_title if row["item"] in items else "",
        }
        for row in page
    ]
    context = {
        "consultation": consultation,
        "rows": shown,
        "page": page,
        "summary": summary,
        "per_rule": [
            {"rule": rule, "count": summary["per_rule"].get(rule.code, 0)}
            for rule in in_force.rules
        ],
        "per_action": [
            {"label": label, "count": summary["per_action"][code]}
            for code, label in Decision.Action.choices
            if summary["per_action"].get(code)
        ],
    }
    return render(request, "consultation/moderation/log.html", context)


def _appeal_label(status: str | None) -> str:
    return str(Appeal.Status(status).label) if status else ""


@require_POST
def report(request, slug, item_id, comment_id):
    consultation, item = public.get_item(request, slug, item_id)
    comment = get_object_or_404(Comment.objects.select_related("author"), pk=comment_id, item=item)
    comment.item = item
    form = ReportForm(request.POST, charter=charter.current(consultation), comment_id=comment.pk)
    try:
        if not form.is_valid():  # a character no text may hold, several values for one field
            raise Invalid("invalid_report", _("Correct the report below."))
        reports.report_comment(
            request.user, comment, form.cleaned_data["rule"], form.cleaned_data["text"]
        )
    except Refused as refusal:
        return _report_refused(request, consultation, item, comment, form, refusal)
    messages.success(
        request,
        _(
            "Thank you: your report was received. A moderator will look at it; you will be told "
            "what they decide."
        ),
    )
    # Back to the page of the debate holding the comment, which may not be the first.
    return redirect(f"{item.get_absolute_url()}?comment={comment.pk}#comment-{comment.pk}")


def _report_refused(
    request: HttpRequest,
    consultation: Consultation,
    item: Item,
    comment: Comment,
    form: ReportForm,
    refusal: Refused,
) -> HttpResponse:
    """The item page again, the refusal next to the comment, with the refusal's status."""
    if refusal.code != "invalid_report":
        attach(form, refusal)
    bound = {threads.report_key(comment.pk): form}
    return public.render_item(request, consultation, item, bound=bound, status=refusal.status)


# --- A decision, for the person it concerns --------------------------------------------------


def _visible_decision(request: HttpRequest, decision_id: int) -> tuple[Decision, dict]:
    """A decision page is for the person it is about, the reporters of its comment and
    those who moderate there; anyone else is told it does not exist."""
    decision = get_object_or_404(
        Decision.objects.select_related("consultation", "comment__item", "subject", "answers"),
        pk=decision_id,
    )
    who = permissions.decision_readers(request.user, decision)
    if not any(who.values()):
        raise Http404
    return decision, who


def _cited_rule(decision: Decision) -> RuleText:
    """The rule as the decision cited it: in the charter version then in force (the
    default wording for a site-wide decision)."""
    if decision.consultation is None:
        code = Rule(decision.rule)
        return RuleText(
            number=Rule.number(code),
            code=code,
            title=str(code.label),
            text=str(charter.DEFAULT_TEXTS[code]),
        )
    cited = charter.version(decision.consultation, decision.charter_version)
    if cited is None:  # versions are never deleted: the one in force, should it happen
        cited = charter.current(decision.consultation)
    return cited.rule(decision.rule)


@login_required
def decision_page(request, decision_id):
    decision, who = _visible_decision(request, decision_id)
    # An appeal's outcome has its own line of the log: its page is the decision it answers.
    if decision.answers is not None:
        return redirect("moderation_public:decision", decision_id=decision.answers.decision_id)
    user = request.user
    assert user.is_authenticated  # login_required
    form = AppealForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        try:
            if not form.is_valid():
                raise Invalid("invalid_appeal", _("Correct the appeal below."))
            appeals.appeal(user, decision, form.cleaned_data["text"])
        except Refused as refusal:
            if refusal.code != "invalid_appeal":
                attach(form, refusal)
            status = refusal.status
        else:
            messages.success(
                request,
                _(
                    "Your appeal was received. Someone other than the moderator who decided "
                    "will answer it; you will be told the outcome."
                ),
            )
            return redirect("moderation_public:decision", decision_id=decision.pk)
    # Coming from a notice (on the site or by e-mail) reads it.
    _read_notices_about(user, request.path)
    appeal = getattr(decision, "appeal", None)
    outcome = getattr(appeal, "outcome", None) if appeal is not None else None
    comment = decision.comment
    context = {
        "decision": decision,
        "consultation": decision.consultation,
        "comment": comment,
        "item": comment.item if comment is not None else None,
        # The comment's text and the moderator's note are addressed to its author (and
        # read by moderators); a reporter learns the decision and its rule.
        "show_private": who["is_subject"] or who["moderates"],
        "rule": _cited_rule(decision),
        "appeal": appeal,
        "outcome": outcome,
        "can_appeal": permissions.can_appeal(user, decision),
        "appealable": decision.action in permissions.APPEALABLE,
        "form": form,
        **who,
    }
    return render(request, "consultation/moderation/decision.html", context, status=status)


def _read_notices_about(user: User, url: str) -> None:
    unread = Notice.objects.filter(user=user, url=url, read_at__isnull=True)
    ids = list(unread.values_list("pk", flat=True))
    if ids:
        sending.mark_read(user, ids)
