"""The organiser space's item pages (/organisation/<slug>/mesures/): list, add, edit,
delete, move and import items. Thin views over ``organising.consultations`` and
``organising.importing``; the page helpers are ``organiser``'s.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from accounts.decorators import mfa_required
from consultation.errors import Refused
from consultation.organising import consultations, importing
from consultation.organising.forms import ImportForm, ItemForm
from consultation.views.organiser import form_status, managed_consultation, organiser_page


@login_required
@mfa_required
def items(request, slug):
    consultation = managed_consultation(request, slug)
    return _items_page(request, consultation)


def _items_page(request, consultation, error=None, status=200):
    return organiser_page(
        request,
        "items.html",
        consultation,
        status=status,
        error=error,
        items=consultation.items.select_related("theme"),
    )


@login_required
@mfa_required
@require_http_methods(["GET", "POST"])
def item_add(request, slug):
    consultation = managed_consultation(request, slug)
    return _item_form(request, consultation, None)


@login_required
@mfa_required
@require_http_methods(["GET", "POST"])
def item_edit(request, slug, item_id):
    consultation = managed_consultation(request, slug)
    item = get_object_or_404(consultation.items, pk=item_id)
    return _item_form(request, consultation, item)


def _item_form(request, consultation, item):
    form = ItemForm(request.POST or None, instance=item, consultation=consultation)
    status = 200
    if request.method == "POST":
        status = form_status(form)
        if form.is_valid():
            try:
                if item is None:
                    consultations.add_item(request.user, consultation, form.cleaned_data)
                else:
                    consultations.update_item(request.user, item, form.cleaned_data)
            except Refused as refusal:
                form.add_error(None, refusal.message)
                status = refusal.status
            else:
                messages.success(request, _("Item saved."))
                return redirect("organiser:items", slug=consultation.slug)
    return organiser_page(
        request, "item_form.html", consultation, status=status, form=form, item=item
    )


@login_required
@mfa_required
@require_http_methods(["GET", "POST"])
def item_delete(request, slug, item_id):
    consultation = managed_consultation(request, slug)
    item = get_object_or_404(consultation.items, pk=item_id)
    error, status = None, 200
    if request.method == "POST":
        try:
            consultations.delete_item(request.user, item)
        except Refused as refusal:
            error, status = refusal.message, refusal.status
        else:
            messages.success(request, _("Item deleted."))
            return redirect("organiser:items", slug=consultation.slug)
    return organiser_page(
        request, "item_delete.html", consultation, status=status, item=item, error=error
    )


@login_required
@mfa_required
@require_POST
def item_move(request, slug, item_id):
    consultation = managed_consultation(request, slug)
    item = get_object_or_404(consultation.items, pk=item_id)
    try:
        consultations.move_item(request.user, item, request.POST.get("direction", ""))
    except Refused as refusal:
        return _items_page(request, consultation, error=refusal.message, status=refusal.status)
    return redirect(reverse("organiser:items", kwargs={"slug": slug}) + f"#item-{item.pk}")


@login_required
@mfa_required
@require_http_methods(["GET", "POST"])
def import_items(request, slug):
    consultation = managed_consultation(request, slug)
    form = ImportForm(request.POST or None, request.FILES or None)
    report, error, status = None, None, 200
    if request.method == "POST":
        status = form_status(form)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                report = importing.import_items(
                    request.user, consultation, upload.name, upload.read()
                )
            except Refused as refusal:
                error, status = refusal.message, refusal.status
            else:
                if report.ok:
                    messages.success(
                        request,
                        ngettext(
                            "%(count)s item imported.",
                            "%(count)s items imported.",
                            report.imported,
                        )
                        % {"count": report.imported},
                    )
                    if report.themes_created:
                        messages.info(
                            request,
                            _("Themes created: %(names)s.")
                            % {"names": ", ".join(report.themes_created)},
                        )
                    return redirect("organiser:items", slug=consultation.slug)
                status = 422
    return organiser_page(
        request, "import.html", consultation, status=status, form=form, report=report, error=error
    )
