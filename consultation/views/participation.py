"""Writes from the pages: vote, grade, rank, comment, react; and "my participation".

Each view parses the form, calls one function of consultation.participation.voting or
consultation.participation.debate, and either redirects back to the item (PRG, with a success
message) or re-renders the page with the refusal next to its field: 403 when the
person may not act, 422 when the input is wrong.
"""

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.decorators import participant_required
from accounts.types import Person
from consultation import permissions, queries
from consultation.errors import NotAllowed, Refused
from consultation.models import Ballot, Comment, Consultation, Item
from consultation.participation import debate, voting
from consultation.participation.forms import (
    CommentForm,
    GradeForm,
    RankingForm,
    VoteForm,
    attach_refusal,
)
from consultation.results import small_groups
from consultation.views import public


def _done(request: HttpRequest, text: str, place: str) -> None:
    """A confirmation shown where the person acted, not at the top of the page: the
    template of ``place`` shows it (consultation/public/_confirmation.html) and the
    redirect's fragment, ``#<place>-done``, brings the eye and the focus to it."""
    messages.success(request, text, extra_tags=f"placed {place}")


def _back(item: Item, anchor: str) -> HttpResponseRedirect:
    return redirect(f"{item.get_absolute_url()}#{anchor}-done")


def _back_to_comment(item: Item, comment: Comment) -> HttpResponseRedirect:
    """Back to the page of the debate that shows ``comment``: with many comments it may
    not be on the first one (``?comment=`` asks for the page holding it)."""
    return redirect(f"{item.get_absolute_url()}?comment={comment.pk}#comment-{comment.pk}-done")


def _invalid(request, consultation, item, *, key, form):
    """The form did not parse (a NUL character, a wrong value): its errors go next to
    its fields, with a 422, as the domain's own refusals do."""
    return public.render_item(request, consultation, item, bound={key: form}, status=422)


def _refused(
    request: HttpRequest,
    consultation: Consultation,
    item: Item,
    refusal: Refused,
    *,
    key: str | tuple[str, int] | None = None,
    form: forms.Form | None = None,
) -> HttpResponse:
    """Re-render the item page with the refusal next to its field, or as a message."""
    bound = {}
    if form is not None and not isinstance(refusal, NotAllowed):
        attach_refusal(form, refusal)
        bound[key] = form
    else:
        messages.error(request, refusal.message)
    return public.render_item(request, consultation, item, bound=bound, status=refusal.status)


def _refuse_first(
    may: Callable[[Person, Consultation], bool], user: Person, consultation: Consultation
) -> None:
    """Whoever may not take part hears that (403) before anything about their input.

    Asked where the domain will not ask: a form with errors. A valid form
    goes to the domain's write, which asks the same question itself (one read of a
    suspension per write, not two)."""
    permissions.require_participation(may(user, consultation), user, consultation)


@require_POST
def vote(request, slug, item_id):
    consultation, item = public.get_item(request, slug, item_id)
    form = VoteForm(request.POST)
    try:
        if "withdraw" in request.POST:
            voting.withdraw_vote(request.user, item)
            _done(request, _("Your vote has been withdrawn."), "vote")
        else:
            if not form.is_valid():
                _refuse_first(permissions.can_vote, request.user, consultation)
                return _invalid(request, consultation, item, key="vote", form=form)
            voting.cast_vote(request.user, item, form.cleaned_data["choice"])
            _done(request, _("Your vote has been recorded."), "vote")
    except Refused as refusal:
        return _refused(request, consultation, item, refusal, key="vote", form=form)
    return _back(item, "vote")


@require_POST
def grade(request, slug, item_id):
    consultation, item = public.get_item(request, slug, item_id)
    form = GradeForm(request.POST, scale=consultation.grade_scale)
    try:
        if "withdraw" in request.POST:
            voting.withdraw_grade(request.user, item)
            _done(request, _("Your grade has been withdrawn."), "grade")
        else:
            if not form.is_valid():
                _refuse_first(permissions.can_grade, request.user, consultation)
                return _invalid(request, consultation, item, key="grade", form=form)
            voting.grade_item(request.user, item, form.cleaned_data["grade"])
            _done(request, _("Your grade has been recorded."), "grade")
    except Refused as refusal:
        return _refused(request, consultation, item, refusal, key="grade", form=form)
    return _back(item, "grade")


@require_POST
def comment_post(request, slug, item_id):
    consultation, item = public.get_item(request, slug, item_id)
    form = CommentForm(request.POST)
    try:
        if not form.is_valid():
            _refuse_first(permissions.can_comment, request.user, consultation)
            return _invalid(request, consultation, item, key="comment", form=form)
        comment = debate.post_comment(
            request.user, item, form.cleaned_data["body"], form.cleaned_data["stance"]
        )
    except Refused as refusal:
        return _refused(request, consultation, item, refusal, key="comment", form=form)
    _done(request, _("Your comment has been published."), f"comment-{comment.pk}")
    return _back_to_comment(item, comment)


def _comment(item: Item, comment_id: int) -> Comment:
    return get_object_or_404(Comment.objects.select_related("author"), pk=comment_id, item=item)


