"""Compute results: final ones from the open-data files, provisional ones from live counters.

The one module that writes ``ComputedResult``. *Final* results (once closed) are computed
from the open-data files, never from the database directly: the export is written first
(``consultation.results.opendata``), hashed, then each enabled counting method reads the
ballot file back through ``consultation.counting.opendata.load_profile``. So the numbers on
the site are, by construction, what anyone recounts from the download. *Provisional*
results (open, live-results consultations) come from the live counters (Borda from the
rank counters) and the live pairwise matrix (``consultation.live``), and instant-runoff
from the live ledger of ballots (or one read of the rankings, ``ranking_reads``, when the
live view is not at hand); they are never exported nor published.

The published document (``results.json``, format ``agora-results/1``) is described in
docs/open-data.md; its ``methods`` entries are ``consultation.counting`` ``Result.to_dict()``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from consultation.counting import (
    JSON_OPTIONS,
    METHODS,
    GradeProfile,
    RankingProfile,
    VoteProfile,
    copeland,
    schulze,
    ties,
)
from consultation.counting import opendata as formats
from consultation.counting.borda import borda_from_positions
from consultation.counting.version import counting_version
from consultation.errors import Conflict, Invalid
from consultation.live import counters, stores
from consultation.models import (
    ComputedResult,
    Consultation,
    Membership,
    Vote,
)
from consultation.organising.card import card_document
from consultation.results import opendata, ranking_reads, small_groups

logger = logging.getLogger(__name__)

FORMAT = "agora-results/1"
FINAL = ComputedResult.Kind.FINAL
PROVISIONAL = ComputedResult.Kind.PROVISIONAL
Status = Consultation.Status
# counting-method kind ("ranking", "grades", "votes") -> open-data kind ("rankings"...)
DATA_KIND = {method_kind: kind for kind, (_files, method_kind, _on) in opendata.KINDS.items()}
MATRIX_METHODS = {"schulze": schulze, "copeland": copeland}
# Test-only: seconds to sleep between the phases of a computation, so that a test can
# kill a worker mid-task (tests/results/test_worker_killed.py). Unset in production.
PAUSE_ENV = "AGORA_TEST_RESULTS_PAUSE"


def dumps(document: dict) -> str:
    """The canonical text of a JSON document we publish (``counting.opendata.dump_json``)."""
    return json.dumps(document, **JSON_OPTIONS) + "\n"


def data_kind(method: str) -> str:
    """The open-data kind the counting method ``method`` counts: rankings, grades or votes."""
    return DATA_KIND[METHODS[method].kind]


def enabled_methods(consultation: Consultation) -> list[str]:
    """Names of the counting methods that apply to the consultation's enabled modes."""
    kinds = set(opendata.enabled_kinds(consultation))
    return [name for name in METHODS if data_kind(name) in kinds]


def _pause(phase: str) -> None:
    delay = os.environ.get(PAUSE_ENV)
    if delay:
        logger.warning("test pause after %s (%s s)", phase, delay)
        time.sleep(float(delay))


# --- computing ---------------------------------------------------------------------------


def compute_results(consultation_id: int, kind: str) -> ComputedResult | None:
    """Compute and store the consultation's results of ``kind`` ("final" or "provisional").

    Idempotent: one row per (consultation, kind), updated in place, and left untouched
    (``computed_at`` included) when nothing changed; the returned row carries
    ``.changed``. Final results need a closed (or published) consultation, provisional
    ones an open one: otherwise ``Conflict``. None if the consultation no longer exists.
    Storing new final results e-mails the organisers a link to review them.
    """
    consultation = Consultation.objects.filter(pk=consultation_id).first()
    if consultation is None:
        return None
    if kind == FINAL:
        if not consultation.is_finished:
            raise Conflict("not_closed", _("Final results are computed once the vote is closed."))
        document, manifest, directory = _compute_final(consultation)
        return _store(consultation, FINAL, document, manifest, directory)
    if kind == PROVISIONAL:
        if consultation.status != Status.OPEN:
            raise Conflict("not_open", _("Provisional results are computed while the vote runs."))
        return _store(consultation, PROVISIONAL, _compute_provisional(consultation), None, "")
    raise Invalid("invalid_kind", _("Unknown kind of results."))


