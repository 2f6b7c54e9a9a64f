"""Results pages: the published results (every version), their printable report, the
counting methods' cards, and the organisers' review-and-publish page.

The public pages render a ``Publication``'s frozen ``results.json`` only, never a
recount (``consultation.results.display`` shapes it). The organiser pages call
``consultation.results`` (which checks its own predicates) and never count in the
request: "compute now" queues the job.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from accounts.decorators import mfa_required
from consultation import jobs, permissions
from consultation.counting import METHODS
from consultation.errors import Refused
from consultation.models import Consultation, Publication
from consultation.organising.forms import OfficialResponseForm, PublishForm
from consultation.results import display, publishing, reading, sections
from consultation.views.organiser import managed_consultation, organiser_page
from consultation.views.public import consultation_context, get_consultation

TEMPLATES = "consultation/results/"
# Domain refusals that concern one field of a form.
RESPONSE_FIELD_OF = {"french_required": "text", "too_long": "text"}
PUBLISH_FIELD_OF = {"note_required": "note", "too_long": "note"}


# --- Public pages ----------------------------------------------------------------------


def _published(request, consultation, version):
    """The publication asked for, or 404; None sends organisers to their review page."""
    if version is None and "version" in request.GET:
        try:
            version = int(request.GET["version"])
        except ValueError:
            raise Http404 from None
    publication = reading.published_results(consultation, version)
    if publication is None:
        if version is None and permissions.can_review_results(request.user, consultation):
            return None
        raise Http404
    return publication


def _public_context(
    request: HttpRequest, consultation: Consultation, publication: Publication
) -> dict:
    versions = reading.publication_versions(consultation)
    document = publication.results
    page = reverse("consultation:results_version", args=[consultation.slug, publication.version])
    return {
        "consultation": consultation,
        "publication": publication,
        "versions": versions,
        "latest": versions[0],
        "is_latest": versions[0].version == publication.version,
        "results": display.build(consultation, document),
        "files": _files(request, consultation, publication),
        "recounts": _recounts(document),
        "page_url": request.build_absolute_uri(page),
    }


def _files(
    request: HttpRequest, consultation: Consultation, publication: Publication
) -> list[dict]:
    files = []
    for entry in [*publication.manifest.get("files", []), {"name": "manifest.json"}]:
        url = reverse(
            "consultation:open_data",
            kwargs={
                "slug": consultation.slug,
                "version": publication.version,
                "filename": entry["name"],
            },
        )
        files.append({**entry, "url": url, "absolute_url": request.build_absolute_uri(url)})
    return files


def _recounts(document: dict) -> list[dict]:
    """The command that recounts each published method from its ballot file."""
    published = document.get("computed_from", {})
    return [
        {
            "method": name,
            "title": sections.method_title(name),
            "command": sections.recount_command(name),
        }
        for name in document.get("methods", {})
        if name in METHODS and sections.ballot_file(name) in published
    ]


def _published_page(request, slug, version, template, **extra):
    consultation = get_consultation(request, slug)
    if (
        version is None
        and "version" not in request.GET
        and reading.latest_version(consultation) is None
        and not permissions.can_review_results(request.user, consultation)
    ):
        # Nothing published yet: still a 404 (no results live here yet), but a page
        # saying when they will be, with what is already public.
        context = consultation_context(request, consultation)
        return render(request, TEMPLATES + "not_published.html", context, status=404)
    publication = _published(request, consultation, version)
    if publication is None:
        return redirect("organiser:results", slug=consultation.slug)
    context = {**_public_context(request, consultation, publication), **extra}
    return render(request, TEMPLATES + template, context)


@require_safe
def results_page(request, slug, version=None):
    return _published_page(request, slug, version, "page.html")


@require_safe
def report(request, slug, version=None):
    return _published_page(request, slug, version, "report.html", report=True)


@require_safe
def methods(request):
    cards = [
        {
            "name": name,
            "title": sections.method_title(name),
            "recount": sections.recount_command(name),
        }
        for name in METHODS
    ]
    return render(request, TEMPLATES + "methods.html", {"cards": cards})


# --- Organiser pages -------------------------------------------------------------------


def _review_page(request, consultation, *, status=200, error=None, bound=None, publish_form=None):
    bound = bound or {}
    try:
        review = reading.review_results(request.user, consultation)
    except Refused as refusal:
        return organiser_page(
            request, "results.html", consultation, status=refusal.status, error=refusal.message
        )
    drafts = {pk: {"text": r.text, "text_en": r.text_en} for pk, r in review.responses.items()}
    shaped = (
        display.build(consultation, review.results, prefix="review", responses=drafts)
        if review.results
        else None
    )
    forms = []
    for item in consultation.items.order_by("position", "pk"):
        response = review.responses.get(item.pk)
        form = bound.get(item.pk) or OfficialResponseForm(
            auto_id=f"response{item.pk}_%s",
            initial={"text": response.text, "text_en": response.text_en} if response else None,
        )
        forms.append({"item": item, "response": response, "form": form})
    new_version = review.latest is not None
    return organiser_page(
        request,
        "results.html",
        consultation,
        status=status,
        error=error,
        review=review,
        results=shaped,
        response_forms=forms,
        publish_form=publish_form or PublishForm(new_version=new_version),
        new_version=new_version,
        versions=reading.publication_versions(consultation),
    )


@login_required
@mfa_required
@require_safe
def review(request, slug):
    return _review_page(request, managed_consultation(request, slug))


@login_required
@mfa_required
@require_POST
def compute_now(request, slug):
    """Queue the final count (after the commit): the request never counts."""
    consultation = managed_consultation(request, slug)
    if not permissions.can_review_results(request.user, consultation):
        return _review_page(request, consultation)  # says why, with its status
    jobs.queue_final(consultation.pk)
    messages.success(
        request, _("The count is queued. Reload this page in a moment to see the results.")
    )
    return redirect("organiser:results", slug=consultation.slug)


@login_required
@mfa_required
@require_POST
def respond(request, slug, item_id):
    consultation = managed_consultation(request, slug)
    item = get_object_or_404(consultation.items, pk=item_id)
    item.consultation = consultation
    form = OfficialResponseForm(request.POST, auto_id=f"response{item.pk}_%s")
    if not form.is_valid():
        return _review_page(request, consultation, status=422, bound={item.pk: form})
    try:
        publishing.set_official_response(
            request.user, item, form.cleaned_data["text"], form.cleaned_data["text_en"]
        )
    except Refused as refusal:
        form.add_error(RESPONSE_FIELD_OF.get(refusal.code), refusal.message)
        return _review_page(request, consultation, status=refusal.status, bound={item.pk: form})
    messages.success(
        request,
        _("Response saved. It will be public with the next publication.")
        if form.cleaned_data["text"]
        else _("Response removed."),
    )
    url = reverse("organiser:results", kwargs={"slug": consultation.slug})
    return redirect(f"{url}#response-{item.pk}")


@login_required
@mfa_required
@require_POST
def publish(request, slug):
    consultation = managed_consultation(request, slug)
    new_version = reading.latest_version(consultation) is not None
    form = PublishForm(request.POST, new_version=new_version)
    if not form.is_valid():
        return _review_page(request, consultation, status=422, publish_form=form)
    try:
        publication = publishing.publish(consultation, request.user, note=form.cleaned_data["note"])
    except Refused as refusal:
        field = PUBLISH_FIELD_OF.get(refusal.code)
        form.add_error(field, refusal.message)
        return _review_page(request, consultation, status=refusal.status, publish_form=form)
    messages.success(
        request,
        _("Version %(version)d of the results is published.") % {"version": publication.version},
    )
    return redirect("organiser:results", slug=consultation.slug)