@require_POST
def comment_reply(request, slug, item_id, comment_id):
    consultation, item = public.get_item(request, slug, item_id)
    parent = _comment(item, comment_id)
    form = CommentForm(request.POST, auto_id=f"reply{parent.pk}_%s", body_label=_("Your reply"))
    try:
        debate.refuse_reply_unless_allowed(request.user, parent)
        if not form.is_valid():
            return _invalid(request, consultation, item, key=("reply", parent.pk), form=form)
        comment = debate.post_comment(
            request.user,
            item,
            form.cleaned_data["body"],
            form.cleaned_data["stance"],
            parent=parent,
        )
    except Refused as refusal:
        # A deleted comment shows no reply form to put the refusal next to.
        shown = None if parent.is_deleted else form
        return _refused(request, consultation, item, refusal, key=("reply", parent.pk), form=shown)
    _done(request, _("Your reply has been published."), f"comment-{comment.pk}")
    return _back_to_comment(item, comment)


@require_POST
def comment_edit(request, slug, item_id, comment_id):
    consultation, item = public.get_item(request, slug, item_id)
    comment = _comment(item, comment_id)
    form = CommentForm(request.POST, auto_id=f"edit{comment.pk}_%s")
    try:
        debate.refuse_edit_unless_allowed(request.user, comment)
        if not form.is_valid():
            return _invalid(request, consultation, item, key=("edit", comment.pk), form=form)
        debate.edit_comment(
            request.user, comment, form.cleaned_data["body"], form.cleaned_data["stance"] or None
        )
    except Refused as refusal:
        return _refused(request, consultation, item, refusal, key=("edit", comment.pk), form=form)
    _done(request, _("Your comment has been updated."), f"comment-{comment.pk}")
    return _back_to_comment(item, comment)


@require_POST
def comment_delete(request, slug, item_id, comment_id):
    consultation, item = public.get_item(request, slug, item_id)
    comment = _comment(item, comment_id)
    try:
        debate.delete_comment(request.user, comment)
    except Refused as refusal:
        return _refused(request, consultation, item, refusal)
    _done(request, _("Your comment has been deleted."), f"comment-{comment.pk}")
    return _back_to_comment(item, comment)


@require_POST
def comment_useful(request, slug, item_id, comment_id):
    consultation, item = public.get_item(request, slug, item_id)
    comment = _comment(item, comment_id)
    try:
        marked = debate.toggle_useful(request.user, comment)
    except Refused as refusal:
        return _refused(request, consultation, item, refusal)
    _done(
        request,
        _("You marked this comment as useful.") if marked else _("Your “useful” mark is removed."),
        f"comment-{comment.pk}",
    )
    return _back_to_comment(item, comment)


def _back_to_ranking(consultation: Consultation) -> HttpResponseRedirect:
    return redirect(
        reverse("consultation:ranking", kwargs={"slug": consultation.slug}) + "#ranking-done"
    )


def ranking(request, slug):
    consultation = public.get_consultation(request, slug)
    if not consultation.ranking_enabled:
        return redirect(consultation)
    user = request.user
    ballot = None
    if user.is_authenticated:
        ballot = Ballot.objects.filter(consultation=consultation, user=user).first()
    ballot_ids = ballot.ranked_item_ids() if ballot else []
    items = list(consultation.items.select_related("theme"))
    status = 200
    form = RankingForm(consultation=consultation, items=items, ballot_ids=ballot_ids)
    if request.method == "POST":
        form = RankingForm(request.POST, consultation=consultation, items=items)
        try:
            if "withdraw" in request.POST:
                voting.withdraw_ballot(user, consultation)  # (it asks)
                _done(request, _("Your ranking has been withdrawn."), "ranking")
                return _back_to_ranking(consultation)
            if form.is_valid():
                voting.submit_ballot(user, consultation, form.item_ids())  # (it asks too)
                _done(request, _("Your ranking has been recorded."), "ranking")
                return _back_to_ranking(consultation)
            _refuse_first(permissions.can_rank, user, consultation)
            status = 422
        except Refused as refusal:
            status = refusal.status
            if isinstance(refusal, NotAllowed):
                messages.error(request, refusal.message)
            else:
                _attach_ranking_refusal(form, refusal, consultation.ranking_size)
    context = public.consultation_context(request, consultation)
    by_id = {item.pk: item for item in items}
    context.update(
        {
            "form": form,
            "can_rank": permissions.can_rank(user, consultation),
            "ballot": ballot,
            "ballot_items": [by_id[pk] for pk in ballot_ids if pk in by_id],
            "result_rows": [
                {"item": item, "ranks": context["tallies"][item.pk]["ranks"]}
                for item in items
                if item.pk in context["tallies"]
            ],
            "ranks_broken_down": small_groups.may_break_down(context["counts"]["ballots"]),
        }
    )
    return render(request, "consultation/participation/ranking.html", context, status=status)


def _attach_ranking_refusal(form, refusal, k):
    """The "too many" refusal goes next to the fields past the K-th; the rest above the form."""
    if refusal.code == "too_many_items":
        for name, _item_id in form.ranked_fields()[k:]:
            form.add_error(name, str(refusal.message))
        return
    attach_refusal(form, refusal)


@participant_required
def my_participation(request):
    groups = queries.my_participation(request.user)
    for group in groups:
        consultation = group["consultation"]
        group["open"] = consultation.accepts_participation()
        group["ballot_items"] = (
            [entry.item for entry in group["ballot"].entries.all()] if group["ballot"] else []
        )
    return render(request, "consultation/participation/my_participation.html", {"groups": groups})