def _compute_final(consultation: Consultation) -> tuple[dict, dict, str]:
    scratch = opendata.fresh_directory(consultation)
    try:
        export = opendata.build(consultation, scratch)
        _pause("export")
        methods: dict[str, Any] = {}
        profiles: dict[str, Any] = {}
        card = card_document(consultation)
        computed_from = {
            export.ballot_files[k]: export.hashes[export.ballot_files[k]]
            for k in export.ballot_files
        }
        # The declared draw's seed: the frozen card and the ballots, both published.
        seed = ties.draw_seed(card, computed_from)
        for name in enabled_methods(consultation):
            kind = data_kind(name)
            if kind not in export.totals:
                continue  # withheld: fewer ballots than the small-group threshold
            if kind not in profiles:
                profiles[kind] = formats.load_profile(scratch / export.ballot_files[kind])
            methods[name] = METHODS[name].compute(profiles[kind], seed).to_dict()
        _pause("count")
        document = {
            "format": FORMAT,
            "consultation": consultation.slug,
            "kind": str(FINAL),
            "computed_from": computed_from,
            "card": card,
            "draw_seed": seed,
            "counting_version": counting_version(),
            "totals": export.totals,
            "withheld": export.withheld,
            "methods": methods,
        }
        manifest = {"files": {name: export.hashes[name] for name in sorted(export.hashes)}}
        digest = hashlib.sha256(dumps({"manifest": manifest, "results": document}).encode())
        target = opendata.consultation_dir(consultation) / "computed" / digest.hexdigest()[:20]
        target.parent.mkdir(parents=True, exist_ok=True)
        opendata.settle(scratch, target)
    except BaseException:
        opendata.discard(scratch)
        raise
    return document, manifest, str(target.relative_to(settings.MEDIA_ROOT))


def _small_groups_left_out(kind: str, rows: dict[int, list[int]], withheld: dict) -> dict | None:
    """``rows`` (item -> counts) with the items of too few responses counted as having
    none, as the open data leaves them out; None when no item has enough. Records what
    it left out in ``withheld`` (the final document's shape)."""
    small = {pk: sum(row) for pk, row in rows.items() if not small_groups.may_break_down(sum(row))}
    if len(small) == len(rows):
        withheld[kind] = {"reason": opendata.SMALL_GROUP, "threshold": small_groups.threshold()}
        return None
    listed = {str(pk): n for pk, n in sorted(small.items()) if n}
    if listed:
        withheld[kind] = {
            "reason": opendata.SMALL_GROUP,
            "threshold": small_groups.threshold(),
            "items": listed,
        }
    return {pk: [0] * len(row) if pk in small else row for pk, row in rows.items()}


def _compute_provisional(consultation: Consultation) -> dict:
    """Counted from the live counters, within the small-group rule the open data follows
    (``consultation.results.small_groups``): an order of the items must not give away the few
    ballots it was counted from."""
    candidates = tuple(item.pk for item in opendata.items_of(consultation))
    counts, _participants = counters.current_counts(consultation)
    card = card_document(consultation)
    seed = ties.draw_seed(card, {})  # no ballot file yet: the card alone
    methods: dict[str, Any] = {}
    withheld: dict[str, dict] = {}
    kinds = opendata.enabled_kinds(consultation)
    shown: dict[str, Any] = {}
    if "votes" in kinds:
        rows = {
            i: [counts.get(stores.vote_field(i, c), 0) for c in Vote.Choice.values]
            for i in candidates
        }
        shown["votes"] = _small_groups_left_out("votes", rows, withheld)
    if "grades" in kinds:
        scale = range(consultation.grade_scale)
        rows = {i: [counts.get(stores.grade_field(i, g), 0) for g in scale] for i in candidates}
        shown["grades"] = _small_groups_left_out("grades", rows, withheld)
    if "rankings" in kinds and not small_groups.may_break_down(counts.get("ballots", 0)):
        shown["rankings"] = None
        withheld["rankings"] = {
            "reason": opendata.SMALL_GROUP,
            "threshold": small_groups.threshold(),
        }

    # Read at most once each, and only if a method needs them.
    @cache
    def live_matrix() -> stores.LiveMatrix | None:
        return counters.pairwise_matrix(consultation)

    @cache
    def rankings() -> RankingProfile:
        # The live view's ledger of ballots, as the counters and the matrix counted them;
        # the database when the view is not at hand.
        live = counters.live_ranking_profile(consultation)
        if live is not None and live.candidates == candidates:
            return live
        return ranking_reads.ranking_profile(consultation, candidates)

    for name in enabled_methods(consultation):
        kind = METHODS[name].kind
        if shown.get(data_kind(name), True) is None:
            continue  # a small group: see withheld
        if kind == "votes":
            profile: Any = VoteProfile(
                candidates, np.array([shown["votes"][i] for i in candidates])
            )
        elif kind == "grades":
            profile = GradeProfile(
                candidates,
                consultation.grade_scale,
                np.array([shown["grades"][i] for i in candidates]),
            )
        elif name == "borda":
            # The live rank counters are Borda's whole input: no ballot is read.
            positions = np.array(
                [
                    [counts.get(stores.rank_field(i, r), 0) for i in candidates]
                    for r in range(1, consultation.ranking_size + 1)
                ],
                dtype=np.int64,
            )
            methods[name] = borda_from_positions(
                candidates, positions, counts.get("ballots", 0), seed=seed
            ).to_dict()
            continue
        elif name in MATRIX_METHODS and (matrix := live_matrix()) is not None:
            # One read of the live matrix instead of every ballot.
            methods[name] = MATRIX_METHODS[name](
                matrix.matrix, matrix.candidates, counts.get("ballots", 0), seed=seed
            ).to_dict()
            continue
        else:
            profile = rankings()
        methods[name] = METHODS[name].compute(profile, seed).to_dict()
    return {
        "format": FORMAT,
        "consultation": consultation.slug,
        "kind": str(PROVISIONAL),
        "min_group": small_groups.threshold(),
        "card": card,
        "draw_seed": seed,
        "withheld": {kind: withheld[kind] for kind in sorted(withheld)},
        "methods": methods,
    }


