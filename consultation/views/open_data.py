"""Downloads of published open data: /consultations/<slug>/donnees/<version>/<file>, and
the site's DCAT-AP catalogue of them, /donnees/catalogue.jsonld.

Only files listed in a published version's manifest (and the manifest itself) are
served; anything else, and any version not published, is a 404.
"""

import json

from django.http import FileResponse, Http404, HttpResponse
from django.views.decorators.http import require_safe

from consultation.results import opendata, publication_files, reading
from consultation.views.public import get_consultation

CONTENT_TYPES = {
    ".csv": "text/csv; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".jsonld": "application/ld+json; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}


@require_safe
def download(request, slug, version, filename):
    consultation = get_consultation(request, slug)
    if filename == "manifest.json":
        if reading.published_results(consultation, version) is None:
            raise Http404
        path = opendata.version_dir(consultation, version) / filename
        path = path if path.is_file() else None
    else:
        path = reading.open_data_file(consultation, version, filename)
    if path is None:
        raise Http404
    suffix = path.suffix
    response = FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=f"{consultation.slug}-v{version}-{filename}",
        content_type=CONTENT_TYPES.get(suffix, "application/octet-stream"),
    )
    # Published versions never change: let caches keep them.
    response["Cache-Control"] = "public, max-age=86400, immutable"
    return response


@require_safe
def catalog(request):
    """The site's DCAT-AP catalogue, for data portals to harvest (docs/open-data.md)."""
    document = publication_files.catalog()
    response = HttpResponse(
        json.dumps(document, ensure_ascii=False, indent=2) + "\n",
        content_type=CONTENT_TYPES[".jsonld"],
    )
    response["Cache-Control"] = "public, max-age=3600"
    return response
