"""The organiser space (/organisation/): thin views over ``organising`` and ``lifecycle``
(the item pages are in ``organiser_items``). The whole namespace needs MFA
(accounts.middleware); each page checks ``can_manage`` for the consultation it touches.

Refusals from the domain are shown on the page they came from, next to the field
they concern when there is one, with their HTTP status (409 for a state conflict).
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.db.models import Count
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.decorators import mfa_required
from consultation import permissions
from consultation.errors import Refused
from consultation.models import Comment, Consultation, Membership
from consultation.organising import consultations, lifecycle
from consultation.organising.forms import (
    CloseEarlyForm,
    ConsultationForm,
    MemberForm,
    ScheduleForm,
)

Status = Consultation.Status
TEMPLATES = "consultation/organiser/"

# Lifecycle refusals that concern one field of the scheduling form.
SCHEDULE_FIELD_OF = {"opens_in_past": "opens_at", "closes_in_past": "closes_at"}


def managed_consultation(request: HttpRequest, slug: str) -> Consultation:
    consultation = get_object_or_404(Consultation, slug=slug)
    if not permissions.can_manage(request.user, consultation):
        if not permissions.can_view(request.user, consultation):
            # A draft is answered as an unknown address: a 403 would tell it exists.
            raise Http404
        raise PermissionDenied
    return consultation


def organiser_page(request, template, consultation, status=200, **context):
    context["consultation"] = consultation
    context["preparing"] = consultations.is_preparing(consultation)
    return render(request, TEMPLATES + template, context, status=status)


@login_required
@mfa_required
def dashboard(request):
    user = request.user
    if not permissions.has_organiser_space(user):
        raise PermissionDenied
    managed = permissions.managed_consultations(user)
    return render(
        request,
        TEMPLATES + "dashboard.html",
        {
            "consultations": managed.annotate(item_count=Count("items")).order_by("-created_at"),
            "can_create": permissions.can_create_consultation(user),
        },
    )


@login_required
@mfa_required
@require_http_methods(["GET", "POST"])
def create(request):
    if not permissions.can_create_consultation(request.user):
        raise PermissionDenied
    form = ConsultationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            consultation = consultations.create_consultation(
                request.user, form.consultation_fields(), form.theme_list()
            )
        except IntegrityError:  # the same address taken a moment ago by someone else
            form.add_error("slug", _("This address is already used by another consultation."))
        else:
            messages.success(request, _("Consultation created as a draft."))
            return redirect("organiser:manage", slug=consultation.slug)
    return render(
        request, TEMPLATES + "consultation_form.html", {"form": form}, status=form_status(form)
    )


def form_status(form: forms.BaseForm) -> int:
    """422 for a submitted form with errors (the organiser pages' convention), else 200."""
    return 422 if form.is_bound and form.errors else 200


@login_required
@mfa_required
def manage(request, slug):
    consultation = managed_consultation(request, slug)
    return _overview(request, consultation)


def _overview(request, consultation, error=None, status=200):
    counts = {
        "items": consultation.items.count(),
        "themes": consultation.themes.count(),
        "comments": Comment.objects.filter(item__consultation=consultation).count(),
        "moderators": consultation.memberships.filter(role=Membership.Role.MODERATOR).count(),
    }
    return organiser_page(
        request,
        "manage.html",
        consultation,
        status=status,
        counts=counts,
        error=error,
        close_form=CloseEarlyForm() if consultation.status == Status.OPEN else None,
    )


@login_required
@mfa_required
@require_http_methods(["GET", "POST"])
def edit(request, slug):
    consultation = managed_consultation(request, slug)
    form = ConsultationForm(request.POST or None, instance=consultation)
    status = 200
    if request.method == "POST":
        status = form_status(form)
        if form.is_valid():
            try:
                consultation = consultations.update_consultation(
                    request.user, consultation, form.consultation_fields(), form.theme_list()
                )
            except Refused as refusal:
                form.add_error(None, refusal.message)
                status = refusal.status
            except IntegrityError:
                form.add_error("slug", _("This address is already used by another consultation."))
                status = 409
            else:
                messages.success(request, _("Changes saved."))
                return redirect("organiser:manage", slug=consultation.slug)
        consultation.refresh_from_db()  # the form wrote unsaved values on the instance
    return organiser_page(request, "consultation_form.html", consultation, status=status, form=form)


# --- Lifecycle -------------------------------------------------------------------------


@login_required
@mfa_required
@require_http_methods(["GET", "POST"])
def schedule(request, slug):
    consultation = managed_consultation(request, slug)
    form = ScheduleForm(
        request.POST or None,
        initial={"opens_at": consultation.opens_at, "closes_at": consultation.closes_at},
    )
    status = 200
    if request.method == "POST":
        status = form_status(form)
        if form.is_valid():
            try:
                consultations.reschedule(request.user, consultation, **form.cleaned_data)
            except Refused as refusal:
                form.add_error(SCHEDULE_FIELD_OF.get(refusal.code), refusal.message)
                status = refusal.status
                consultation.refresh_from_db()
            else:
                messages.success(request, _("The consultation is scheduled."))
                return redirect("organiser:manage", slug=consultation.slug)
    return organiser_page(request, "schedule.html", consultation, status=status, form=form)


def _transition(request, slug, action, success_message):
    consultation = managed_consultation(request, slug)
    try:
        action(consultation)
    except Refused as refusal:
        return _overview(request, consultation, error=refusal.message, status=refusal.status)
    messages.success(request, success_message)
    return redirect("organiser:manage", slug=consultation.slug)


@login_required
@mfa_required
@require_POST
def open_now(request, slug):
    return _transition(
        request,
        slug,
        lambda consultation: lifecycle.open_now(request.user, consultation),
        _("The consultation is open."),
    )


@login_required
@mfa_required
@require_POST
def back_to_draft(request, slug):
    return _transition(
        request,
        slug,
        lambda consultation: lifecycle.back_to_draft(request.user, consultation),
        _("The consultation is a draft again: it will not open on its own."),
    )


@login_required
@mfa_required
@require_http_methods(["GET", "POST"])
def close(request, slug):
    consultation = managed_consultation(request, slug)
    form = CloseEarlyForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = form_status(form)
        if form.is_valid():
            try:
                lifecycle.close_early(
                    request.user, consultation, reason=form.cleaned_data["reason"]
                )
            except Refused as refusal:
                form.add_error(None, refusal.message)
                status = refusal.status
            else:
                messages.success(request, _("The consultation is closed."))
                return redirect("organiser:manage", slug=consultation.slug)
    return organiser_page(request, "close.html", consultation, status=status, form=form)


# --- Team ------------------------------------------------------------------------------


@login_required
@mfa_required
@require_http_methods(["GET", "POST"])
def team(request, slug):
    consultation = managed_consultation(request, slug)
    form = MemberForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = form_status(form)
        if form.is_valid():
            try:
                consultations.add_member(
                    request.user,
                    consultation,
                    form.cleaned_data["email"],
                    form.cleaned_data["role"],
                )
            except Refused as refusal:
                form.add_error("email", refusal.message)
                status = refusal.status
            else:
                messages.success(request, _("Added to the team."))
                return redirect("organiser:team", slug=consultation.slug)
    return _team_page(request, consultation, form, status=status)


def _team_page(request, consultation, form, error=None, status=200):
    members = consultation.memberships.select_related("user").order_by("role", "created_at")
    return organiser_page(
        request, "team.html", consultation, status=status, form=form, members=members, error=error
    )


@login_required
@mfa_required
@require_POST
def team_remove(request, slug, membership_id):
    consultation = managed_consultation(request, slug)
    try:
        consultations.remove_member(request.user, consultation, membership_id)
    except Refused as refusal:
        return _team_page(
            request, consultation, MemberForm(), error=refusal.message, status=refusal.status
        )
    messages.success(request, _("Removed from the team."))
    if not permissions.can_manage(request.user, consultation):
        return redirect("organiser:dashboard")
    return redirect("organiser:team", slug=consultation.slug)
