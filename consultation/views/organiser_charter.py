"""The organisers word their consultation's moderation charter (/organisation/<slug>/charte/):
a thin view over ``moderation.charter.save_charter``. Before the consultation opens, saving
rewrites version 1; once it has opened, each change is a new version (the page says which).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.decorators import mfa_required
from consultation.errors import Refused
from consultation.models import Charter
from consultation.moderation import charter
from consultation.organising.forms import CharterForm
from consultation.views.organiser import managed_consultation, organiser_page


@login_required
@mfa_required
@require_http_methods(["GET", "POST"])
def charter_page(request: HttpRequest, slug: str) -> HttpResponse:
    consultation = managed_consultation(request, slug)
    # The form shows the organisers' own wording; an empty field reads as the default one.
    latest = Charter.objects.filter(consultation=consultation).order_by("-version").first()
    form = CharterForm(
        request.POST or None,
        saved_intro=latest.intro if latest is not None else "",
        saved_rules=latest.rules if latest is not None else {},
    )
    status = 200
    if request.method == "POST":
        status = 422 if form.errors else 200
        if form.is_valid():
            intro, rules = form.wording()
            before = latest.version if latest is not None else 0
            unchanged = latest is not None and (latest.intro, latest.rules) == (intro, rules)
            try:
                saved = charter.save_charter(request.user, consultation, intro, rules)
            except Refused as refusal:
                form.add_error(None, refusal.message)
                status = refusal.status
            else:
                if unchanged:
                    messages.info(request, _("Nothing changed: the charter stays as it was."))
                elif saved.version > before and before > 0:
                    messages.success(
                        request,
                        _("The charter is saved as version %(version)d.")
                        % {"version": saved.version},
                    )
                else:
                    messages.success(request, _("The charter is saved."))
                return redirect("organiser:charter", slug=consultation.slug)
    return organiser_page(
        request,
        "charter.html",
        consultation,
        status=status,
        form=form,
        current=charter.current(consultation),
        versions=charter.versions(consultation),
    )