def _store(
    consultation: Consultation, kind: str, document: dict, manifest: dict | None, directory: str
) -> ComputedResult | None:
    text = dumps(document)
    manifest_text = dumps(manifest) if manifest is not None else ""
    with transaction.atomic():
        # Serialises with publish(), which copies the final files under the same lock.
        if Consultation.objects.select_for_update().filter(pk=consultation.pk).first() is None:
            if directory:
                opendata.discard(Path(settings.MEDIA_ROOT) / directory)
            return None  # deleted while we counted
        row = (
            ComputedResult.objects.select_for_update()
            .filter(consultation=consultation, kind=kind)
            .first()
        )
        previous_directory = row.directory if row else ""
        if row is None:
            row = ComputedResult.objects.create(
                consultation=consultation,
                kind=kind,
                results_json=text,
                manifest_json=manifest_text,
                directory=directory,
            )
            changed = True
        else:
            changed = (row.results_json, row.manifest_json, row.directory) != (
                text,
                manifest_text,
                directory,
            )
            if changed:
                row.results_json, row.manifest_json, row.directory = text, manifest_text, directory
                row.computed_at = timezone.now()
                row.save(
                    update_fields=["results_json", "manifest_json", "directory", "computed_at"]
                )
        if kind == FINAL:
            ComputedResult.objects.filter(consultation=consultation, kind=PROVISIONAL).delete()
            if changed:
                _notify_organisers(consultation)
        if previous_directory and previous_directory != directory:
            old = Path(settings.MEDIA_ROOT) / previous_directory
            transaction.on_commit(lambda: opendata.discard(old))
    row.changed = changed
    return row


def _notify_organisers(consultation: Consultation) -> None:
    """Queue one e-mail per organiser (in their language) once the transaction commits."""
    from django.core.mail import EmailMessage

    from accounts import emails

    link = settings.SITE_URL + reverse("organiser:results", kwargs={"slug": consultation.slug})
    organisers = (
        Membership.objects.filter(
            consultation=consultation, role=Membership.Role.ORGANISER, user__is_active=True
        )
        .select_related("user")
        .order_by("user_id")
    )
    for membership in organisers:
        user = membership.user
        with translation.override(user.preferred_language or settings.LANGUAGE_CODE):
            context = {
                "consultation": consultation,
                "user": user,
                "link": link,
                "SITE_NAME": settings.SITE_NAME,
                "min_group": settings.OPEN_DATA_MIN_GROUP,
            }
            subject = _("Results of “%(title)s” are ready for your review") % {
                "title": consultation.display_title
            }
            body = render_to_string("consultation/emails/results_ready.txt", context)
        message = EmailMessage(
            f"[{settings.SITE_NAME}] {subject}", body, settings.DEFAULT_FROM_EMAIL, [user.email]
        )
        emails.send_later(message)


def due_computations() -> dict[str, list[int]]:
    """Consultation ids needing a computation: provisional (open with live results) and
    final (closed or published, final results missing: the job queued at closing was lost)."""
    provisional = Consultation.objects.open().filter(
        results_visibility=Consultation.ResultsVisibility.LIVE
    )
    missing = Consultation.objects.finished().exclude(computed_results__kind=FINAL)
    return {
        "provisional": list(provisional.values_list("pk", flat=True)),
        "final": list(missing.values_list("pk", flat=True)),
    }
