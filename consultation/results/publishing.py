"""Official responses and publication: the one module that writes ``OfficialResponse`` and
``Publication``.

- ``set_official_response(user, item, text, text_en)``: drafts the organisers' answer to an
  item; the next publication freezes it (published versions never change).
- ``publish(consultation, user, note=...)``: freezes the final results, the official
  responses and the manifest into version n + 1 (``closed -> published`` the first time).
"""

from __future__ import annotations

import logging
import shutil
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.types import Person
from consultation import jobs, permissions
from consultation.counting import opendata as formats
from consultation.errors import Conflict, Invalid
from consultation.live import events
from consultation.models import (
    ComputedResult,
    Consultation,
    Item,
    OfficialResponse,
    Publication,
)
from consultation.notices import audience
from consultation.organising import lifecycle
from consultation.results import opendata, publication_files
from consultation.results.computing import FINAL, dumps

logger = logging.getLogger(__name__)
Status = Consultation.Status

MAX_NOTE = 2000
CARD_FILE = "card.json"
MAX_RESPONSE = 10_000


# --- official responses ------------------------------------------------------------------


def set_official_response(
    user: Person, item: Item, text: str, text_en: str = ""
) -> OfficialResponse | None:
    """Write (or, with an empty ``text``, remove) the organisers' response to ``item``.

    Allowed once the vote is closed: while ``closed`` (before the first publication) and
    while ``published`` (between versions). A published version keeps the text it froze;
    a change shows in the next version only. French is required, English optional.
    """
    consultation = item.consultation
    user = permissions.require_manager(user, consultation)
    if not permissions.can_respond(user, consultation):
        raise Conflict("not_closed", _("Official responses are written once the vote is closed."))
    text, text_en = (text or "").strip(), (text_en or "").strip()
    if len(text) > MAX_RESPONSE or len(text_en) > MAX_RESPONSE:
        raise Invalid(
            "too_long", _("A response has at most %(n)d characters.") % {"n": MAX_RESPONSE}
        )
    if text_en and not text:
        raise Invalid("french_required", _("Write the response in French; English is optional."))
    with transaction.atomic():
        events.changed(consultation)  # the anonymous page cache (decision 0039)
        if not text:
            OfficialResponse.objects.filter(item=item).delete()
            return None
        response, _created = OfficialResponse.objects.update_or_create(
            item=item,
            defaults={
                "text": text,
                "text_en": text_en,
                "author": user,
                "updated_at": timezone.now(),
            },
        )
    return response


def official_responses(consultation: Consultation) -> dict[int, OfficialResponse]:
    """The current (draft) responses, by item id: what the next publication will freeze."""
    responses = OfficialResponse.objects.filter(item__consultation=consultation).select_related(
        "author"
    )
    return {response.item_id: response for response in responses}


def _frozen_responses(consultation: Consultation) -> dict[str, dict[str, str]]:
    responses = official_responses(consultation)
    return {
        str(item.pk): _frozen_response(responses[item.pk])
        for item in opendata.items_of(consultation)
        if item.pk in responses
    }


def _frozen_response(response: OfficialResponse) -> dict[str, str]:
    return {
        "text": response.text,
        "text_en": response.text_en,
        "author": response.author.display_name if response.author else "",
        "updated_at": response.updated_at.isoformat(),
    }


# --- publishing --------------------------------------------------------------------------


