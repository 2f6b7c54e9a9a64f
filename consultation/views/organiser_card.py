"""The organisers declare the rule before anyone votes (/organisation/<slug>/regle/): a thin
view over ``organising.card.update_card``. Once the consultation has opened the page shows
the frozen card and no form (docs/decisions/0035-declared-rule.md).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.decorators import mfa_required
from consultation import permissions
from consultation.errors import Refused
from consultation.organising import card
from consultation.organising.forms import CardForm
from consultation.views.organiser import managed_consultation, organiser_page


@login_required
@mfa_required
@require_http_methods(["GET", "POST"])
def card_page(request: HttpRequest, slug: str) -> HttpResponse:
    consultation = managed_consultation(request, slug)
    editable = permissions.can_edit_card(request.user, consultation)
    form = CardForm(request.POST or None, consultation=consultation) if editable else None
    status = 200
    if request.method == "POST":
        if form is None:
            status = 409
            messages.error(
                request, _("The consultation card is frozen once the consultation has opened.")
            )
        elif not form.is_valid():
            status = 422
        else:
            try:
                card.update_card(
                    request.user,
                    consultation,
                    deciding_method=form.cleaned_data["deciding_method"],
                    tie_break=form.cleaned_data["tie_break"],
                    quorum=form.cleaned_data["quorum"],
                )
            except Refused as refusal:
                form.add_error(None, refusal.message)
                status = refusal.status
            else:
                messages.success(request, _("The consultation card is saved."))
                return redirect("organiser:card", slug=consultation.slug)
    current = card.card_of(consultation)
    return organiser_page(
        request,
        "card.html",
        consultation,
        status=status,
        form=form,
        card=current,
        rows=card.rows(card.card_document(consultation, current)),
    )