def publish(consultation: Consultation, user: Person, *, note: str = "") -> Publication:
    """Publish the final results as a new version; return it.

    The first publication moves the consultation from ``closed`` to ``published``
    (through ``lifecycle.transition``); each later one is version n + 1 and needs a
    ``note`` saying why. The files (ballots, items, the moderation log, ``results.json``,
    ``manifest.json``) go to ``MEDIA_ROOT/opendata/<slug>/v<n>/``; the publication row
    keeps a frozen copy of ``results.json`` and ``manifest.json`` and is never changed
    afterwards.
    """
    user = permissions.require_manager(user, consultation)
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise Invalid("too_long", _("The note has at most %(n)d characters.") % {"n": MAX_NOTE})
    with transaction.atomic():
        # The lock makes version numbers sequential and keeps a recomputation from
        # replacing the final files while they are copied.
        locked = Consultation.objects.select_for_update().get(pk=consultation.pk)
        if not permissions.can_publish(user, locked):
            raise Conflict("not_closed", _("Results are published once the vote is closed."))
        computed = ComputedResult.objects.filter(consultation=locked, kind=FINAL).first()
        if computed is None:
            raise Conflict("results_not_computed", _("The final results are not computed yet."))
        latest = Publication.objects.filter(consultation=locked).latest_first().first()
        if latest is not None and not note:
            raise Invalid("note_required", _("Say why you publish a new version of the results."))
        version = latest.version + 1 if latest else 1
        published_at = timezone.now()
        counted = computed.results
        document = {
            **{k: v for k, v in counted.items() if k in ("format", "consultation")},
            "version": version,
            "published_at": published_at.isoformat(),
            "note": note,
            **{k: v for k, v in counted.items() if k not in ("format", "consultation")},
            "official_responses": _frozen_responses(locked),
        }
        results_text, manifest_text = _write_version(locked, computed, version, document)
        if locked.status == Status.CLOSED:
            lifecycle.transition(locked.pk, Status.PUBLISHED)
        publication = Publication.objects.create(
            consultation=locked,
            version=version,
            published_by=user,
            published_by_name=user.display_name or "",
            published_at=published_at,
            note=note,
            results_json=results_text,
            manifest_json=manifest_text,
        )
        # Followers hear of the new version; the people who took part, what became of it.
        jobs.queue_audience_notices(audience.RESULTS, locked.pk, publication.pk)
        events.changed(locked, listed=True)  # the anonymous page cache (decision 0039)
    logger.info("consultation %s: results v%d published", locked.slug, version)
    return publication


def _write_version(
    consultation: Consultation, computed: ComputedResult, version: int, document: dict
) -> tuple[str, str]:
    """Write ``v<version>/`` (scratch, then rename) and return results and manifest texts."""
    source = Path(settings.MEDIA_ROOT) / computed.directory
    scratch = opendata.fresh_directory(consultation)
    target = opendata.version_dir(consultation, version)
    try:
        shutil.copytree(source, scratch)
        # The moderation log as it stands at publication: each version freezes its own.
        opendata.write_moderation_log(consultation, scratch)
        results_text = dumps(document)
        (scratch / "results.json").write_text(results_text, encoding="utf-8")
        if "card" in document:
            # The rule declared before the vote, as its own file: hashed in the manifest.
            (scratch / CARD_FILE).write_text(dumps(document["card"]), encoding="utf-8")
        # Comments, participation over time, the licence, the table schemas, then the data
        # package and the DCAT-AP record, which describe and hash every file above.
        publication_files.write(
            consultation,
            scratch,
            version=version,
            published_at=datetime.fromisoformat(document["published_at"]),
        )
        names = sorted(p.name for p in scratch.iterdir())
        manifest = {
            **formats.build_manifest(scratch, names),
            "consultation": consultation.slug,
            "version": version,
            "withheld": _withheld_for_manifest(document["withheld"]),
        }
        manifest_text = dumps(manifest)
        (scratch / "manifest.json").write_text(manifest_text, encoding="utf-8")
        # No publication row has this number yet (we hold the lock): anything already
        # there is left over from a publication that rolled back.
        if target.exists():
            shutil.rmtree(target)
        scratch.rename(target)
    except BaseException:
        opendata.discard(scratch)
        raise
    return results_text, manifest_text


WITHHELD_DETAIL = {
    "kind": "fewer than {threshold} participants: ballot file withheld, only the total "
    "is published",
    "items": "items with fewer than {threshold} responses are not broken down: their "
    "responses are left out of the ballot file, only their totals are published",
}


def _withheld_for_manifest(withheld: dict) -> dict:
    """The small-group decisions, with a sentence for people reading the manifest."""
    out = {}
    for kind, decision in withheld.items():
        which = "items" if "items" in decision else "kind"
        files = opendata.KINDS[kind][0]
        out[kind] = {
            **decision,
            "files": [] if which == "items" else list(files),
            "detail": WITHHELD_DETAIL[which].format(threshold=decision["threshold"]),
        }
    return out
